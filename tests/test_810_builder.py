"""The 810 Invoice builder (mappings/x12/_810.py) and its maps (mappings/x12/maps/*/810.*.xml).

A built 810 must pass our validator (the one that gates uploads) and pyx12's validating parse with our
maps, in 004010 and 005010; a broken one must fail both. TDS01 and SAC05 carry implied decimals.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from canonical.model import Charge, ChargeKind, Order
from mappings.x12._810 import Invoice810, InvoicedLine, PartnerCodes, build_810, cents, invoice_total
from mappings.x12._maps import MAPS_DIR, map_for
from mappings.x12._outbound_check import outbound_problems
from mappings.x12.maps import build_maps
from tests.edi855_orders import NOW, envelope, order
from tests.test_855_maps import pyx12_errors

VERSIONS = ["004010", "005010"]
DATE = dt.date(2026, 12, 4)


def full_invoice(**changes) -> Invoice810:
    """Both lines of the 855 tests' order invoiced as ordered."""
    lines = (InvoicedLine("1", Decimal(10), Decimal("4.50")), InvoicedLine("2", Decimal(3), Decimal(12)))
    return Invoice810(**{"number": "INV/2026/00001", "date": DATE, "lines": lines, **changes})


def with_charges() -> Order:
    """The order with the 850's SAC: per line a rate allowance and an amount charge; per order freight, a
    promotional allowance and a bill-back allowance (settled outside the invoice, SAC12 01)."""
    base = order()
    line1 = base.lines[0].model_copy(update={"charges": [
        Charge(kind=ChargeKind.ALLOWANCE, code="C310", amount=Decimal("2.50"), rate=Decimal("0.25"),
               description="volume discount")]})
    line2 = base.lines[1].model_copy(update={"charges": [
        Charge(kind=ChargeKind.CHARGE, code="H850", amount=Decimal("1.00"))]})
    return base.model_copy(update={"lines": [line1, line2], "charges": [
        Charge(kind=ChargeKind.CHARGE, code="D240", amount=Decimal("15.00"), description="freight"),
        Charge(kind=ChargeKind.ALLOWANCE, code="C000", amount=Decimal("5.00"), percent=Decimal("5"),
               percent_basis="1"),
        Charge(kind=ChargeKind.ALLOWANCE, code="A260", amount=Decimal("3.00"), handling="01"),
    ]})


def segments(text: str, sid: str) -> list[str]:
    return [s for s in text.splitlines() if s.startswith(sid + "*")]


@pytest.mark.parametrize("version", VERSIONS)
def test_the_checked_in_810_maps_are_what_build_maps_writes(version):
    assert (MAPS_DIR / version / f"810.{version[2:]}.xml").read_text() == build_maps.build_map(version, "810")
    assert map_for("810", version, "IN") is not None  # maps.xml routes GS01 IN to it


@pytest.mark.parametrize("version", VERSIONS)
def test_an_810_passes_our_maps_and_pyx12s(version, tmp_path):
    text = build_810(with_charges(), full_invoice(), envelope(version), now=NOW)
    assert f"GS*IN*ORDERHUB*ACMERETAIL*20261204*0930*3*X*{version}~" in text
    assert segments(text, "BIG") == ["BIG*20261204*INV/2026/00001*20261201*PO-855-1***DI~"]
    assert segments(text, "IT1") == ["IT1*1*10*EA*4.5**VN*SKU-1*UP*012345678905~", "IT1*2*3*CA*12**VN*SKU-2~"]
    assert segments(text, "N1") == ["N1*ST*ACME DC 7*92*0007~", "N1*BY*ACME Retail~"]
    assert segments(text, "CTT") == ["CTT*2*13~"]
    assert outbound_problems(text) == []
    assert pyx12_errors(text, version, tmp_path) == []


BROKEN = {
    "no TDS": lambda t: t.replace(next(s for s in t.splitlines(keepends=True) if s.startswith("TDS")), ""),
    "TDS with a decimal point": lambda t: t.replace("TDS*", "TDS*1.", 1),
    "IT1 quantity without a price": lambda t: t.replace("IT1*2*3*CA*12**", "IT1*2*3*CA***"),
    "BIG07 not a code": lambda t: t.replace("***DI~", "***XX~"),
    "no invoice number": lambda t: t.replace("*INV/2026/00001*", "**"),
}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("fault", sorted(BROKEN))
def test_a_broken_810_is_rejected_by_our_maps_and_pyx12s(version, fault, tmp_path):
    text = BROKEN[fault](build_810(with_charges(), full_invoice(), envelope(version), now=NOW))
    assert outbound_problems(text), fault
    assert pyx12_errors(text, version, tmp_path), fault


@pytest.mark.parametrize(("amount", "expected"), [
    (Decimal("81"), "8100"), (Decimal("81.5"), "8150"), (Decimal("12.345"), "1235"), (Decimal("12.344"), "1234"),
    (Decimal("0.005"), "1"), (Decimal("0"), "0"), (Decimal("-1.5"), "-150"), (Decimal("-0.004"), "0"),
    (Decimal("1234567.89"), "123456789"),
])
def test_tds_amounts_have_two_implied_decimals(amount, expected):
    assert cents(amount) == expected


