"""850 -> canonical order: golden files per partner, amounts as Decimal, rejections located."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from canonical.model import ChargeKind, PartyRole, Purpose, Source
from mappings.x12 import process_interchange_file
from mappings.x12.samples import SampleLine, build_850
from tests.fixtures.partners import PARTNERS
from tests.fixtures.partners import X12_DATA as DATA

NOW = dt.datetime(2024, 1, 6, 9, 30)
RAW_ID = "ab" * 32


def process(data: bytes, **kwargs):
    return process_interchange_file(data, partners=PARTNERS, now=NOW, **kwargs)


def golden(name: str) -> bytes:
    return (DATA / name).read_bytes()


def only_document(data: bytes):
    result = process(data)
    assert len(result.documents) == 1, result.reason
    return result, result.documents[0]


def ack_segments(result) -> list[str]:
    ack = next(a for a in result.acks if a.kind == "997")
    return [line.rstrip("~") for line in ack.text.splitlines()]


def edit(name: str, old: bytes, new: bytes, se_delta: int = 0) -> bytes:
    """A golden file with one change; ``se_delta`` keeps SE01 right when segments come or go."""
    data = golden(name)
    assert old in data
    data = data.replace(old, new, 1)
    if se_delta:
        start = data.index(b"SE*") + 3
        end = data.index(b"*", start)
        data = data[:start] + str(int(data[start:end]) + se_delta).encode() + data[end:]
    return data


def test_acme_850_maps_every_field():
    result = process(golden("acme_850_4010.x12"), raw_document_id=RAW_ID)
    assert result.outcome == "accepted" and result.reason is None
    doc = result.documents[0]
    assert (doc.ref, doc.transaction_set, doc.outcome, doc.errors) == (
        "ISA 000000101/GS 1/ST 0001",
        "850",
        "accepted",
        [],
    )
    order = doc.order
    assert order.source is Source.X12
    assert (order.source_ref, order.partner_id, order.purpose) == ("4500012345", "acme", Purpose.ORIGINAL)
    assert (order.order_type, order.release_no, order.order_date) == ("SA", None, dt.date(2024, 1, 5))
    assert order.currency == "USD"
    assert order.references == {"DP": "042", "IA": "VEND778"}
    assert order.dates == {
        "requested_delivery": dt.date(2024, 1, 15),
        "requested_ship": dt.date(2024, 1, 10),
        "ship_not_before": dt.date(2024, 1, 9),
        "ship_no_later": dt.date(2024, 1, 12),
    }
    assert [p.role for p in order.parties] == [PartyRole.BUYER, PartyRole.SHIP_TO, PartyRole.BILL_TO]
    ship_to = order.party(PartyRole.SHIP_TO)
    assert (ship_to.name, ship_to.id_qualifier, ship_to.id) == ("ACME Store 0042", "92", "0042")
    assert ship_to.address_lines == ["Receiving Dock B", "1200 Commerce Way", "Suite 100"]
    assert (ship_to.city, ship_to.region, ship_to.postal_code, ship_to.country) == ("Columbus", "OH", "43215", "US")
    assert order.party(PartyRole.BILL_TO).address_lines == ["PO Box 9000"]

    first, second, third = order.lines
    assert (first.line_no, first.sku, first.gtin, first.buyer_part) == ("1", "AC-1001", "012345678905", "B-778-1")
    assert first.uom == "CA"  # the partner's CS through the profile's uom_map
    assert (first.quantity, first.unit_price, first.amount) == (Decimal("12"), Decimal("24.50"), Decimal("294.00"))
    assert first.description == "Widget, blue, case of 6"
    assert [(c.kind, c.code, c.amount, c.description) for c in first.charges] == [
        (ChargeKind.ALLOWANCE, "C310", Decimal("5.00"), "Promo discount")
    ]
    assert (second.unit_price, second.amount) == (Decimal("2.50"), Decimal("250.00"))  # HP: per hundred
    assert (third.unit_price, third.amount) == (Decimal("0"), Decimal("0"))  # NC: no charge
    assert [(c.kind, c.code, c.amount) for c in order.charges] == [(ChargeKind.CHARGE, "D240", Decimal("25.00"))]
    assert order.total == Decimal("564.00")
    assert (order.document_ref, order.raw_document_id, order.is_test, order.warnings) == (
        "ISA 000000101/GS 1/ST 0001",
        RAW_ID,
        False,
        [],
    )


def test_northwind_5010_test_interchange():
    result, doc = only_document(golden("northwind_850_5010.x12"))
    assert result.outcome == "accepted"
    interchange = result.interchanges[0]
    assert (interchange.partner_id, interchange.sender_qualifier, interchange.sender_id) == (
        "northwind",
        "01",
        "123456789",
    )
    assert (interchange.is_test, interchange.version, interchange.control_number) == (True, "00501", "000002001")
    order = doc.order
    assert order.is_test is True
    assert (order.source_ref, order.order_type, order.release_no) == ("NW-778812", "DS", "R1")
    assert order.dates == {"requested_delivery": dt.date(2024, 1, 20), "cancel_after": dt.date(2024, 1, 31)}
    assert order.references == {"VR": "V-44"}
    ship_to = order.party(PartyRole.SHIP_TO)
    assert (ship_to.id_qualifier, ship_to.id) == ("UL", "0614141000012")
    assert order.party(PartyRole.SHIP_FROM).name == "Orderhub Warehouse"
    apples, bananas = order.lines
    assert (apples.line_no, apples.sku, apples.gtin, apples.uom) == ("10", "NW-APL-12", "036000291452", "CA")
    assert (apples.unit_price, apples.amount) == (Decimal("1.25"), Decimal("3.75"))  # TP: per thousand
    assert (bananas.sku, bananas.unit_price, bananas.amount) == ("NW-BAN-1", Decimal("3.10"), Decimal("15.50"))
    assert order.total == Decimal("19.25")
    assert doc.ref == "ISA 000002001/GS 2001/ST 000000001"


def test_bluebird_pipe_separated_single_line():
    result, doc = only_document(golden("bluebird_850_4010.x12"))
    assert result.outcome == "accepted"
    order = doc.order
    jacket, socks = order.lines
    assert (jacket.sku, jacket.gtin, jacket.buyer_part) == ("OH-JKT-001", "5012345678900", "BB-JKT-RED-M")
    assert (socks.sku, socks.gtin, socks.buyer_part, socks.uom) == (None, None, "BB-SOCK-W", "PR")
    assert [(c.kind, c.amount, c.description) for c in order.charges] == [
        (ChargeKind.ALLOWANCE, Decimal("10.00"), "Season allowance")
    ]
    assert order.total == Decimal("268.96")
    assert order.party(PartyRole.SHIP_TO).city == "Portland"


def test_cancellation():
    _, doc = only_document(golden("acme_850_cancel.x12"))
    assert doc.order.purpose is Purpose.CANCELLATION
    assert doc.order.source_ref == "4500012345"


@pytest.mark.parametrize(
    ("code", "purpose"),
    [("00", Purpose.ORIGINAL), ("01", Purpose.CANCELLATION), ("04", Purpose.CHANGE), ("05", Purpose.REPLACEMENT)],
)
def test_purpose_codes(code, purpose):
    _, doc = only_document(edit("acme_850_cancel.x12", b"BEG*01*", f"BEG*{code}*".encode()))
    assert doc.order.purpose is purpose


def test_unsupported_transaction_set_is_acknowledged_not_parsed():
    result, doc = only_document(golden("acme_860.x12"))
    assert (doc.transaction_set, doc.outcome, doc.order) == ("860", "unsupported", None)
    assert "not supported" in doc.errors[0].message
    assert "AK5*A" in ack_segments(result)


def test_two_interchanges_give_two_orders_and_two_acks():
    result = process(golden("two_interchanges.x12"))
    assert result.outcome == "accepted"
    assert [o.partner_id for o in result.orders] == ["acme", "bluebird"]
    assert [o.source_ref for o in result.orders] == ["4500012400", "BB-9002"]
    assert [(a.kind, a.partner_id) for a in result.acks] == [("997", "acme"), ("997", "bluebird")]


def test_partial_group_rejects_only_the_bad_order():
    result = process(golden("acme_group_partial.x12"))
    assert result.outcome == "partially_accepted"
    good, bad = result.documents
    assert good.outcome == "accepted" and good.order.source_ref == "4500012500"
    assert bad.outcome == "rejected" and bad.order is None
    located = {(p.segment_id, p.segment_position, p.element_position, p.code) for p in bad.errors}
    assert located == {("BEG", 2, 5, "8"), ("PO1", 3, 2, "6")}
    assert bad.errors[0].location == "ISA 000000103 / GS 3 / ST 0002 / segment 2 (BEG) / element 5"


def test_missing_beg_is_a_missing_mandatory_segment():
    data = edit("acme_850_cancel.x12", b"BEG*01*SA*4500012345**20240106~\n", b"", se_delta=-1)
    result, doc = only_document(data)
    assert doc.outcome == "rejected"
    assert [(p.segment_id, p.segment_position, p.code) for p in doc.errors] == [("BEG", 2, "3")]
    segments = ack_segments(result)
    assert segments[segments.index("AK2*850*0001") + 1 :][:2] == ["AK3*BEG*2**3", "AK5*R*5"]


def test_missing_po1_is_a_missing_mandatory_segment():
    data = edit("acme_850_cancel.x12", b"PO1*1*12*CS*24.50*PE*VN*AC-1001~\n", b"", se_delta=-1)
    result, doc = only_document(data)
    assert doc.outcome == "rejected"
    # Located where its absence shows (the CTT at position 3), as pyx12 does with the same map.
    assert [(p.segment_id, p.segment_position, p.code) for p in doc.errors] == [("PO1", 3, "3")]
    assert "AK3*PO1*3**3" in ack_segments(result)


@pytest.mark.parametrize(
    ("old", "new", "element", "code"),
    [
        (b"PO1*1*12*", b"PO1*1*0*", 2, "6"),
        (b"PO1*1*12*", b"PO1*1*-3*", 2, "6"),
        (b"PO1*1*12*", b"PO1*1**", 2, "2"),  # PO102 is conditional (C0302: PO103 present needs PO102)
        (b"*24.50*", b"*24,50*", 4, "6"),
        (b"*24.50*PE", b"*24.50*ZZ", 5, None),  # unknown price basis: a warning, not a rejection
        (b"*VN*AC-1001~", b"*VN*~", 7, "2"),
    ],
)
def test_bad_line_elements_are_located(old, new, element, code):
    result, doc = only_document(edit("acme_850_cancel.x12", old, new))
    problems = [p for p in doc.errors if p.segment_id == "PO1"]
    assert [p.element_position for p in problems] == [element]
    if code is None:
        assert doc.outcome == "accepted_with_warnings"
        assert problems[0].severity == "warning" and "price basis" in problems[0].message
        assert "AK4*5*639*7" in ack_segments(result) and "AK5*E*5" in ack_segments(result)
    else:
        assert doc.outcome == "rejected" and problems[0].code == code and doc.order is None
        assert f"AK4*{element}*" in "\n".join(ack_segments(result))


def test_bad_order_date_and_bad_currency():
    _, doc = only_document(edit("acme_850_4010.x12", b"20240105~\nCUR*BY*USD", b"2024-01-05~\nCUR*BY*usd"))
    assert doc.outcome == "rejected"
    assert {(p.segment_id, p.element_position, p.code) for p in doc.errors} >= {("BEG", 5, "8")}


def test_currency_from_cur_segment_and_default_from_profile():
    _, doc = only_document(edit("acme_850_4010.x12", b"CUR*BY*USD", b"CUR*BY*CAD"))
    assert doc.order.currency == "CAD"
    _, doc = only_document(golden("bluebird_850_4010.x12"))
    assert doc.order.currency == "USD"


def test_ctt_disagreement_is_a_warning_noted_in_the_997():
    result, doc = only_document(edit("acme_850_4010.x12", b"CTT*3*114", b"CTT*4*114"))
    assert doc.outcome == "accepted_with_warnings" and doc.order is not None
    assert doc.order.warnings == ["CTT01 says 4 line items, the order has 3"]
    assert result.outcome == "accepted_with_warnings"
    segments = ack_segments(result)
    assert segments[segments.index("AK2*850*0001") + 1 :][:2] == ["AK3*CTT*30", "AK5*E*5"]
    assert "AK9*E*1*1*1" in segments


def test_ctt_hash_total_disagreement_is_a_warning_noted_in_the_997():
    # 12 + 100 + 2 = 114 quantities ordered; the partner says 115
    result, doc = only_document(edit("acme_850_4010.x12", b"CTT*3*114", b"CTT*3*115"))
    assert doc.outcome == "accepted_with_warnings" and doc.order is not None
    assert doc.order.warnings == ["CTT02 says the quantities add up to 115, the lines order 114"]
    assert result.outcome == "accepted_with_warnings"
    segments = ack_segments(result)
    assert segments[segments.index("AK2*850*0001") + 1 :][:2] == ["AK3*CTT*30", "AK5*E*5"]
    assert "AK9*E*1*1*1" in segments


def test_ctt_line_count_and_hash_total_both_wrong_are_one_ak3():
    result, doc = only_document(edit("acme_850_4010.x12", b"CTT*3*114", b"CTT*4*113"))
    assert doc.order.warnings == [
        "CTT01 says 4 line items, the order has 3", "CTT02 says the quantities add up to 113, the lines order 114"]
    segments = ack_segments(result)
    assert segments[segments.index("AK2*850*0001") + 1 :][:2] == ["AK3*CTT*30", "AK5*E*5"]


def test_unknown_segment_is_rejected_as_unrecognized():
    result, doc = only_document(edit("acme_850_cancel.x12", b"CTT*1", b"ZZZ*1~\nCTT*1", se_delta=1))
    assert doc.outcome == "rejected"
    assert [(p.segment_id, p.segment_position, p.code) for p in doc.errors] == [("ZZZ", 4, "1")]
    assert "AK3*ZZZ*4**1" in ack_segments(result)


def test_po1_after_ctt_is_unexpected():
    data = edit("acme_850_cancel.x12", b"CTT*1~\n", b"CTT*1~\nPO1*2*1*EA*1.00*PE*VN*X~\n", se_delta=1)
    _, doc = only_document(data)
    assert [(p.segment_id, p.segment_position, p.code) for p in doc.errors] == [("PO1", 5, "2")]


def test_line_without_known_item_id_is_accepted_with_a_review_note():
    result, doc = only_document(edit("acme_850_cancel.x12", b"*VN*AC-1001", b"*MG*MFR-1"))
    assert doc.outcome == "accepted_with_warnings"
    note = doc.errors[0]
    assert (note.severity, note.acknowledged) == ("warning", False)
    assert "AK5*A" in ack_segments(result)  # internal review notes are not sent to the partner


def test_percentage_allowance_applies_to_the_line_amount():
    data = edit("acme_850_cancel.x12", b"CTT*1", b"SAC*A*C310****3*10~\nCTT*1", se_delta=1)
    _, doc = only_document(data)
    assert doc.outcome == "accepted"
    line = doc.order.lines[0]
    assert line.amount == Decimal("294.00")
    [allowance] = line.charges
    assert (allowance.kind, allowance.amount, allowance.percent, allowance.percent_basis) == (
        ChargeKind.ALLOWANCE, Decimal("29.40"), Decimal("10"), "3")
    assert doc.order.total == Decimal("264.60")


def test_allowance_without_amount_percent_or_rate_is_noted():
    data = edit("acme_850_cancel.x12", b"CTT*1", b"SAC*A*C310~\nCTT*1", se_delta=1)
    _, doc = only_document(data)
    assert doc.outcome == "accepted_with_warnings"
    assert doc.order.lines[0].charges == []


def test_document_and_file_json():
    result = process(golden("acme_group_partial.x12"), raw_document_id=RAW_ID)
    data = json.loads(json.dumps(result.to_json()))
    assert data["outcome"] == "partially_accepted"
    assert [d["outcome"] for d in data["documents"]] == ["accepted", "rejected"]
    assert data["documents"][0]["order"]["total"] == "5.00"
    assert data["documents"][1]["order"] is None
    assert data["documents"][1]["errors"][0]["location"].startswith("ISA 000000103 / GS 3 / ST 0002")
    assert data["acks"][0].startswith("ISA*00*")


def test_raw_document_id_must_be_a_sha256():
    with pytest.raises(ValueError):
        process(golden("acme_850_cancel.x12"), raw_document_id="not-a-hash")


def test_sample_builder_makes_valid_850s_for_every_partner():
    for partner in (p for p in PARTNERS if p.x12):  # the store and marketplace accounts speak no X12
        data = build_850(
            partner, purchase_orders=3, lines=[SampleLine("A-1", "2", "3.50"), SampleLine("B-2", "1", "10")]
        )
        result = process(data)
        assert result.outcome == "accepted", (partner.id, result.reason)
        assert [o.source_ref for o in result.orders] == ["PO-1001-1", "PO-1001-2", "PO-1001-3"]
        assert all(o.total == Decimal("17.00") and o.partner_id == partner.id for o in result.orders)
    pipes = build_850(PARTNERS.get("bluebird"), lines=20, element="|", line_break="")
    result = process(pipes)
    assert result.outcome == "accepted" and len(result.orders[0].lines) == 20


@pytest.mark.parametrize(
    ("old", "new", "segment", "element", "code"),
    [
        (b"BEG*01*", b"BEG*09*", "BEG", 1, "7"),  # a purpose we cannot map
        (b"*4500012345*", b"*" + b"9" * 23 + b"*", "BEG", 3, "5"),
        (b"BEG*01*SA*", b"BEG*01*S*", "BEG", 2, "4"),
        (b"CTT*1", b"CTT*1.5", "CTT", 1, "6"),
        (b"CTT*1", b"CTT*1*1*1*EA*1*EA*X*1", "CTT", 8, "3"),  # CTT04/06 are units: EA keeps them valid
    ],
)
def test_element_syntax_codes(old, new, segment, element, code):
    result, doc = only_document(edit("acme_850_cancel.x12", old, new))
    assert doc.outcome == "rejected"
    assert [(p.segment_id, p.element_position, p.code) for p in doc.errors] == [(segment, element, code)]
    assert f"AK4*{element}*" in "\n".join(ack_segments(result))


@pytest.mark.parametrize(
    ("segment", "code", "element"),
    [
        (b"DTM*002*20240115*25:00", "9", 3),  # invalid time
        (b"DTM*002", "2", 2),  # neither date nor period
        (b"N1*ST*Store*92", "2", 4),  # N103 without N104
        (b"REF*DP", "2", 2),
    ],
)
def test_header_segment_syntax(segment, code, element):
    data = edit("acme_850_cancel.x12", b"PO1*1*", segment + b"~\nPO1*1*", se_delta=1)
    _, doc = only_document(data)
    assert [(p.element_position, p.code) for p in doc.errors] == [(element, code)]
