"""The delivery loop drives any registered target: the toy box gets the ERP's exactly-once behaviour.

The outbox rows for the toy box are queued here by hand (what the intake does for a profile listing
it); everything after that is the hub's own delivery loop, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select

from canonical.errors import RejectedDocument, RetriableError
from hub import store as st
from hub.delivery import deliver_due_orders
from hub.intake import process_x12_receipt, receive_document
from hub.reconciliation import reconcile_target
from mappings.profiles import PartnerDirectory
from mappings.x12.samples import SampleLine, build_850
from tests.present import present
from tests.seam.toy_target import ToyBox

REPO = Path(__file__).resolve().parents[2]
PARTNERS = PartnerDirectory.load(REPO / "mappings" / "partners")
ACME = PARTNERS.get("acme")
NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)


class MoodyBox(ToyBox):
    """A toy box that refuses one SKU and can fail like a busy server, or without an answer."""

    def __init__(self, folder: Path, name: str) -> None:
        super().__init__(folder, name)
        self.refuse_sku: str | None = None
        self.fail: RetriableError | None = None

    def push(self, order):
        if self.fail is not None:
            raise self.fail
        if self.refuse_sku and any(line.sku == self.refuse_sku for line in order.lines):
            raise RejectedDocument(f"no such product {self.refuse_sku}")
        return super().push(order)


def store_order(store: st.HubStore, data: bytes, name: str) -> int:
    """Through the X12 intake; the toy box's delivery queued as a profile listing it would have it."""
    receipt = receive_document(store, channel="sftp", partner_id="acme", source_name=name, data=data,
                               max_bytes=1_000_000, now=NOW)
    process_x12_receipt(store, PARTNERS, receipt.id, now=NOW)
    with store.transaction() as conn:
        order_id = conn.execute(select(func.max(st.tables.orders.c.id))).scalar_one()
        st.enqueue_delivery(conn, order_id=order_id, target="toybox", now=NOW)
    return order_id


def test_the_toy_box_is_delivered_to_once_refused_orders_wait_for_a_person_and_holds_are_per_target(store, tmp_path):
    box = MoodyBox(tmp_path / "box", "toybox")
    first = store_order(store, build_850(ACME, po_number="PO-1", control_number=1,
                                         lines=[SampleLine("WID-100", "2", "4.50")]), "1.x12")
    second = store_order(store, build_850(ACME, po_number="PO-2", control_number=2,
                                          lines=[SampleLine("GAD-999", "1", "9.99")]), "2.x12")
    # A write to the ERP is in doubt: the ERP's deliveries wait, the toy box's do not.
    with store.transaction() as conn:
        erp_row = st.delivery_of(conn, order_id=first, target="erp")
        st.finish_delivery(conn, erp_row.id, state=st.FAILED, now=NOW, next_attempt_at=NOW + dt.timedelta(hours=1),
                           error=f"timed out {st.IN_DOUBT_MARK}{(NOW + dt.timedelta(hours=1)).isoformat()}]")

    box.refuse_sku = "GAD-999"
    summary = deliver_due_orders(store, box, now=NOW)
    assert (summary.pushed, summary.dead, summary.on_hold_until) == (1, 1, None)
    assert box.writes() == ["created acme:PO-1"]
    with store.transaction() as conn:
        (refused,) = st.list_exceptions(conn)
        assert st.delivery_of(conn, order_id=first, target="erp").state == st.FAILED, "the ERP's row untouched"
    assert (refused.channel, refused.kind, refused.order_id) == ("toybox", "toybox_rejected", second)
    assert refused.reason == "the toy box refused the order: no such product GAD-999"

    # Fixed and replayed: delivered, the exception closes; a second pass writes nothing.
    box.refuse_sku = None
    with store.transaction() as conn:
        st.requeue_delivery(conn, order_id=second, target="toybox", now=NOW)
    assert deliver_due_orders(store, box, now=NOW).pushed == 1
    assert deliver_due_orders(store, box, now=NOW).attempted == 0
    with store.transaction() as conn:
        assert st.get_exception(conn, refused.id).state == st.REPLAYED
    assert sorted(box.writes()) == ["created acme:PO-1", "created acme:PO-2"]
    assert reconcile_target(store, box, partner_ids=["acme"]).passed

    # A write without an answer holds the toy box's next writes until it can no longer land.
    in_doubt = RetriableError("no answer", retry_after=60)
    in_doubt.write_in_doubt = True
    box.fail = in_doubt
    with store.transaction() as conn:
        st.requeue_delivery(conn, order_id=first, target="toybox", now=NOW)
    assert deliver_due_orders(store, box, now=NOW).on_hold_until == NOW + dt.timedelta(seconds=60)
    box.fail = None
    with store.transaction() as conn:
        st.requeue_delivery(conn, order_id=second, target="toybox", now=NOW)
    assert deliver_due_orders(store, box, now=NOW + dt.timedelta(seconds=30)).attempted == 0, "on hold"
    later = deliver_due_orders(store, box, now=NOW + dt.timedelta(seconds=61))
    assert (later.unchanged, later.on_hold_until) == (2, None)
    assert len(box.writes()) == 2, "looked up, found, not written again"


def test_a_cancellation_reaches_the_toy_box_and_the_check_sees_it(store, tmp_path):
    box = ToyBox(tmp_path / "box", "toybox")
    order_id = store_order(store, build_850(ACME, po_number="PO-9", control_number=1,
                                            lines=[SampleLine("WID-100", "2", "4.50")]), "1.x12")
    assert deliver_due_orders(store, box, now=NOW).pushed == 1
    process_x12_receipt(store, PARTNERS, receive_document(
        store, channel="sftp", partner_id="acme", source_name="2.x12", max_bytes=1_000_000, now=NOW,
        data=build_850(ACME, po_number="PO-9", purpose="01", control_number=2)).id, now=NOW)
    with store.transaction() as conn:  # what the intake does for every target the order was queued for
        st.requeue_delivery(conn, order_id=order_id, target="toybox", now=NOW)
    assert not reconcile_target(store, box).passed, "cancelled in the hub, still live in the box"

    assert deliver_due_orders(store, box, now=NOW).cancelled == 1
    with store.transaction() as conn:
        events = [(e["kind"], e["detail"]) for e in st.order_events_of(conn, order_id)]
    assert events[-1] == ("toybox_cancelled", {"target": "toybox", "record": "PO-9.1.json", "revision": 2})
    check = reconcile_target(store, box)
    assert check.passed and check.cancelled_expected == 1


def test_a_toy_box_exception_names_the_delivery_to_queue_again(store, tmp_path):
    from hub.delivery import requeue_failed_delivery

    box = MoodyBox(tmp_path / "box", "toybox")
    box.refuse_sku = "WID-100"
    order_id = store_order(store, build_850(ACME, po_number="PO-3", control_number=1,
                                            lines=[SampleLine("WID-100", "2", "4.50")]), "1.x12")
    assert deliver_due_orders(store, box, now=NOW).dead == 1
    with store.transaction() as conn:
        (refused,) = st.list_exceptions(conn)
        assert requeue_failed_delivery(conn, refused, now=NOW) == "toybox"
        assert st.delivery_of(conn, order_id=order_id, target="toybox").state == st.PENDING
        other = st.open_exception(conn, channel="sftp", kind="rejected_document", reason="x", order_id=order_id,
                                  now=NOW)
        assert requeue_failed_delivery(conn, present(st.get_exception(conn, other)), now=NOW) is None
