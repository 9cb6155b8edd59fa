"""States and outcomes are StrEnums whose values are the strings the database holds, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from canonical.model import Purpose
from canonical.outcomes import DocumentOutcome, MappedOrderState, ReceiptOutcome
from hub import store as st
from hub.intake import process_x12_receipt, receive_document
from hub.store import (
    DeliveryState,
    ExceptionKind,
    ExceptionState,
    OrderStatus,
    OutboundState,
    ReceiptState,
    SaveAction,
)
from mappings.profiles import PartnerDirectory
from tests.test_store import NOW, make_order, receipt

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sandbox" / "samples"
PARTNERS = PartnerDirectory.load(REPO / "mappings" / "partners")

# The strings rows written before the enums hold: renaming a member's value would orphan them.
STORED_VALUES = {
    DeliveryState: {"pending", "in_flight", "done", "failed", "dead", "skipped"},
    ExceptionState: {"open", "replayed", "resolved"},
    OutboundState: {"pending", "sent", "failed"},
    ReceiptState: {"received", "processed"},
    ReceiptOutcome: {"accepted", "accepted_with_warnings", "partially_accepted", "rejected", "duplicate", "failed",
                     "not_x12", "not_shopify", "not_amazon", "ignored"},
    DocumentOutcome: {"accepted", "accepted_with_warnings", "rejected", "unsupported", "held", "incomplete"},
    MappedOrderState: {"ok", "held", "rejected"},
    OrderStatus: {"open", "cancelled"},
    SaveAction: {"created", "replaced", "updated", "unchanged", "cancelled", "already_stored", "duplicate",
                 "unknown_order"},
    ExceptionKind: {
        "rejected_file", "quarantined_file", "quarantined_folder", "intake_not_finished", "rejected_document",
        "duplicate_order", "unknown_order", "not_x12", "unreadable_data", "file_not_accepted", "rejected_interchange",
        "unsupported_transaction_set", "rejected_order", "unreadable_page", "ack_not_sent", "outbound_invalid",
        "ack_overdue", "outbound_rejected", "erp_rejected", "erp_unreachable", "erp_cancel_refused",
        "erp_update_needs_review", "shopify_fulfilment_rejected", "amazon_fulfilment_rejected",
    },
}


def test_every_enum_value_is_a_string_existing_rows_hold():
    for enum, values in STORED_VALUES.items():
        assert {member.value for member in enum} == values, enum.__name__
        for member in enum:
            assert member == member.value and f"{member}" == member.value, "compares and prints as its string"


def test_the_old_constant_names_are_the_members():
    assert tuple(DeliveryState) == (st.PENDING, st.IN_FLIGHT, st.DONE, st.FAILED, st.DEAD, st.SKIPPED)
    assert tuple(ExceptionState) == (st.OPEN, st.REPLAYED, st.RESOLVED)
    assert all(isinstance(name, DeliveryState) for name in (st.PENDING, st.DONE, st.DEAD))
    assert st.OPEN is ExceptionState.OPEN


def test_the_mappings_outcomes_are_the_canonical_enums():
    from mappings import _channel
    from mappings.amazon import _payloads as amazon
    from mappings.email import _map as email
    from mappings.shopify import _payloads as shopify
    from mappings.x12 import _results as x12

    mapped = set(x12.FILE_OUTCOMES) | set(shopify.FILE_OUTCOMES) | set(amazon.FILE_OUTCOMES) | set(email.FILE_OUTCOMES)
    assert mapped == set(ReceiptOutcome) - {ReceiptOutcome.FAILED}, "failed is the intake's, not a mapping's"
    assert set(x12.DOCUMENT_OUTCOMES) | set(shopify.DOCUMENT_OUTCOMES) | set(amazon.DOCUMENT_OUTCOMES) == set(
        DocumentOutcome)
    assert {_channel.OK, _channel.HELD, _channel.REJECTED} == set(MappedOrderState)


def _receive(store, name: str, sample: str) -> int:
    receipt = receive_document(store, channel="sftp", partner_id="acme", source_name=name,
                               data=(SAMPLES / sample).read_bytes(), max_bytes=1_000_000)
    process_x12_receipt(store, PARTNERS, receipt.id)
    return receipt.id


def test_a_real_intake_stores_the_enum_values_and_reads_them_back_as_members(store):
    good = _receive(store, "po.x12", "acme_po_4500012345.x12")
    broken = _receive(store, "broken.x12", "acme_po_broken.x12")
    resent = _receive(store, "po-again.x12", "acme_po_4500012345.x12")
    t = st.tables
    with store.transaction() as conn:
        receipts = dict(conn.execute(select(t.receipts.c.id, t.receipts.c.outcome)).all())
        receipt_states = set(conn.execute(select(t.receipts.c.state)).scalars())
        ledger = list(conn.execute(select(t.interchanges.c.outcome).order_by(t.interchanges.c.id)).scalars())
        kinds = set(conn.execute(select(t.exceptions.c.kind)).scalars())
        exception_states = set(conn.execute(select(t.exceptions.c.state)).scalars())
        outbound_states = set(conn.execute(select(t.outbound_documents.c.state)).scalars())
        delivery_states = set(conn.execute(select(t.outbox.c.state)).scalars())
        order_statuses = set(conn.execute(select(t.orders.c.status)).scalars())
    # Equal to the members, and stored as their values (a driver writing an Enum's name would store "PENDING").
    assert receipts == {good: ReceiptOutcome.ACCEPTED, broken: ReceiptOutcome.PARTIALLY_ACCEPTED,
                        resent: ReceiptOutcome.DUPLICATE}
    assert set(receipts.values()) == {"accepted", "partially_accepted", "duplicate"}
    assert receipt_states == {ReceiptState.PROCESSED} == {"processed"}
    assert ledger == [ReceiptOutcome.ACCEPTED, ReceiptOutcome.PARTIALLY_ACCEPTED, ReceiptOutcome.DUPLICATE]
    assert ExceptionKind.REJECTED_DOCUMENT in kinds and kinds <= set(ExceptionKind)
    assert exception_states == {ExceptionState.OPEN} == {"open"}
    assert outbound_states == {OutboundState.PENDING} == {"pending"}
    assert delivery_states == {DeliveryState.PENDING} == {"pending"}
    assert order_statuses == {OrderStatus.OPEN} == {"open"}

    with store.transaction() as conn:
        receipt = st.get_receipt(conn, broken)
        assert receipt.state is ReceiptState.PROCESSED and receipt.outcome is ReceiptOutcome.PARTIALLY_ACCEPTED
        (exception,) = st.list_exceptions(conn, state=ExceptionState.OPEN, receipt_id=broken)
        assert exception.state is ExceptionState.OPEN and exception.kind == ExceptionKind.REJECTED_DOCUMENT
        ack = st.outbound_for_receipt(conn, good)[0]
        assert ack.state is OutboundState.PENDING
        st.mark_outbound_sent(conn, ack.id, now=st.utcnow())
        claimed = st.claim_due_deliveries(conn, target="erp", now=st.utcnow())
        assert claimed and all(d.state is DeliveryState.IN_FLIGHT for d in claimed)
        st.finish_delivery(conn, claimed[0].id, state=DeliveryState.DONE, now=st.utcnow())
        st.close_exception(conn, exception.id, state=ExceptionState.RESOLVED, now=st.utcnow(), note="resent")
    with store.transaction() as conn:
        assert conn.execute(select(t.outbound_documents.c.state).where(t.outbound_documents.c.id == ack.id)
                            ).scalar_one() == "sent"
        assert conn.execute(select(t.outbox.c.state).where(t.outbox.c.id == claimed[0].id)).scalar_one() == "done"
        assert st.deliveries_by_state(conn, "erp") == {DeliveryState.DONE: 1, DeliveryState.IN_FLIGHT: len(claimed) - 1}
        assert conn.execute(select(t.exceptions.c.state).where(t.exceptions.c.id == exception.id)
                            ).scalar_one() == "resolved"


def test_saving_orders_answers_with_save_actions_and_stores_order_statuses(store):
    later = NOW + dt.timedelta(minutes=5)
    with store.transaction() as conn:
        receipt(conn)  # archives the raw document the orders point at
        saved = [st.save_order(conn, make_order(), receipt_id=None, now=NOW)]
        saved.append(st.save_order(conn, make_order(), receipt_id=None, now=NOW))
        saved.append(st.save_order(conn, make_order(doc="ISA 2/GS 1/ST 0001"), receipt_id=None, now=NOW))
        saved.append(st.save_order(conn, make_order(purpose=Purpose.REPLACEMENT, doc="ISA 3/GS 1/ST 0001"),
                                   receipt_id=None, now=NOW))
        saved.append(st.save_order(conn, make_order(purpose=Purpose.CANCELLATION, doc="ISA 4/GS 1/ST 0001"),
                                   receipt_id=None, now=NOW))
        saved.append(st.save_order(conn, make_order(ref="PO-404", purpose=Purpose.CANCELLATION), receipt_id=None,
                                   now=NOW))
        for updated_at, qty in ((NOW, "2"), (NOW, "2"), (later, "3")):
            saved.append(st.save_channel_order(conn, make_order(ref="5001", qty=qty), source_updated_at=updated_at,
                                               receipt_id=None, now=NOW))
        statuses = dict(conn.execute(select(st.tables.orders.c.source_ref, st.tables.orders.c.status)).all())
    assert [s.action for s in saved] == [
        SaveAction.CREATED, SaveAction.ALREADY_STORED, SaveAction.DUPLICATE, SaveAction.REPLACED, SaveAction.CANCELLED,
        SaveAction.UNKNOWN_ORDER, SaveAction.CREATED, SaveAction.UNCHANGED, SaveAction.UPDATED]
    assert statuses == {"PO-1": OrderStatus.CANCELLED, "5001": OrderStatus.OPEN}


def test_a_state_or_outcome_that_is_not_a_member_is_refused_before_it_is_stored(store):
    good = _receive(store, "po.x12", "acme_po_4500012345.x12")
    with store.transaction() as conn:
        (delivery, *_) = st.claim_due_deliveries(conn, target="erp", now=st.utcnow())
    with store.transaction() as conn, pytest.raises(ValueError, match="not a valid DeliveryState"):
        st.finish_delivery(conn, delivery.id, state="delivered", now=st.utcnow())
    with store.transaction() as conn, pytest.raises(ValueError, match="not a valid ReceiptOutcome"):
        st.finish_receipt(conn, good, outcome="acepted", reason=None, now=st.utcnow())
    with store.transaction() as conn:
        assert st.delivery_of(conn, order_id=delivery.order_id, target="erp").state is DeliveryState.IN_FLIGHT
        assert st.get_receipt(conn, good).outcome is ReceiptOutcome.ACCEPTED
        st.finish_delivery(conn, delivery.id, state="done", now=st.utcnow())  # the value is as good as the member
        assert st.delivery_of(conn, order_id=delivery.order_id, target="erp").state is DeliveryState.DONE
