"""The 855 builder (mappings/x12/_855.py): golden output for AD/AC/RJ and each line status."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from mappings.x12._855 import Acknowledgment, LineDecision, LineStatus, bak02, build_855, number
from mappings.x12._outbound_check import outbound_problems
from tests.edi855_orders import NOW, envelope, order

GOLDEN_ACCEPTED = """\
ISA*00*          *00*          *ZZ*ORDERHUB       *ZZ*ACMERETAIL     *261204*0930*U*00401*000000007*0*P*>~
GS*PR*ORDERHUB*ACMERETAIL*20261204*0930*3*X*004010~
ST*855*0005~
BAK*00*AD*PO-855-1*20261201****S00042*20261204~
N1*ST*ACME DC 7*92*0007~
N1*BY*ACME Retail~
PO1*1*10*EA*4.5**VN*SKU-1*UP*012345678905~
ACK*IA*10*EA~
PO1*2*3*CA*12**VN*SKU-2~
ACK*IA*3*CA~
CTT*2*13~
SE*10*0005~
GE*1*3~
IEA*1*000000007~
"""


def test_all_lines_accepted_as_ordered_is_ad_with_every_line_ia():
    text = build_855(order(), Acknowledgment.accepted_as_ordered(our_reference="S00042"), envelope(), now=NOW)
    assert text == GOLDEN_ACCEPTED


def test_a_profile_may_ask_for_ac_when_all_lines_are_accepted():
    text = build_855(order(), Acknowledgment.accepted_as_ordered(), envelope(), now=NOW, accepted_code="AC")
    assert "BAK*00*AC*PO-855-1*20261201***" in text


def test_refused_order_is_rj_with_every_line_ir():
    text = build_855(order(), Acknowledgment.refused(), envelope(), now=NOW)
    lines = text.splitlines()
    assert "BAK*00*RJ*PO-855-1*20261201*****20261204~" in lines
    assert [s for s in lines if s.startswith("ACK")] == ["ACK*IR*10*EA~", "ACK*IR*3*CA~"]


def test_backorder_splits_a_line_into_accepted_and_backordered_with_the_ship_date():
    ack = Acknowledgment(lines={"1": (LineDecision(LineStatus.ACCEPTED, Decimal(6)),
                                      LineDecision(LineStatus.BACKORDERED, Decimal(4), dt.date(2026, 12, 20)))})
    text = build_855(order(), ack, envelope("005010"), now=NOW)
    body = text.splitlines()[2:-2]
    assert body == [
        "ST*855*0005~",
        "BAK*00*AC*PO-855-1*20261201*****20261204~",
        "N1*ST*ACME DC 7*92*0007~",
        "N1*BY*ACME Retail~",
        "PO1*1*10*EA*4.5**VN*SKU-1*UP*012345678905~",
        "ACK*IA*6*EA~",
        "ACK*IB*4*EA*068*20261220~",
        "PO1*2*3*CA*12**VN*SKU-2~",
        "ACK*IA*3*CA~",
        "CTT*2*13~",
        "SE*11*0005~",
    ]
    assert text.splitlines()[0].split("*")[12] == "00501"
    assert outbound_problems(text) == []


@pytest.mark.parametrize(("decision", "expected"), [
    (LineDecision(LineStatus.QUANTITY_CHANGED, Decimal(8)), "ACK*IQ*8*EA~"),
    (LineDecision(LineStatus.REJECTED), "ACK*IR*10*EA~"),
    (LineDecision(LineStatus.PRICE_CHANGED), "ACK*IP*10*EA~"),
    (LineDecision(LineStatus.DATE_RESCHEDULED, date=dt.date(2027, 1, 5)), "ACK*DR*10*EA*068*20270105~"),
    (LineDecision(LineStatus.ACCEPTED, Decimal(9)), "ACK*IA*9*EA~"),  # accepted, but not as ordered
])
def test_each_line_status_is_ac_with_its_ack(decision, expected):
    ack = Acknowledgment(lines={"1": (decision,)})
    text = build_855(order(), ack, envelope(), now=NOW)
    assert expected in text.splitlines()
    assert "BAK*00*AC*" in text
    assert outbound_problems(text) == []


def test_a_decision_for_a_line_the_order_lacks_is_refused():
    with pytest.raises(ValueError, match="lines the order does not have"):
        bak02(order(), Acknowledgment(lines={"9": (LineDecision(LineStatus.REJECTED),)}))


@pytest.mark.parametrize("status", [LineStatus.BACKORDERED, LineStatus.DATE_RESCHEDULED])
def test_backorder_and_reschedule_need_a_date(status):
    with pytest.raises(ValueError, match="needs the date"):
        LineDecision(status, Decimal(1))


def test_numbers_have_no_exponent_and_no_trailing_zeros():
    assert [number(Decimal(v)) for v in ("10.50", "4.00", "1E+2", "0.000")] == ["10.5", "4", "100", "0"]
