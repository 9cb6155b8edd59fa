"""850 business meaning: price bases, allowances and charges, packs, distributions, partner conventions,
999 details, and cancellations/replacements acting on the stored order."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from canonical.model import ChargeKind, PartyRole, Purpose
from hub import store as st
from mappings.profiles import PartnerDirectory
from mappings.x12 import iter_segments, process_interchange_file
from tests.fixtures.partners import PARTNERS
from tests.present import present

NOW = dt.datetime(2024, 2, 12, 9, 30)


def interchange(body: list[str], *, partner: str = "ACMERETAIL", control: int = 900, purpose: str = "00",
                po: str = "PO-77", order_type: str = "SA", release: str = "", hash_total: str = "") -> bytes:
    """One 004010 850 from ``partner`` (a ZZ sender) with ``body`` between BEG and CTT (CTT02 ``hash_total``)."""
    ctt = f"CTT*{sum(s.startswith('PO1*') for s in body)}" + (f"*{hash_total}" if hash_total else "")
    segments = ["ST*850*0001", f"BEG*{purpose}*{order_type}*{po}*{release}*20240212", *body, ctt]
    segments.append(f"SE*{len(segments) + 1}*0001")
    head = (f"ISA*00*          *00*          *ZZ*{partner:<15}*ZZ*ORDERHUB       *240212*0815*U*00401*"
            f"{control:09d}*0*P*>~\nGS*PO*{partner}*ORDERHUB*20240212*0815*{control}*X*004010~\n")
    tail = f"GE*1*{control}~\nIEA*1*{control:09d}~\n"
    return (head + "".join(s + "~\n" for s in segments) + tail).encode()


def with_conventions(partner_id: str, **changes) -> PartnerDirectory:
    profiles = []
    for profile in PARTNERS:
        if profile.id == partner_id:
            conventions = profile.x12.conventions.model_copy(update=changes)
            profile = profile.model_copy(update={"x12": profile.x12.model_copy(update={"conventions": conventions})})
        profiles.append(profile)
    return PartnerDirectory(profiles)


def document(data: bytes, partners: PartnerDirectory = PARTNERS):
    result = process_interchange_file(data, partners=partners, now=NOW)
    assert len(result.documents) == 1, result.reason
    return result.documents[0]


def one_line(po1: str, *more: str, partners: PartnerDirectory = PARTNERS):
    doc = document(interchange([po1, *more]), partners)
    assert doc.order is not None, [p.message for p in doc.errors]
    return doc.order.lines[0], doc


@pytest.mark.parametrize(
    ("po1", "unit_price", "amount"),
    [
        ("PO1*1*10*EA*24.50**VN*A", "24.50", "245.00"),  # blank basis: the profile's default, PE
        ("PO1*1*10*EA*24.50*PE*VN*A", "24.50", "245.00"),
        ("PO1*1*10*EA*24.50*CT*VN*A", "24.50", "245.00"),  # contract price, per unit
        ("PO1*1*10*EA*24.50*QT*VN*A", "24.50", "245.00"),  # quoted, per unit
        ("PO1*1*150*EA*12.00*HP*VN*A", "0.12", "18.00"),  # per hundred
        ("PO1*1*2500*EA*8.00*TP*VN*A", "0.008", "20.00"),  # per thousand
        ("PO1*1*18*EA*6.00*PD*VN*A", "0.5", "9.00"),  # per dozen
        ("PO1*1*7*EA*1.00*PD*VN*A", "0.083333", "0.58"),  # per dozen, not exact: amount from the exact price
        ("PO1*1*3*EA*9.99*NC*VN*A", "0", "0.00"),  # no charge whatever PO104 says
        ("PO1*1*20*LB*3.10*PP*VN*A", "3.10", "62.00"),  # per pound, ordered in pounds
        ("PO1*1*4*KG*2.00*PP*VN*A", "4.409245", "17.64"),  # per pound, ordered in kilograms
    ],
)
def test_price_basis_gives_a_price_per_line_unit(po1, unit_price, amount):
    line, _ = one_line(po1)
    assert (line.unit_price, line.amount) == (Decimal(unit_price), Decimal(amount))


def test_price_per_pound_of_eaches_uses_the_po4_size():
    line, doc = one_line("PO1*1*6*EA*2.00*PP*VN*A", "PO4*12*2.5*LB")
    assert (line.unit_price, line.amount, line.pack, line.pack_size, line.pack_size_uom) == (
        Decimal("5.00"), Decimal("30.00"), Decimal("12"), Decimal("2.5"), "LB")
    assert doc.outcome == "accepted"


def test_price_per_kilogram_of_cases_uses_the_po4_gross_weight():
    line, _ = one_line("PO1*1*2*CA*10.00*PK*VN*A", "PO4*1****G*11*LB")
    # 11 LB = 4.98951607 KG a case -> 49.90 a case
    assert (line.unit_price, line.amount, line.pack_weight, line.pack_weight_uom) == (
        Decimal("49.895161"), Decimal("99.79"), Decimal("11"), "LB")


def test_a_weight_price_without_a_weight_is_left_to_the_erp_with_a_note():
    line, doc = one_line("PO1*1*6*EA*2.00*PP*VN*A")
    assert (line.unit_price, line.amount) == (None, None)
    [note] = doc.errors
    assert (note.severity, note.acknowledged, note.element_position) == ("warning", False, 5)
    assert "no weight per EA" in note.message


def test_retail_prices_are_not_our_price():
    line, doc = one_line("PO1*1*6*EA*19.99*RE*VN*A")
    assert line.unit_price is None and line.price_basis == "RE"
    assert "retail price" in doc.errors[0].message and not doc.errors[0].acknowledged


def test_price_basis_meaning_from_the_profile():
    partners = with_conventions("acme", price_basis={"CA": "pack"})
    line, _ = one_line("PO1*1*24*EA*30.00*CA*VN*A", "PO4*12", partners=partners)
    assert (line.unit_price, line.amount) == (Decimal("2.5"), Decimal("60.00"))
    line, _ = one_line("PO1*1*24*EA*30.00*CA*VN*A", "PO4*12")  # the standard's CA: catalog price per unit
    assert (line.unit_price, line.amount) == (Decimal("30.00"), Decimal("720.00"))


def test_price_basis_default_from_the_profile():
    partners = with_conventions("acme", price_basis_default="HP")
    line, _ = one_line("PO1*1*200*EA*5.00**VN*A", partners=partners)
    assert (line.unit_price, line.amount) == (Decimal("0.05"), Decimal("10.00"))


def test_allowances_and_charges_amount_percent_and_rate():
    doc = document(interchange([
        "SAC*C*D240***1250",  # 12.50 freight (N2)
        "SAC*A*C310****3*5",  # 5 % of the lines' gross (100.00 + 50.00)
        "SAC*A*C000****4*10",  # 10 % of the net so far: 150 - 5 (line) - 7.50 + 12.50 = 150.00
        "PO1*1*10*EA*10.00*PE*VN*A",
        "SAC*A*C310***500",  # 5.00 off the line
        "PO1*2*5*EA*10.00*PE*VN*B",
        "SAC*C*H000******0.40",  # rate 0.40 per unit of the line (5)
    ]))
    order = doc.order
    assert [(c.kind, c.amount) for c in order.lines[0].charges] == [(ChargeKind.ALLOWANCE, Decimal("5.00"))]
    assert [(c.amount, c.rate, c.quantity) for c in order.lines[1].charges] == [
        (Decimal("2.00"), Decimal("0.40"), Decimal("5"))]
    assert [(c.kind, c.code, c.amount) for c in order.charges] == [
        (ChargeKind.CHARGE, "D240", Decimal("12.50")),
        (ChargeKind.ALLOWANCE, "C310", Decimal("7.50")),
        (ChargeKind.ALLOWANCE, "C000", Decimal("15.20")),
    ]
    assert order.total == Decimal("150.00") - 5 + 2 + Decimal("12.50") - Decimal("7.50") - Decimal("15.20")


def sac(indicator: str, code: str, *, amount: str = "", basis: str = "", percent: str = "", handling: str = "") -> str:
    """A SAC segment: SAC05 amount (two implied decimals), SAC06/07 percent, SAC12 method of handling."""
    return f"SAC*{indicator}*{code}***{amount}*{basis}*{percent}*****{handling}".rstrip("*")


def ack_of(data: bytes, partners: PartnerDirectory = PARTNERS) -> list[str]:
    result = process_interchange_file(data, partners=partners, now=NOW)
    [ack] = result.acks
    return [s.rstrip("~") for s in ack.text.splitlines()]


@pytest.mark.parametrize(
    ("handling", "counted"),
    [
        ("", True),  # no SAC12: on the invoice
        ("02", True),  # off invoice
        ("06", True),  # charge to be paid by the customer
        ("01", False),  # bill back
        ("03", False),  # vendor check to customer
        ("04", False),  # credit customer account
        ("05", False),  # charge to be paid by the vendor
        ("15", False),  # information only
    ],
)
def test_only_allowances_and_charges_settled_on_the_invoice_count_in_the_total(handling, counted):
    doc = document(interchange([
        sac("A", "C310", amount="1000", handling=handling),  # 10.00 off
        sac("C", "D240", amount="2500", handling=handling),  # 25.00 freight
        "PO1*1*10*EA*10.00*PE*VN*A",
        sac("A", "C000", amount="500", handling=handling),  # 5.00 off the line
    ]))
    order = doc.order
    assert doc.outcome == "accepted", [p.message for p in doc.errors]
    # finance sees every one of them, with how it is settled
    assert [(c.code, c.amount, c.handling) for c in order.charges] == [
        ("C310", Decimal("10.00"), handling or None), ("D240", Decimal("25.00"), handling or None)]
    assert [(c.code, c.amount, c.handling) for c in order.lines[0].charges] == [
        ("C000", Decimal("5.00"), handling or None)]
    expected = Decimal("100.00") - 10 + 25 - 5 if counted else Decimal("100.00")
    assert order.total == expected


def test_allowances_settled_outside_the_invoice_leave_the_running_net_alone():
    doc = document(interchange([
        sac("A", "C310", basis="1", percent="10", handling="01"),  # 10 % bill back: 25.00, not on the invoice
        sac("A", "C000", basis="4", percent="10"),  # 10 % of the net: 250.00 - 20.00 (the tee, on the invoice)
        "PO1*1*10*EA*20.00*PE*VN*A",
        sac("A", "C310", amount="1000", handling="04"),  # 10.00 credited to the account
        sac("A", "C000", basis="2", percent="10", handling="02"),  # 10 % of the line's net, still 200.00
        "PO1*2*5*EA*10.00*PE*VN*B",
        sac("C", "H000", basis="2", percent="10", handling="05"),  # paid by the vendor: no change to the line
    ]))
    order = doc.order
    tee, hoodie = order.lines
    assert [(c.amount, c.handling) for c in tee.charges] == [(Decimal("10.00"), "04"), (Decimal("20.00"), "02")]
    assert [(c.kind, c.amount, c.handling) for c in hoodie.charges] == [(ChargeKind.CHARGE, Decimal("5.00"), "05")]
    assert [(c.code, c.amount, c.handling) for c in order.charges] == [
        ("C310", Decimal("25.00"), "01"), ("C000", Decimal("23.00"), None)]
    # lines 250.00, on the invoice: -20.00 on the tee, -23.00 on the order
    assert order.total == Decimal("250.00") - 20 - 23
    assert doc.outcome == "accepted" and order.warnings == []


@pytest.mark.parametrize(
    ("handling", "note"),
    [("07", "settling it is optional (07)"), ("ZZ", "SAC12 handling 'ZZ' is not one we know")],
)
def test_optional_or_unknown_handling_is_counted_with_a_note_for_review(handling, note):
    data = interchange([sac("A", "C310", amount="1000", handling=handling), "PO1*1*10*EA*10.00*PE*VN*A"])
    doc = document(data)
    assert doc.order.total == Decimal("90.00")
    assert doc.order.charges[0].handling == handling
    [problem] = doc.errors
    assert (problem.severity, problem.acknowledged, problem.segment_id, problem.element_position) == (
        "warning", False, "SAC", 12)
    assert note in problem.message and "counted in the order total" in problem.message
    assert doc.outcome == "accepted_with_warnings" and "AK5*A" in ack_of(data)  # ours to review, not the partner's


def test_negative_sac_amount_is_read_by_size_or_refused_per_profile():
    data = interchange(["SAC*A*C310***-500", "PO1*1*1*EA*10.00*PE*VN*A"])
    assert document(data).order.charges[0].amount == Decimal("5.00")
    refused = document(data, with_conventions("acme", sac_amount_sign="positive"))
    assert refused.outcome == "rejected"
    assert [(p.segment_id, p.element_position, p.code) for p in refused.errors] == [("SAC", 5, "6")]


def test_negative_sac_rate_is_read_by_size_or_refused_per_profile_never_raised():
    # SAC08 is signed in the map: rate x quantity below zero used to escape as a pydantic error.
    data = interchange(["PO1*1*2*EA*1.00*PE*VN*A", "SAC*C*D240******-2*EA*3"])
    [charge] = document(data).order.lines[0].charges
    assert (charge.amount, charge.rate, charge.quantity) == (Decimal("6.00"), Decimal("-2"), Decimal("3"))
    refused = document(data, with_conventions("acme", sac_amount_sign="positive"))
    assert refused.outcome == "rejected"
    assert [(p.segment_id, p.element_position, p.code) for p in refused.errors] == [("SAC", 8, "6")]


def test_line_numbers_as_sent_or_by_position():
    body = ["PO1*A1*1*EA*1.00*PE*VN*A", "PO1*A1*1*EA*1.00*PE*VN*B"]
    order = document(interchange(body)).order
    assert [line.line_no for line in order.lines] == ["A1", "A1"] and "used twice" in order.warnings[0]
    order = document(interchange(body), with_conventions("acme", line_numbers="position")).order
    assert [line.line_no for line in order.lines] == ["1", "2"] and order.warnings == []


def test_store_distribution_mismatch_can_reject_per_profile():
    body = ["PO1*1*10*EA*1.00*PE*VN*A", "SDQ*EA*92*0001*4*0002*5"]
    assert document(interchange(body)).outcome == "accepted_with_warnings"
    rejected = document(interchange(body), with_conventions("acme", distribution_mismatch="reject"))
    assert rejected.outcome == "rejected" and rejected.errors[0].trigger == ("PO1", 3, 2)


def test_distribution_in_another_unit_is_not_compared():
    line, doc = one_line("PO1*1*2*CA*1.00*PE*VN*A", "SDQ*EA*92*0001*12*0002*12")
    assert [d.quantity for d in line.distribution] == [Decimal("12"), Decimal("12")]
    assert doc.errors[0].acknowledged is False and "another unit" in doc.errors[0].message


def partner_on_999(partner_id: str = "acme") -> PartnerDirectory:
    return PartnerDirectory([p.model_copy(update={"x12": p.x12.model_copy(update={"ack": "999"})})
                             if p.id == partner_id else p for p in PARTNERS])


@pytest.mark.parametrize(
    "hash_total",
    [
        "6.5",  # the plain sum of PO102: 2.5 + 4
        "6.50",  # the same number
        "29",  # X12's hash total (element 347): digits without decimal points, 25 + 4
    ],
)
def test_ctt02_hash_total_that_adds_up_is_accepted(hash_total):
    body = ["PO1*1*2.5*LB*3.10*PP*VN*A", "PO1*2*4*EA*1.00*PE*VN*B"]
    doc = document(interchange(body, hash_total=hash_total))
    assert (doc.outcome, doc.errors, doc.order.warnings) == ("accepted", [], [])


def test_ctt02_hash_total_that_disagrees_is_noted_to_the_partner():
    data = interchange(["PO1*1*10*EA*1.00*PE*VN*A", "PO1*2*3*EA*1.00*PE*VN*B"], hash_total="14")
    doc = document(data)
    assert doc.outcome == "accepted_with_warnings" and doc.order.total == Decimal("13.00")
    assert doc.order.warnings == ["CTT02 says the quantities add up to 14, the lines order 13"]
    [problem] = doc.errors
    assert (problem.segment_id, problem.element_position, problem.acknowledged) == ("CTT", 2, True)
    segments = ack_of(data)
    assert segments[segments.index("AK2*850*0001") + 1:][:2] == ["AK3*CTT*5", "AK5*E*5"]
    assert "AK9*E*1*1*1" in segments
    segments = ack_of(data, partner_on_999())
    assert segments[segments.index("AK2*850*0001") + 1:][:2] == ["IK3*CTT*5**8", "IK5*E*5"]


def test_ctt02_is_compared_exactly():
    data = interchange(["PO1*1*2.5*LB*3.10*PP*VN*A", "PO1*2*4*EA*1.00*PE*VN*B"], hash_total="6.49")
    assert document(data).order.warnings == ["CTT02 says the quantities add up to 6.49, the lines order 6.5"]


def test_release_order_needs_its_release_number():
    doc = document(interchange(["PO1*1*1*EA*1.00*PE*VN*A"], order_type="RL"))
    assert doc.outcome == "accepted_with_warnings"
    assert (doc.errors[0].segment_id, doc.errors[0].element_position, doc.errors[0].code) == ("BEG", 4, "2")
    doc = document(interchange(["PO1*1*1*EA*1.00*PE*VN*A"], order_type="RL", release="0003"))
    assert (doc.outcome, doc.order.order_type, doc.order.release_no) == ("accepted", "RL", "0003")


def test_n9_dates_and_line_level_references_stay_where_they_belong():
    doc = document(interchange([
        "N9*ZZ*NOTE-1", "DTM*002*20240301", "MSG*Deliver to the back door",
        "PO1*1*1*EA*1.00*PE*VN*A", "REF*PD*PROMO9", "DTM*010*20240220",
    ]))
    order = doc.order
    assert order.references == {"ZZ": "NOTE-1"} and order.dates == {}
    assert order.lines[0].references == {"PD": "PROMO9"}
    assert order.lines[0].dates == {"requested_ship": dt.date(2024, 2, 20)}


LINE_PARTIES = [
    "N1*ST*Harbor & Pine DC East*UL*0614141000104",  # the order's ship-to
    "PO1*1*24*EA*18.50*PE*VN*HP-TEE*UP*012345678929",
    "REF*PD*PROMO9",  # the line's own reference
    "DTM*010*20240220",  # the line's own date
    "N1*ST*Harbor & Pine Store 0118*92*0118",  # this line ships to a store
    "N2*Back entrance",
    "N3*12 Harbor Road*Unit 4",
    "N4*Portland*ME*04101*US",
    "REF*ST*S-0118",
    "PER*RE*Store Receiving*TE*2075550100*EM*recv0118@harborpine.example",
    "DTM*002*20240305",  # the store's delivery date: not the line's
    "N1*Z7*Mark for department 42*1*123456789",
    "REF*DP*42",
    "PO1*2*6*EA*10.00*PE*VN*HP-CAP",
    "REF*PD*PROMO10",
]


def test_line_level_n1_loops_are_the_lines_parties():
    doc = document(interchange(LINE_PARTIES))
    assert doc.outcome == "accepted", [p.message for p in doc.errors]
    order = doc.order
    assert [(p.role, p.id) for p in order.parties] == [(PartyRole.SHIP_TO, "0614141000104")]
    tee, cap = order.lines
    store, mark_for = tee.parties
    assert (store.role, store.entity_code, store.name, store.id_qualifier, store.id_scheme, store.id) == (
        PartyRole.SHIP_TO, "ST", "Harbor & Pine Store 0118", "92", "assigned_by_buyer", "0118")
    assert (store.address_lines, store.city, store.region, store.postal_code, store.country) == (
        ["Back entrance", "12 Harbor Road", "Unit 4"], "Portland", "ME", "04101", "US")
    assert store.references == {"ST": "S-0118"}
    assert [(c.function, c.name, c.phone, c.email) for c in store.contacts] == [
        ("RE", "Store Receiving", "2075550100", "recv0118@harborpine.example")]
    assert (mark_for.role, mark_for.entity_code, mark_for.id_scheme, mark_for.id, mark_for.references) == (
        PartyRole.MARK_FOR, "Z7", "duns", "123456789", {"DP": "42"})
    # the N1 loops' REF, PER and DTM are the parties', not the line's; the next line has its own
    assert (tee.references, tee.dates) == ({"PD": "PROMO9"}, {"requested_ship": dt.date(2024, 2, 20)})
    assert order.contacts == [] and order.references == {}
    assert (cap.parties, cap.references) == ([], {"PD": "PROMO10"})


def test_line_parties_round_trip_through_json():
    order = document(interchange(LINE_PARTIES)).order
    assert type(order).model_validate_json(order.model_dump_json()) == order
    assert [len(line.parties) for line in order.lines] == [2, 0]


def test_machine_readable_form_shows_line_parties_only_where_the_document_has_them():
    from mappings.x12._results import order_json

    tee, cap = order_json(document(interchange(LINE_PARTIES)).order)["lines"]
    store, mark_for = tee["parties"]
    assert (store["id"], store["references"], store["city"]) == ("0118", {"ST": "S-0118"}, "Portland")
    assert "contacts" not in mark_for and mark_for["references"] == {"DP": "42"}  # empty details left out
    assert "parties" not in cap


def test_contacts_never_reach_problem_messages():
    doc = document(interchange(["PER*BD*Pat Secret*TE*5550000*EM*pat@example.com", "PO1*1*0*EA*1.00*PE*VN*A"]))
    assert doc.outcome == "rejected"
    assert all("Pat" not in p.message and "5550000" not in p.message for p in doc.errors)


def test_999_for_a_partner_on_4010():
    profiles = [p.model_copy(update={"x12": p.x12.model_copy(update={"ack": "999"})}) if p.id == "acme" else p
                for p in PARTNERS]
    result = process_interchange_file(interchange(["PO1*1*1*EA*1.00*PE*VN*A"]), partners=PartnerDirectory(profiles),
                                      now=NOW)
    [ack] = result.acks
    elements = [s.elements for s in iter_segments(ack.text.encode())]
    assert ack.kind == "999" and ack.file_name == "999_ACMERETAIL_000000001.x12"
    assert elements[1][8] == "005010X231A1" and elements[2] == ["ST", "999", "0001", "005010X231A1"]
    assert elements[3] == ["AK1", "PO", "900", "004010"]
    assert elements[5] == ["IK5", "A"]


# -- the store: cancellations and replacements act on the earlier order, the event log says what changed --

def test_replacement_and_cancellation_change_the_stored_order(sqlite_store):
    original = document(interchange(["PO1*1*10*EA*2.00*PE*VN*A", "PO1*2*1*EA*5.00*PE*VN*B"])).order
    replacement = document(interchange(["PO1*1*12*EA*2.00*PE*VN*A", "PO1*3*1*EA*7.00*PE*VN*C"], control=901,
                                       purpose="05")).order
    cancellation = document(interchange(["PO1*1*12*EA*2.00*PE*VN*A"], control=902, purpose="01")).order
    assert (replacement.purpose, cancellation.purpose) == (Purpose.REPLACEMENT, Purpose.CANCELLATION)
    with sqlite_store.transaction() as conn:
        created = st.save_order(conn, original, receipt_id=None, now=NOW)
        replaced = st.save_order(conn, replacement, receipt_id=None, now=NOW)
        cancelled = st.save_order(conn, cancellation, receipt_id=None, now=NOW)
        assert (created.action, replaced.action, cancelled.action) == ("created", "replaced", "cancelled")
        assert created.order_id == replaced.order_id == cancelled.order_id
        events = st.order_events_of(conn, present(created.order_id))
        stored = st.load_order(conn, present(created.order_id))
    assert [e["kind"] for e in events] == ["received", "replaced", "cancelled"]
    assert events[1]["detail"]["changes"] == {
        "total": ["25.00", "31.00"], "lines_added": ["3"], "lines_removed": ["2"], "lines_changed": ["1"]}
    assert stored.total == Decimal("31.00")


def test_line_parties_are_kept_by_the_store(sqlite_store):
    order = document(interchange(LINE_PARTIES)).order
    with sqlite_store.transaction() as conn:
        saved = st.save_order(conn, order, receipt_id=None, now=NOW)
        stored = st.load_order(conn, present(saved.order_id))
    assert stored.lines[0].parties == order.lines[0].parties and stored.lines[0].parties[0].city == "Portland"
