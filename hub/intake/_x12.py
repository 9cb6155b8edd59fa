"""Turn an archived X12 receipt into stored orders, ledger rows, queued acks and exceptions: one transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Connection

from hub import store as st
from hub.model import Order, Purpose
from mappings.profiles import PartnerDirectory
from mappings.x12 import process_interchange_file

ERP_TARGET = "erp"
CLEAN_OUTCOMES = frozenset({"accepted", "accepted_with_warnings", "duplicate"})
"""Receipt outcomes that need nobody; every other one opens an exception."""


@dataclass
class IntakeSummary:
    """What one receipt produced (shown as Dagster run metadata and by the CLI)."""

    receipt_id: int
    partner_id: str
    source_name: str
    outcome: str
    reason: str | None = None
    already_processed: bool = False
    interchanges: int = 0
    documents: int = 0
    orders_created: int = 0
    orders_replaced: int = 0
    orders_cancelled: int = 0
    orders_unchanged: int = 0
    test_orders: int = 0
    exceptions: list[int] = field(default_factory=list)
    acks_queued: list[str] = field(default_factory=list)


def process_x12_receipt(
    store: st.HubStore, partners: PartnerDirectory, receipt_id: int, *, replay: bool = False, now: dt.datetime | None = None
) -> IntakeSummary:
    """Validate and map an archived X12 file, store what it says, queue its acks (idempotent).

    A receipt is processed once; calling again returns the recorded outcome. ``replay=True``
    processes it again after a fix (orders already stored are left alone, no new acks are sent)
    and closes the exceptions that no longer occur.
    """
    now = now or st.utcnow()
    with store.transaction() as conn:
        receipt = st.get_receipt(conn, receipt_id, for_update=True)
        summary = IntakeSummary(receipt.id, receipt.partner_id, receipt.source_name, outcome=receipt.outcome or "")
        if receipt.state == "processed" and not replay:
            summary.already_processed = True
            summary.reason = receipt.reason
            return summary
        earlier_open = st.list_exceptions(conn, state=st.OPEN, receipt_id=receipt.id, limit=10_000)

        def queue(kind: str, reason: str, **where) -> None:
            summary.exceptions.append(
                st.open_exception(conn, channel=receipt.channel, kind=kind, reason=reason, now=now,
                                  partner_id=receipt.partner_id, receipt_id=receipt.id,
                                  raw_sha256=receipt.raw_sha256, **where)
            )

        batch = _OrderBatch(conn, receipt, summary, queue, now)

        def accepted(document) -> None:
            # Streamed: accepted sets are stored in batches as soon as their interchange proved
            # sound, so memory does not grow with the file.
            summary.documents += 1
            batch.add(document)

        # Only the inbox owner's profile: a file in ACME's folder cannot speak for another partner.
        scoped = PartnerDirectory([partners.get(receipt.partner_id)])
        result = process_interchange_file(
            st.iter_raw_content(conn, receipt.raw_sha256),
            partners=scoped,
            raw_document_id=receipt.raw_sha256,
            is_duplicate_interchange=lambda q, i, c: st.interchange_seen(
                conn, sender_qualifier=q, sender_id=i, control_number=c, exclude_receipt_id=receipt.id
            ),
            next_control_number=None if replay else (lambda partner, kind: st.next_control_number(conn, partner, kind)),
            now=now,
            on_document=accepted,
            acks_for=receipt.partner_id,  # acks go to this inbox owner's folder, numbered in its series
        )
        batch.flush()
        summary.outcome, summary.reason = result.outcome, result.reason
        summary.interchanges = len(result.interchanges)

        if result.outcome == "not_x12":
            queue("not_x12", result.reason or "not an X12 interchange")
        for interchange in result.interchanges:
            st.record_interchange(
                conn, receipt_id=receipt.id, partner_id=interchange.partner_id,
                sender_qualifier=interchange.sender_qualifier, sender_id=interchange.sender_id,
                receiver_qualifier=interchange.receiver_qualifier, receiver_id=interchange.receiver_id,
                control_number=interchange.control_number, is_test=interchange.is_test,
                outcome=interchange.outcome, now=now,
            )
            if interchange.outcome == "duplicate":
                continue  # answered with TA1 025 and recorded in the ledger; nothing to fix
            if interchange.envelope_rejected:
                # The envelope itself was refused (TA1): one exception for the interchange, not one per set.
                faults = [p for p in interchange.errors if p.severity == "error"]
                queue("rejected_interchange", _interchange_reason(interchange, faults, receipt, partners),
                      location=faults[0].location if faults else None,
                      document_ref=f"ISA {interchange.control_number}")
                continue
            for document in interchange.documents:
                summary.documents += 1
                _apply_document(conn, receipt, document, summary, queue, now)

        if result.fault is not None:
            queue("unreadable_data", f"{result.fault}; what came before it was processed")
        if result.outcome not in CLEAN_OUTCOMES and not summary.exceptions:
            # Nothing above named what went wrong (e.g. a file half made of a resend): the receipt
            # must still be in the queue, or nobody looks at it.
            queue("file_not_accepted", result.reason or f"the file ended {result.outcome}")

        if not replay:
            for ack in result.acks:
                st.queue_outbound(conn, partner_id=receipt.partner_id, kind=ack.kind, receipt_id=receipt.id,
                                  control_number=ack.interchange_control_number, file_name=ack.file_name,
                                  content=ack.text, now=now)
                summary.acks_queued.append(ack.file_name)
        for earlier in earlier_open:
            if earlier.id in summary.exceptions:
                st.count_replay(conn, earlier.id, now=now)
            else:
                st.close_exception(conn, earlier.id, state=st.REPLAYED, now=now)
        st.finish_receipt(conn, receipt.id, outcome=result.outcome, reason=result.reason, now=now)
    return summary


def _interchange_reason(interchange, faults, receipt: st.Receipt, partners: PartnerDirectory) -> str:
    owner = partners.by_x12_sender(interchange.sender_qualifier, interchange.sender_id)
    if owner is not None and owner.id != receipt.partner_id:
        return (f"interchange from {owner.id} ({interchange.sender_qualifier}/{interchange.sender_id.strip()}) "
                f"arrived in {receipt.partner_id}'s inbox: refused")
    return "; ".join(p.message for p in faults[:5]) or interchange.reason or "interchange rejected"


class _OrderBatch:
    """New orders waiting to be saved together (``save_orders_bulk``); anything else goes one by one.

    Same outcome as ``_apply_document`` per document: the batch is flushed before any document
    that is not a plain new order, so a cancellation or replacement sees the orders before it.
    Orders wait as plain rows (``order_rows``), not as models: cheap for the garbage collector.
    """

    SIZE = 500

    def __init__(self, conn: Connection, receipt: st.Receipt, summary: IntakeSummary, queue, now: dt.datetime) -> None:
        self.conn, self.receipt, self.summary, self.queue, self.now = conn, receipt, summary, queue, now
        self.waiting: list[tuple[st.OrderRows, str, bool, str]] = []

    def add(self, document) -> None:
        """Save ``document``'s order now or with the batch."""
        order = document.order
        new_order = order is not None and order.purpose is Purpose.ORIGINAL
        if new_order and document.outcome in ("accepted", "accepted_with_warnings"):
            rows = st.order_rows(self.conn, order)
            self.waiting.append((rows, document.outcome, order.is_test, document.ref))
            if len(self.waiting) >= self.SIZE:
                self.flush()
            return
        self.flush()
        _apply_document(self.conn, self.receipt, document, self.summary, self.queue, self.now)

    def flush(self) -> None:
        """Save the waiting orders, then their events and deliveries, as ``_apply_document`` would."""
        waiting, self.waiting = self.waiting, []
        if not waiting:
            return
        conn, receipt_id, summary, now = self.conn, self.receipt.id, self.summary, self.now
        saved = st.save_orders_bulk(conn, [rows for rows, *_ in waiting], receipt_id=receipt_id, now=now)
        validated, held, deliver = [], [], []
        for (rows, outcome, is_test, ref), result in zip(waiting, saved, strict=True):
            if result.action == "created":
                summary.orders_created += 1
                validated.append((result.order_id, "validated", {"outcome": outcome, "warnings": list(rows.warnings)}))
                if is_test:
                    summary.test_orders += 1
                    held.append((result.order_id, "held", {"reason": "test order: never pushed to production targets"}))
                else:
                    deliver.append(result.order_id)
            elif result.action == "already_stored":
                summary.orders_unchanged += 1
            else:  # duplicate: another document already created this order number
                self.queue("duplicate_order",
                           f"purchase order {rows.key[2]} was already received in another document",
                           order_id=result.order_id, document_ref=ref)
        # Per order the log reads received, validated, held, as when saved one by one.
        st.add_events_bulk(conn, validated + held, receipt_id=receipt_id, now=now)
        st.enqueue_deliveries_bulk(conn, deliver, target=ERP_TARGET, now=now)


