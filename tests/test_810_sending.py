"""Sending 810s (hub/delivery/_invoices810.py): after the accounting invoice is posted (never while held),
once per invoice, validated before upload, numbered in the partner's series, its 997 followed with an SLA.

Tests taking ``store`` run on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from hub import store as st
from hub.delivery import send_pending_acks
from hub.delivery._invoices810 import open_overdue_invoice_acks, queue_invoices_810
from hub.store import InvoiceState
from hub.store._invoices810 import invoice_810s_of
from mappings.profiles import PartnerDirectory, X12SftpChannel
from mappings.x12._810 import cents
from mappings.x12._acks import AckAddress, GroupAck, SetAck, build_functional_ack
from mappings.x12._outbound_check import outbound_problems
from tests.edi855_orders import NOW, order
from tests.fixtures.partners import PARTNERS
from tests.test_855_sending import Folders, _receive

REFERENCE = "810/orderhub:acme:PO-855-1/1"


def acme_810(**settings) -> PartnerDirectory:
    """ACME asking for 810s (its shipped profile does not)."""
    profile = PARTNERS.get("acme")
    channel = profile.channel("x12_sftp")
    assert isinstance(channel, X12SftpChannel)
    return PartnerDirectory([profile.with_channel(channel.model_copy(update={"send_810": True, **settings}))])


def stored_order(store: st.HubStore, partner_id: str = "acme") -> int:
    with store.transaction() as conn:
        return st.save_order(conn, order(partner_id=partner_id), receipt_id=None, now=NOW).stored_id


def invoice(store: st.HubStore, order_id: int, *, state: InvoiceState = InvoiceState.POSTED, kind: str = "invoice",
            number: int = 1, lines=(("1", "10", "4.5"), ("2", "3", "12")), partner_id: str = "acme") -> int:
    """An accounting invoice of the order as hub.accounting stores it, in ``state`` (posted: with its record)."""
    reference = f"orderhub:{partner_id}:PO-855-1/{'C' if kind == 'credit_note' else ''}{number}"
    rows = [{"line_no": n, "sku": f"SKU-{n}", "quantity": q, "unit_price": p, "source_line": ""} for n, q, p in lines]
    with store.transaction() as conn:
        invoice_id = st.add_invoice(
            conn, target="erp", partner_id=partner_id, po_number="PO-855-1", order_id=order_id, reference=reference,
            kind=kind, state=state, lines=rows, amount=Decimal(0), refund_of=None, findings=[], actor="hub",
            note="test", now=NOW)
        if state is InvoiceState.POSTED:
            conn.execute(st.tables.invoices.update().where(st.tables.invoices.c.id == invoice_id)
                         .values(record=f"{'RINV' if kind == 'credit_note' else 'INV'}/2026/{number:05d}"))
    return invoice_id


def outbound(store: st.HubStore) -> list[st.OutboundDocument]:
    with store.transaction() as conn:
        return [d for d in st.pending_outbound(conn) if d.kind == "810"]


def test_a_posted_invoice_gets_one_810_and_a_rerun_sends_no_second(store):
    partners = acme_810()
    order_id = stored_order(store)
    invoice(store, order_id)
    assert queue_invoices_810(store, partners, now=NOW).queued == [REFERENCE]
    assert queue_invoices_810(store, partners, now=NOW).queued == []
    (document,) = outbound(store)
    assert document.file_name == "810_ACMERETAIL_000000001.x12" and document.control_number == "000000001"
    assert "BIG*20261204*INV/2026/00001*20261201*PO-855-1***DI~" in document.content
    assert "TDS*8100~" in document.content and outbound_problems(document.content) == []
    with store.transaction() as conn:
        (sent,) = invoice_810s_of(conn)
        assert (sent.reference, sent.invoice_number, sent.group_control, sent.set_control) == (
            REFERENCE, "INV/2026/00001", "1", "0001")
        assert any(e["kind"] == "invoice_810_queued" for e in st.order_events_of(conn, order_id))
    folders = Folders()
    for _ in range(2):  # written once to the partner's outbound folder
        send_pending_acks(store, partners, folders, now=NOW)
    assert list(folders.files["acme/outbound"]) == ["810_ACMERETAIL_000000001.x12"]


@pytest.mark.parametrize("state", [InvoiceState.HELD, InvoiceState.RELEASED, InvoiceState.SENDING])
def test_an_invoice_not_posted_gets_no_810(sqlite_store, state):
    invoice(sqlite_store, stored_order(sqlite_store), state=state)
    assert queue_invoices_810(sqlite_store, acme_810(), now=NOW).queued == []
    assert outbound(sqlite_store) == []


def test_a_partner_that_does_not_ask_gets_none(sqlite_store):
    invoice(sqlite_store, stored_order(sqlite_store))
    assert queue_invoices_810(sqlite_store, PartnerDirectory([PARTNERS.get("acme")]), now=NOW).queued == []


def test_a_credit_note_is_a_credit_memo_and_continues_the_numbers(sqlite_store):
    partners = acme_810()
    order_id = stored_order(sqlite_store)
    invoice(sqlite_store, order_id)
    queue_invoices_810(sqlite_store, partners, now=NOW)
    invoice(sqlite_store, order_id, kind="credit_note", lines=(("2", "1", "12"),))
    assert queue_invoices_810(sqlite_store, partners, now=NOW).queued == ["810/orderhub:acme:PO-855-1/C1"]
    _, credit = outbound(sqlite_store)
    assert credit.control_number == "000000002"
    assert "BIG*20261204*RINV/2026/00001*20261201*PO-855-1***CR~" in credit.content
    assert "TDS*1200~" in credit.content


def test_only_the_first_invoice_of_a_po_carries_the_orders_sac(sqlite_store):
    from canonical.model import Charge, ChargeKind

    partners = acme_810()
    freight = order().model_copy(update={"charges": [Charge(kind=ChargeKind.CHARGE, code="D240",
                                                            amount=Decimal("15"))]})
    with sqlite_store.transaction() as conn:
        order_id = st.save_order(conn, freight, receipt_id=None, now=NOW).stored_id
    invoice(sqlite_store, order_id, lines=(("1", "4", "4.5"),))
    invoice(sqlite_store, order_id, number=2, lines=(("1", "6", "4.5"), ("2", "3", "12")))
    queue_invoices_810(sqlite_store, partners, now=NOW)
    first, second = outbound(sqlite_store)
    assert "SAC*C*D240***1500~" in first.content and "TDS*3300~" in first.content  # 18.00 + 15.00
    assert "SAC*" not in second.content and "TDS*6300~" in second.content


def test_an_810_that_fails_our_maps_is_an_exception_and_uses_no_control_number(sqlite_store, monkeypatch):
    import hub.delivery._invoices810 as module

    real = module.build_810
    monkeypatch.setattr(module, "build_810", lambda *a, **k: real(*a, **k).replace("TDS*", "TDS*0.", 1))
    invoice(sqlite_store, stored_order(sqlite_store))
    summary = queue_invoices_810(sqlite_store, acme_810(), now=NOW)
    assert summary.queued == [] and summary.invalid == [REFERENCE]
    assert outbound(sqlite_store) == []
    with sqlite_store.transaction() as conn:
        (exception,) = st.list_exceptions(conn)
        assert exception.kind == st.ExceptionKind.OUTBOUND_INVALID and "TDS01" in exception.reason
    monkeypatch.setattr(module, "build_810", real)  # fixed: the next pass builds it, numbered 1, and closes it
    assert queue_invoices_810(sqlite_store, acme_810(), now=NOW).queued == [REFERENCE]
    assert outbound(sqlite_store)[0].control_number == "000000001"
    with sqlite_store.transaction() as conn:
        assert st.list_exceptions(conn) == []


def test_a_005010_partner_gets_a_005010_810(sqlite_store):
    profile = PARTNERS.get("greenleaf")
    channel = profile.channel("x12_sftp")
    assert isinstance(channel, X12SftpChannel)
    partners = PartnerDirectory([profile.with_channel(channel.model_copy(update={"send_810": True}))])
    invoice(sqlite_store, stored_order(sqlite_store, "greenleaf"), partner_id="greenleaf")
    queue_invoices_810(sqlite_store, partners, now=NOW)
    (document,) = outbound(sqlite_store)
    assert document.content.splitlines()[0].split("*")[12:14] == ["00501", "000005001"]
    assert "GS*IN*ORDERHUB*GREENLEAF*20261204*0930*5001*X*005010~" in document.content
    assert outbound_problems(document.content) == []


def _partner_997(group_control: str, status: str = "A") -> bytes:
    """ACME's 997 for our 810 group ``group_control`` (AK101 IN)."""
    group = GroupAck("IN", group_control, "004010", 1, [SetAck("810", "0001", status)])
    text = build_functional_ack("997", ours=AckAddress("ZZ", "ACMERETAIL", "ACMERETAIL"),
                                theirs=AckAddress("ZZ", "ORDERHUB", "ORDERHUB"), interchange_control=901,
                                groups=[(group, 78, 1)], isa12="00401", test=False, now=NOW)
    return text.encode()


