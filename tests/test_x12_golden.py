"""Golden files of fictitious retailers with their own conventions: canonical fields and acks byte for byte.

Each ``<name>.x12`` is answered by the ack in ``<name>.<kind>.txt`` (997, 999 or TA1), built with
``now`` frozen and the dry-run control numbers (1, or the profile's ``first_control_number``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from canonical.model import ChargeKind, PartyRole, Purpose
from mappings.x12 import process_interchange_file
from mappings.x12._envelope import EnvelopeWalker
from tests.fixtures.partners import PARTNERS
from tests.fixtures.partners import X12_DATA as DATA

NOW = dt.datetime(2024, 2, 12, 9, 30)


def process(name: str, **kwargs):
    return process_interchange_file((DATA / name).read_bytes(), partners=PARTNERS, now=NOW, **kwargs)


def expected_ack(name: str) -> str:
    return (DATA / name).read_text(encoding="latin-1")


@pytest.mark.parametrize(
    ("name", "outcome", "kind", "ack_file"),
    [
        ("harbor_850_vics.x12", "accepted", "997", "harbor_850_vics.997.txt"),
        ("harbor_850_short_distribution.x12", "accepted_with_warnings", "997", "harbor_850_short_distribution.997.txt"),
        ("harbor_850_test.x12", "rejected", "TA1", "harbor_850_test.TA1.txt"),
        ("greenleaf_850_5010.x12", "accepted", "999", "greenleaf_850_5010.999.txt"),
        ("greenleaf_850_partial.x12", "partially_accepted", "999", "greenleaf_850_partial.999.txt"),
    ],
)
def test_every_outcome_is_answered_byte_for_byte(name, outcome, kind, ack_file):
    result = process(name)
    assert result.outcome == outcome, result.reason
    assert [a.kind for a in result.acks] == [kind]
    assert result.acks[0].text == expected_ack(ack_file)


def test_a_resend_is_refused_with_ta1_025_byte_for_byte():
    result = process("greenleaf_850_5010.x12", is_duplicate_interchange=lambda q, i, c: (q, i, c) == (
        "14", "0614141000036", "000000311"))
    assert result.outcome == "duplicate" and result.orders == []
    assert [a.text for a in result.acks] == [expected_ack("greenleaf_850_5010.duplicate.TA1.txt")]


def test_every_golden_functional_ack_reads_back_as_a_clean_interchange():
    paths = sorted([*DATA.glob("*.997.txt"), *DATA.glob("*.999.txt")])
    assert len(paths) == 4
    for path in paths:
        interchanges = list(EnvelopeWalker(path.read_bytes()))
        assert len(interchanges) == 1, path.name
        assert interchanges[0].problems == [], (path.name, [p.message for p in interchanges[0].problems])
        groups = interchanges[0].groups
        assert [g.functional_id for g in groups] == ["FA"], path.name  # an empty walk would check nothing
        assert groups[0].sets and groups[0].problems == [], path.name
        assert all(s.problems == [] for s in groups[0].sets), path.name


def test_harbor_vics_order_in_full():
    order = process("harbor_850_vics.x12").orders[0]
    assert (order.partner_id, order.source_ref, order.purpose, order.order_type) == (
        "harbor", "HP-240212-01", Purpose.ORIGINAL, "SA")
    assert order.references == {"DP": "118", "IA": "772001", "PD": "SPRING24"}
    assert order.dates == {
        "ship_not_before": dt.date(2024, 3, 1),
        "ship_no_later": dt.date(2024, 3, 8),
        "cancel_after": dt.date(2024, 3, 15),
    }
    carrier = order.carrier
    assert (carrier.scac, carrier.transport_method, carrier.routing) == ("RDWY", "M", "Roadway Express")
    terms = order.terms
    assert (terms.type_code, terms.basis_date, terms.discount_percent, terms.discount_days, terms.net_days) == (
        "08", "3", Decimal("2"), 10, 30)
    assert order.shipping_terms.payment_method == "CC"
    assert [(c.function, c.email) for c in order.contacts] == [("BD", "dana.buyer@harborpine.example")]

    buyer, ship_to, mark_for = order.parties
    assert (buyer.role, buyer.id_qualifier, buyer.id_scheme, buyer.id) == (
        PartyRole.BUYER, "9", "duns_plus_4", "0123456780001")
    assert (ship_to.role, ship_to.id_scheme, ship_to.id, ship_to.city) == (
        PartyRole.SHIP_TO, "gln", "0614141000104", "Edison")
    assert ship_to.references == {"ST": "DC-E"}
    assert [(c.function, c.phone) for c in ship_to.contacts] == [("RE", "7325550199")]
    assert (mark_for.role, mark_for.entity_code, mark_for.id_scheme, mark_for.id) == (
        PartyRole.MARK_FOR, "Z7", "assigned_by_buyer", "0118")

    tee, hoodie = order.lines
    assert (tee.sku, tee.gtin, tee.buyer_part, tee.description) == (
        "HP-TEE-BLU-M", "012345678929", "772-55101", "Crew neck tee")
    assert tee.attributes == {"buyer_color": "Harbor Blue", "buyer_size": "M", "vendor_color_code": "BLU"}
    assert (tee.pack, tee.pack_size, tee.pack_size_uom) == (Decimal("6"), Decimal("1"), "EA")
    assert [(d.location_id, d.quantity, d.id_qualifier) for d in tee.distribution] == [
        ("0118", Decimal("12"), "92"), ("0204", Decimal("12"), "92"), ("0311", Decimal("12"), "92")]
    assert (tee.unit_price, tee.amount) == (Decimal("18.50"), Decimal("666.00"))
    assert (hoodie.amount, [(c.kind, c.amount, c.percent) for c in hoodie.charges]) == (
        Decimal("1008.00"), [(ChargeKind.ALLOWANCE, Decimal("100.80"), Decimal("10"))])
    # 2 % of the lines' gross 1674.00 = 33.48 off; freight SAC05 4500 = 45.00 (two implied decimals)
    assert [(c.kind, c.code, c.amount) for c in order.charges] == [
        (ChargeKind.ALLOWANCE, "C310", Decimal("33.48")), (ChargeKind.CHARGE, "D240", Decimal("45.00"))]
    assert order.total == Decimal("1584.72")
    assert order.warnings == []


def test_harbor_short_distribution_is_accepted_with_a_note():
    result = process("harbor_850_short_distribution.x12")
    order = result.orders[0]
    assert order.warnings == ["line 2: store quantities add up to 22, the line orders 24"]
    [problem] = result.documents[0].errors
    assert (problem.segment_id, problem.segment_position, problem.trigger) == ("SDQ", 33, ("PO1", 30, 2))


def test_greenleaf_grocery_conventions():
    order = process("greenleaf_850_5010.x12").orders[0]
    # PO101 holds aisle codes: the lines are numbered by position.
    assert [line.line_no for line in order.lines] == ["1", "2", "3", "4"]
    apples, yogurt, beef, bags = order.lines
    assert (apples.uom, apples.unit_price, apples.amount, apples.pack) == (
        "CA", Decimal("18.00"), Decimal("180.00"), Decimal("12")
    )
    # PO105 CA means "per case" for Greenleaf: 21.00 a case of 12 -> 1.75 an each
    assert (yogurt.uom, yogurt.price_basis, yogurt.unit_price, yogurt.amount) == (
        "EA", "CA", Decimal("1.75"), Decimal("84.00"))
    # 4.20 per pound, a case (CS -> CA) of 1 x 10 LB -> 42.00 a case
    assert (beef.uom, beef.price_basis, beef.unit_price, beef.amount) == (
        "CA", "PP", Decimal("42.00"), Decimal("210.00")
    )
    assert (bags.unit_price, bags.amount, bags.price_basis) == (Decimal("0"), Decimal("0"), "NC")
    # the allowance is sent negative (-2500): read by its size; the charge is 0.50 a case for 20 cases
    assert [(c.kind, c.amount, c.handling, c.rate, c.quantity) for c in order.charges] == [
        (ChargeKind.ALLOWANCE, Decimal("25.00"), "02", None, None),
        (ChargeKind.CHARGE, Decimal("10.00"), None, Decimal(".50"), Decimal("20")),
    ]
    assert order.total == Decimal("459.00")
    assert order.dates == {
        "requested_delivery": dt.date(2024, 2, 15),
        "do_not_deliver_before": dt.date(2024, 2, 14),
        "do_not_deliver_after": dt.date(2024, 2, 16),
    }
    assert (order.carrier.scac, order.carrier.service_level) == ("GLFT", "ND")
    assert (order.terms.basis_date, order.terms.net_days) == ("15", 30)
    assert [(p.role, p.id_scheme) for p in order.parties] == [
        (PartyRole.SHIP_TO, "gln"), (PartyRole.BILL_TO, "gln"), (PartyRole.VENDOR, "assigned_by_seller")]
    assert order.references == {"DP": "PRODUCE", "CT": "GL-CONTRACT-2024"}


def test_greenleaf_partial_group_locates_every_problem():
    result = process("greenleaf_850_partial.x12")
    good, bad = result.documents
    assert good.outcome == "accepted" and good.order.source_ref == "GL-0098813"
    assert bad.outcome == "rejected" and bad.order is None
    problems = [(p.severity, p.segment_id, p.segment_position, p.element_position, p.code, p.trigger)
                for p in bad.errors]
    assert problems == [
        ("error", "PO1", 5, 2, "6", None),
        ("warning", "BEG", 2, 4, "2", ("BEG", 2, 2)),
        ("warning", "SDQ", 7, None, None, ("PO1", 6, 2)),
    ]