def _apply_document(conn: Connection, receipt: st.Receipt, document, summary: IntakeSummary, queue, now) -> None:
    where = {"document_ref": document.ref}
    if document.outcome == "unsupported":
        queue("unsupported_transaction_set",
              f"transaction set {document.transaction_set} is not supported yet; it was acknowledged, not processed",
              **where)
        return
    if document.outcome == "rejected" or document.order is None:
        errors = [p for p in document.errors if p.severity == "error"] or document.errors
        first = errors[0] if errors else None
        reason = "; ".join(p.message for p in errors[:5]) or "transaction set rejected"
        queue("rejected_document", reason, location=first.location if first else None, **where)
        return
    order: Order = document.order
    saved = st.save_order(conn, order, receipt_id=receipt.id, now=now)
    if saved.action == "created":
        summary.orders_created += 1
        st.add_event(conn, saved.order_id, "validated", {"outcome": document.outcome, "warnings": order.warnings},
                     receipt_id=receipt.id, now=now)
        if order.is_test:
            summary.test_orders += 1
            st.add_event(conn, saved.order_id, "held", {"reason": "test order: never pushed to production targets"},
                         receipt_id=receipt.id, now=now)
        else:
            st.enqueue_delivery(conn, order_id=saved.order_id, target=ERP_TARGET, now=now)
    elif saved.action == "replaced":
        summary.orders_replaced += 1
        if not order.is_test:
            deliver_new_version(conn, saved.order_id, now)
    elif saved.action == "cancelled":
        summary.orders_cancelled += 1
        deliver_cancellation(conn, saved.order_id, now)
    elif saved.action == "already_stored":
        summary.orders_unchanged += 1
    elif saved.action == "duplicate":
        queue("duplicate_order", f"purchase order {order.source_ref} was already received in another document",
              order_id=saved.order_id, **where)
    else:  # unknown_order
        queue("unknown_order",
              f"{order.purpose.value} of purchase order {order.source_ref}, which was never received", **where)


