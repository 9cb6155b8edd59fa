"""The store's read-only views for people (the CLI's exception files, the demo's summary) on both backends."""

from __future__ import annotations

from collections import Counter

from hub import store as st
from hub.store import DeliveryState, ExceptionKind, OrderStatus
from tests.test_store_enums import _receive


def test_exception_files_name_the_receipt_each_exception_is_about(store):
    broken = _receive(store, "broken.x12", "acme_po_broken.x12")
    with store.transaction() as conn:
        erp = st.open_exception(conn, channel="erp", kind=ExceptionKind.ERP_REJECTED, reason="unknown SKU",
                                now=st.utcnow())
        queued = st.list_exceptions(conn)
        files = st.exception_files(conn, queued)
        assert st.exception_files(conn, []) == {}
    (from_file,) = [q for q in queued if q.receipt_id == broken]
    assert files == {from_file.id: "broken.x12", erp: None}


def test_store_counts_count_receipts_orders_acks_and_deliveries(store):
    _receive(store, "po.x12", "acme_po_4500012345.x12")
    _receive(store, "broken.x12", "acme_po_broken.x12")
    _receive(store, "po-again.x12", "acme_po_4500012345.x12")
    with store.transaction() as conn:
        before = st.store_counts(conn, target="erp")
        acks = st.pending_outbound(conn)
        st.mark_outbound_sent(conn, acks[0].id, now=st.utcnow())
        (delivery, *_) = st.claim_due_deliveries(conn, target="erp", now=st.utcnow(), limit=1)
        st.finish_delivery(conn, delivery.id, state=DeliveryState.DONE, now=st.utcnow())
        after = st.store_counts(conn, target="erp")
    assert before.receipts_by_outcome == Counter({"accepted": 1, "partially_accepted": 1, "duplicate": 1})
    assert before.orders_by_status == Counter({OrderStatus.OPEN: 3}) and before.orders_by_source == Counter(x12=3)
    assert (before.test_orders, before.orders_not_for_delivery) == (0, 0)
    assert before.acks_sent_by_kind == Counter(), "queued, not sent yet"
    assert before.deliveries_by_state == Counter({DeliveryState.PENDING: 3})
    assert after.acks_sent_by_kind == Counter({acks[0].kind: 1})
    assert after.deliveries_by_state == Counter({DeliveryState.PENDING: 2, DeliveryState.DONE: 1})