def test_no_997_within_the_sla_is_an_exception_closed_when_the_997_arrives(store):
    partners = acme_810(ack_sla_hours=24)
    invoice(store, stored_order(store))
    queue_invoices_810(store, partners, now=NOW)
    sent_at = NOW + dt.timedelta(minutes=5)
    send_pending_acks(store, partners, Folders(), now=sent_at)
    assert open_overdue_invoice_acks(store, now=sent_at + dt.timedelta(hours=23, minutes=59)).overdue == []
    late = sent_at + dt.timedelta(hours=24, minutes=1)
    assert open_overdue_invoice_acks(store, now=late).overdue == [REFERENCE]
    assert open_overdue_invoice_acks(store, now=late).overdue == [REFERENCE]  # the same one, not two
    with store.transaction() as conn:
        (overdue,) = st.list_exceptions(conn)
        assert overdue.kind == st.ExceptionKind.ACK_OVERDUE and "ack SLA is 24 h" in overdue.reason

    _receive(store, partners, _partner_997("1"), "997_from_acme.x12")  # the intake matches it to our 810
    with store.transaction() as conn:
        assert st.list_exceptions(conn) == []
        (sent,) = invoice_810s_of(conn)
        assert sent.fa_status == "A" and sent.fa_received_at is not None
        # ... and writes no 997 for the partner's 997 (X12: a functional ack is never acknowledged)
        assert [d.kind for d in st.pending_outbound(conn)] == []
    assert open_overdue_invoice_acks(store, now=late + dt.timedelta(days=3)).overdue == []