def test_each_line_is_rounded_to_the_cent_before_the_total():
    base = order()
    invoice = Invoice810("INV/1", DATE, (InvoicedLine("1", Decimal(3), Decimal("0.3333")),
                                         InvoicedLine("2", Decimal(1), Decimal("0.125"))))
    text = build_810(base, invoice, envelope(), now=NOW)
    assert segments(text, "TDS") == ["TDS*113~"]  # 1.00 + 0.13 (half up), not 1.1249 rounded once (1.12) ...
    invoice = Invoice810("INV/1", DATE, (InvoicedLine("1", Decimal(1), Decimal("0.005")),
                                         InvoicedLine("2", Decimal(1), Decimal("0.005"))))
    assert segments(build_810(base, invoice, envelope(), now=NOW), "TDS") == ["TDS*2~"]  # ... 0.01 + 0.01, not 0.01


def test_sac_is_carried_from_the_850_and_counted_in_tds_unless_settled_outside_the_invoice():
    text = build_810(with_charges(), full_invoice(), envelope(), now=NOW)
    body = text.splitlines()
    assert segments(text, "SAC") == [
        "SAC*A*C310***250***0.25*EA*10*****volume discount~",  # in line 1's IT1 loop: rate x quantity invoiced
        "SAC*C*H850***100~",  # line 2's
        "SAC*C*D240***1500**********freight~",  # the order's, after TDS
        "SAC*A*C000***500*1*5~",
        "SAC*A*A260***300*******01~",  # a bill-back: sent, not in the total
    ]
    assert body.index("SAC*A*C310***250***0.25*EA*10*****volume discount~") == body.index(segments(text, "IT1")[0]) + 1
    assert body.index(segments(text, "TDS")[0]) < body.index("SAC*C*D240***1500**********freight~")
    # 45.00 + 36.00 - 2.50 + 1.00 + 15.00 - 5.00 (the 3.00 bill-back left out)
    assert segments(text, "TDS") == ["TDS*8950~"]
    assert invoice_total(with_charges(), full_invoice()) == Decimal("89.50")
    assert outbound_problems(text) == []


def test_a_partial_invoice_prorates_line_sac_and_only_the_first_carries_the_orders():
    partial = Invoice810("INV/2", DATE, (InvoicedLine("1", Decimal(4), Decimal("4.50")),
                                         InvoicedLine("2", Decimal(1), Decimal(12))), order_charges=False)
    text = build_810(with_charges(), partial, envelope(), now=NOW)
    assert segments(text, "SAC") == ["SAC*A*C310***100***0.25*EA*4*****volume discount~", "SAC*C*H850***33~"]
    assert segments(text, "TDS") == ["TDS*2933~"]  # 18.00 + 12.00 - 1.00 + 0.33
    assert segments(text, "CTT") == ["CTT*2*5~"]


def test_allowances_beyond_the_goods_make_a_negative_tds_the_maps_accept(tmp_path):
    big = order().model_copy(update={"charges": [Charge(kind=ChargeKind.ALLOWANCE, code="C310",
                                                        amount=Decimal("100.25"))]})
    text = build_810(big, full_invoice(), envelope(), now=NOW)
    assert segments(text, "TDS") == ["TDS*-1925~"]  # 81.00 - 100.25
    assert outbound_problems(text) == [] and pyx12_errors(text, "004010", tmp_path) == []


def test_a_credit_note_is_a_credit_memo_with_positive_amounts_and_no_order_sac(tmp_path):
    credit = Invoice810("RINV/2026/00001", DATE, (InvoicedLine("2", Decimal(1), Decimal(12)),), credit=True)
    text = build_810(with_charges(), credit, envelope("005010"), now=NOW)
    assert segments(text, "BIG") == ["BIG*20261204*RINV/2026/00001*20261201*PO-855-1***CR~"]
    assert segments(text, "SAC") == ["SAC*C*H850***33~"]  # the returned unit's share of its line's charge
    assert segments(text, "TDS") == ["TDS*1233~"]
    assert outbound_problems(text) == [] and pyx12_errors(text, "005010", tmp_path) == []


def test_the_partners_own_qualifiers_and_units_are_used():
    base = order()
    lines = [base.lines[0].model_copy(update={"buyer_part": "B-77", "gtin": "4006381333931"}), base.lines[1]]
    codes = PartnerCodes(sku="VP", buyer_part="IN", gtin=("UP", "EN"), uom={"CA": "CS"})
    text = build_810(base.model_copy(update={"lines": lines}), full_invoice(), envelope(), now=NOW, codes=codes)
    assert segments(text, "IT1") == ["IT1*1*10*EA*4.5**IN*B-77*VP*SKU-1*EN*4006381333931~",
                                     "IT1*2*3*CS*12**VP*SKU-2~"]


def test_an_invoiced_line_the_order_does_not_have_is_refused():
    with pytest.raises(ValueError, match="line 9"):
        build_810(order(), Invoice810("INV/1", DATE, (InvoicedLine("9", Decimal(1), Decimal(1)),)), envelope(),
                  now=NOW)
    with pytest.raises(ValueError):
        InvoicedLine("1", Decimal(0), Decimal(1))