def _skip_undelivered(conn: Connection, order_id: int, now: dt.datetime) -> bool:
    """A cancelled order that has not reached the ERP yet must not reach it at all; True if that was the case.

    "Not reached" means never attempted: a failed attempt may have created the sale order (a
    timed-out create), so it is not skipped here.
    """
    delivery = st.delivery_of(conn, order_id=order_id, target=ERP_TARGET)
    if delivery is None or delivery.state == st.SKIPPED:
        return True
    if delivery.state in (st.PENDING, st.FAILED) and delivery.attempts == 0 and delivery.external_id is None:
        st.finish_delivery(conn, delivery.id, state=st.SKIPPED, now=now, error="order cancelled before delivery")
        return True
    return False


def deliver_new_version(conn: Connection, order_id: int, now: dt.datetime) -> None:
    """Take a replaced or updated order to the ERP: queue its delivery, or queue it again if it happened."""
    st.enqueue_delivery(conn, order_id=order_id, target=ERP_TARGET, now=now)
    st.requeue_delivery(conn, order_id=order_id, target=ERP_TARGET, now=now)


def deliver_cancellation(conn: Connection, order_id: int, now: dt.datetime) -> None:
    """Take a cancellation to the ERP: skip a delivery that never happened, else queue it again to cancel there."""
    if not _skip_undelivered(conn, order_id, now):
        st.requeue_delivery(conn, order_id=order_id, target=ERP_TARGET, now=now)