def test_a_997_that_rejects_our_810_is_an_exception(sqlite_store):
    partners = acme_810()
    invoice(sqlite_store, stored_order(sqlite_store))
    queue_invoices_810(sqlite_store, partners, now=NOW)
    send_pending_acks(sqlite_store, partners, Folders(), now=NOW)
    _receive(sqlite_store, partners, _partner_997("1", status="R"), "997_rejecting.x12")
    with sqlite_store.transaction() as conn:
        (exception,) = st.list_exceptions(conn)
        assert invoice_810s_of(conn)[0].fa_status == "R"
    assert exception.kind == st.ExceptionKind.OUTBOUND_REJECTED and "status R" in exception.reason
    assert exception.document_ref == REFERENCE


def test_a_997_for_an_855_group_is_not_taken_for_an_810s(sqlite_store):
    from tests.test_855_sending import _partner_997 as partner_997_for_855

    partners = acme_810()
    invoice(sqlite_store, stored_order(sqlite_store))
    queue_invoices_810(sqlite_store, partners, now=NOW)
    _receive(sqlite_store, partners, partner_997_for_855("1"), "997_pr.x12")  # AK101 PR, same GS06
    with sqlite_store.transaction() as conn:
        assert invoice_810s_of(conn)[0].fa_received_at is None
        assert [e.kind for e in st.list_exceptions(conn)] == ["unsupported_transaction_set"]


def test_the_partners_units_and_qualifiers_from_its_profile_are_used(sqlite_store):
    profile = PARTNERS.get("acme")
    channel = profile.channel("x12_sftp")
    assert isinstance(channel, X12SftpChannel)
    x12 = channel.x12.model_copy(update={"uom_map": {"CS": "CA"}, "sku_qualifiers": ["VP", "VN"]})
    partners = PartnerDirectory([profile.with_channel(channel.model_copy(update={"send_810": True, "x12": x12}))])
    invoice(sqlite_store, stored_order(sqlite_store))
    queue_invoices_810(sqlite_store, partners, now=NOW)
    (document,) = outbound(sqlite_store)
    assert "IT1*2*3*CS*12**VP*SKU-2~" in document.content  # their CS for our CA, their VP for our SKU


def test_concurrent_runs_queue_one_810_and_leave_no_gap_in_the_numbers(store):
    import threading

    partners = acme_810()
    order_id = stored_order(store)
    invoice(store, order_id)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            queue_invoices_810(store, partners, now=NOW)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    invoice(store, order_id, number=2, lines=(("1", "1", "4.5"),))
    queue_invoices_810(store, partners, now=NOW)
    assert [d.control_number for d in outbound(store)] == ["000000001", "000000002"]


def test_the_850s_sac_reach_the_810_through_the_store(sqlite_store):
    """ACME's golden 850 read, stored and invoiced in full: its header freight and line 1's promotional
    allowance are in the 810 as the 850 sent them."""
    from mappings.x12 import process_interchange_file
    from tests.fixtures.partners import X12_DATA

    result = process_interchange_file((X12_DATA / "acme_850_4010.x12").read_bytes(), partners=PARTNERS, now=NOW)
    (document,) = result.interchanges[0].documents
    assert document.order is not None
    with sqlite_store.transaction() as conn:
        order_id = st.save_order(conn, document.order, receipt_id=None, now=NOW).stored_id
    lines = [(line.line_no, str(line.quantity), str(line.unit_price)) for line in document.order.lines]
    reference = "orderhub:acme:4500012345/1"
    rows = [{"line_no": n, "sku": "", "quantity": q, "unit_price": p, "source_line": ""} for n, q, p in lines]
    with sqlite_store.transaction() as conn:
        invoice_id = st.add_invoice(
            conn, target="erp", partner_id="acme", po_number="4500012345", order_id=order_id, reference=reference,
            kind="invoice", state=InvoiceState.POSTED, lines=rows, amount=Decimal(0), refund_of=None, findings=[],
            actor="hub", note="test", now=NOW)
        conn.execute(st.tables.invoices.update().where(st.tables.invoices.c.id == invoice_id)
                     .values(record="INV/2026/00077"))
    queue_invoices_810(sqlite_store, acme_810(), now=NOW)
    (sent,) = outbound(sqlite_store)
    body = sent.content.splitlines()
    it1 = next(i for i, s in enumerate(body) if s.startswith("IT1*1*12*"))
    assert body[it1 + 1:it1 + 3] == [  # line 1's allowance, in its IT1 loop
        "PID*F****Widget, blue, case of 6~", "SAC*A*C310***500**********Promo discount~"]
    tds = next(i for i, s in enumerate(body) if s.startswith("TDS*"))
    assert body[tds + 1] == "SAC*C*D240***2500**********Freight~"  # the header's, after TDS
    # 12 x 24.50 + 100 x 2.50 (250.00 per hundred) + 0 - 5.00 + 25.00
    assert body[tds] == f"TDS*{cents(document.order.total)}~" == "TDS*56400~"
    assert outbound_problems(sent.content) == []
