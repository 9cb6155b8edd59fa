"""Turn an archived X12 receipt into stored orders, ledger rows, queued acks and exceptions, in bounded batches."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from sqlalchemy import Connection

from canonical.errors import FatalError, RetriableError
from canonical.model import Order, Purpose
from canonical.outcomes import DocumentOutcome, ReceiptOutcome
from hub import store as st
from hub.faults import fault_point
from hub.store._ack_sla import apply_outbound_functional_ack
from hub.targets import delivery_targets
from hub.validation import admit, admit_new_version, gated, needs_approval
from mappings.profiles import PartnerDirectory
from mappings.x12 import process_interchange_file
from mappings.x12._results import InterchangeResult

log = logging.getLogger(__name__)

TEST_ORDER_HELD = "test order: never pushed to production targets"  # the held event's reason
CLEAN_OUTCOMES = frozenset({ReceiptOutcome.ACCEPTED, ReceiptOutcome.ACCEPTED_WITH_WARNINGS, ReceiptOutcome.DUPLICATE})
"""Receipt outcomes that need nobody; every other one opens an exception."""
_STORABLE = frozenset({DocumentOutcome.ACCEPTED, DocumentOutcome.ACCEPTED_WITH_WARNINGS})
"""Document outcomes whose order is stored."""


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
    store: st.HubStore, partners: PartnerDirectory, receipt_id: int, *, replay: bool = False,
    now: dt.datetime | None = None, claim_stale_after: dt.timedelta = st.RECEIPT_CLAIM_STALE_AFTER,
    on_bytes: Callable[[int], object] | None = None,
) -> IntakeSummary:
    """Validate and map an archived X12 file, store what it says, queue its acks (idempotent).

    A receipt is processed once: the run that claims it (compare-and-set, on SQLite and
    PostgreSQL alike) processes it, a concurrent one gets ``RetriableError``, a later one the
    recorded outcome. The work is committed in bounded batches, each with the receipt's progress,
    so other writers wait at most one batch, and a run that died is taken over (at once when it
    was a process of this machine, else after ``claim_stale_after``) and resumes after the
    interchanges already committed. ``replay=True`` processes it again after a fix, in one
    transaction (orders already stored are left alone, no new acks are sent) and closes the
    exceptions that no longer occur. ``on_bytes(n)`` is told as each piece of the file is read (progress).
    """
    now = now or st.utcnow()
    if replay:
        with store.transaction() as conn:
            locked = st.get_receipt(conn, receipt_id, for_update=True)
            return _process(_Batches(store, conn), partners, locked, replay=True, now=now, on_bytes=on_bytes)
    token = st.new_claim_token()
    with store.transaction() as conn:
        receipt = st.claim_receipt(conn, receipt_id, token=token, clock=st.utcnow(), stale_after=claim_stale_after)
        if receipt is None:
            receipt = st.get_receipt(conn, receipt_id)
            if receipt.state != st.ReceiptState.PROCESSED:
                raise RetriableError(f"receipt {receipt_id} is being processed by another run")
            summary = IntakeSummary(receipt.id, receipt.partner_id, receipt.source_name, outcome=receipt.outcome or "")
            summary.already_processed = True
            summary.reason = receipt.reason
            return summary
    batches = _Batches(store, None, receipt_id=receipt.id, token=token, done=receipt.interchanges_done)
    try:
        return _process(batches, partners, receipt, replay=False, now=now, on_bytes=on_bytes)
    except BaseException:
        batches.abandon()
        raise


BATCH_DOCUMENTS = 500
"""Transaction sets per commit at most, and orders per bulk insert."""
BATCH_INTERCHANGES = 500
"""Interchanges per commit at most (each brings ledger rows and acks)."""
BATCH_SECONDS = 2.0
"""A batch is committed at the next interchange end once it has been open this long."""
SQLITE_PAUSE = 0.1
"""On SQLite, a pause after a commit: SQLite waiters poll for the lock (every 100 ms once they waited
a while), so a writer that begins again at once would starve a sensor tick until its busy timeout
("database is locked"); a 100 ms gap lets any waiter in."""
SQLITE_PAUSE_EVERY = 1.0
"""Seconds of work between two pauses (a pause after the first commit past it): other writers wait
about a second at most, and the pauses cost ~10% of a big file's time (a pause of a quarter of every
batch's time, as before, cost 20-25%: 1.5 s of a 10,000-order file)."""


class _Batches:
    """The transaction a receipt is processed in, committed in bounded batches with the receipt's progress.

    With no claim ``token`` (a replay) it is the caller's one transaction ``conn``, never committed here.
    """

    def __init__(self, store: st.HubStore, conn: Connection | None, *, receipt_id: int = 0,
                 token: str | None = None, done: int = 0) -> None:
        self.store, self.receipt_id, self.token = store, receipt_id, token
        self.interchanges_done = done
        self.before_commit = lambda: None
        self._scope: AbstractContextManager[Connection] | None = None
        self._documents = self._interchanges = 0
        self._opened = time.monotonic()
        self._worked = 0.0  # seconds of batches committed since the last pause (SQLite)
        self.conn: Connection = conn if conn is not None else self._begin()

    def _begin(self) -> Connection:
        self._scope = self.store.transaction()
        self.conn = self._scope.__enter__()
        self._documents = self._interchanges = 0
        self._opened = time.monotonic()
        return self.conn

    def documents_saved(self, count: int) -> None:
        """Orders were saved: commit if the batch is full (a resumed run finds them stored: idempotent)."""
        self._documents += count
        if self._documents >= BATCH_DOCUMENTS:
            self.commit()

    def interchange_done(self, documents: int) -> None:
        """An interchange's ledger row, exceptions and acks are written: commit when the batch is full."""
        self.interchanges_done += 1
        self._interchanges += 1
        self._documents += documents
        if (self._documents >= BATCH_DOCUMENTS or self._interchanges >= BATCH_INTERCHANGES
                or time.monotonic() - self._opened >= BATCH_SECONDS):
            self.commit()

    def commit(self, *, last: bool = False) -> None:
        """Commit the batch with the receipt's progress (renewing the claim) and begin the next one."""
        if self.token is None:
            return
        if not last:
            self.before_commit()
            st.renew_receipt_claim(self.conn, self.receipt_id, token=self.token, clock=st.utcnow(),
                                   interchanges_done=self.interchanges_done)
        scope, self._scope = self._scope, None
        assert scope is not None, "a claimed receipt's batch always has its transaction open"
        scope.__exit__(None, None, None)
        fault_point("after_batch_commit")
        if not last:
            if self.conn.dialect.name == "sqlite":
                self._worked += time.monotonic() - self._opened
                if self._worked >= SQLITE_PAUSE_EVERY:
                    time.sleep(SQLITE_PAUSE)
                    self._worked = 0.0
            self._begin()

    def abandon(self) -> None:
        """Roll the open batch back and give the claim back, so a retry starts at once from the last commit."""
        if self.token is None:
            return
        if self._scope is not None:
            scope, self._scope = self._scope, None
            try:
                scope.__exit__(RuntimeError, RuntimeError("processing stopped"), None)
            except Exception:  # noqa: BLE001 - the connection died with the server: the batch was not committed
                pass
        try:
            with self.store.transaction() as conn:
                st.release_receipt_claim(conn, self.receipt_id, token=self.token)
        except Exception as exc:  # noqa: BLE001 - the store is unreachable: a later run (or this process) takes it over
            st.give_up_claim(self.token)
            log.warning("could not release the claim on receipt %s: %s", self.receipt_id, type(exc).__name__)


def _process(batches: _Batches, partners: PartnerDirectory, receipt: st.Receipt, *, replay: bool,
             now: dt.datetime, on_bytes: Callable[[int], object] | None = None) -> IntakeSummary:
    summary = IntakeSummary(receipt.id, receipt.partner_id, receipt.source_name, outcome=receipt.outcome or "")
    if receipt.state == st.ReceiptState.PROCESSED and not replay:
        summary.already_processed = True
        summary.reason = receipt.reason
        return summary
    earlier_open = (st.list_exceptions(batches.conn, state=st.OPEN, receipt_id=receipt.id, limit=10_000)
                    if replay else [])

    def queue(kind: st.ExceptionKind, reason: str, **where) -> None:
        summary.exceptions.append(
            st.open_exception(batches.conn, channel=receipt.channel, kind=kind, reason=reason, now=now,
                              partner_id=receipt.partner_id, receipt_id=receipt.id,
                              raw_sha256=receipt.raw_sha256, **where)
        )

    # Only the inbox owner's profile: a file in ACME's folder cannot speak for another partner.
    profile = partners.get(receipt.partner_id)
    targets = gated(delivery_targets(profile), profile)  # orders breaking a rule wait for approval
    batch = _OrderBatch(batches, receipt, summary, queue, now, targets)
    batches.before_commit = batch.flush  # orders waiting for a bulk insert commit with their batch

    def accepted(document) -> None:
        # Streamed: accepted sets are stored in batches as soon as their interchange proved
        # sound, so memory does not grow with the file.
        summary.documents += 1
        batch.add(document)

    def interchange_done(interchange) -> None:
        _record_interchange(batches.conn, receipt, interchange, summary, queue, partners, replay, now, targets)
        batches.interchange_done(len(interchange.documents))

    scoped = PartnerDirectory([profile])
    done = [] if replay else _committed_interchanges(batches.conn, receipt)
    content = st.iter_raw_content(lambda: batches.conn, receipt.raw_sha256)
    result = process_interchange_file(
        content if on_bytes is None else _counted(content, on_bytes),
        partners=scoped,
        raw_document_id=receipt.raw_sha256,
        is_duplicate_interchange=lambda q, i, c: st.interchange_seen(
            batches.conn, sender_qualifier=q, sender_id=i, control_number=c, exclude_receipt_id=receipt.id
        ),
        next_control_number=(None if replay else
                             (lambda partner, kind: st.next_control_number(batches.conn, partner, kind))),
        now=now,
        on_document=accepted,
        on_interchange=interchange_done,
        done=done,
        acks_for=receipt.partner_id,  # acks go to this inbox owner's folder, numbered in its series
    )
    batch.flush()
    summary.outcome, summary.reason = result.outcome, result.reason
    summary.interchanges = len(result.interchanges)

    if result.outcome == ReceiptOutcome.NOT_X12:
        queue(st.ExceptionKind.NOT_X12, result.reason or "not an X12 interchange")
    if result.fault is not None:
        queue(st.ExceptionKind.UNREADABLE_DATA, f"{result.fault}; what came before it was processed")
    resumed_with_exceptions = bool(done) and bool(st.list_exceptions(batches.conn, receipt_id=receipt.id, limit=1))
    if result.outcome not in CLEAN_OUTCOMES and not summary.exceptions and not resumed_with_exceptions:
        # Nothing named what went wrong (e.g. a file half made of a resend), in this run or in an
        # interrupted one it resumed: the receipt must still be in the queue, or nobody looks at it.
        queue(st.ExceptionKind.FILE_NOT_ACCEPTED, result.reason or f"the file ended {result.outcome}")
    for earlier in earlier_open:
        if earlier.id in summary.exceptions:
            st.count_replay(batches.conn, earlier.id, now=now)
        else:
            st.close_exception(batches.conn, earlier.id, state=st.REPLAYED, now=now)
    st.finish_receipt(batches.conn, receipt.id, outcome=result.outcome, reason=result.reason, now=now,
                      token=batches.token)
    batches.commit(last=True)
    return summary


PROGRESS_PIECE = 1 << 20
"""Bytes per progress step: a file archived whole is handed to the reader in pieces of this size."""


def _counted(content: Iterator[bytes], on_bytes: Callable[[int], object]) -> Iterator[bytes]:
    """``content`` in pieces of at most ``PROGRESS_PIECE``, each reported to ``on_bytes`` as the reader takes it."""
    for chunk in content:
        view = memoryview(chunk)
        for start in range(0, len(chunk), PROGRESS_PIECE):
            piece = bytes(view[start:start + PROGRESS_PIECE])
            on_bytes(len(piece))
            yield piece


def _record_interchange(conn: Connection, receipt: st.Receipt, interchange, summary: IntakeSummary, queue,
                        partners: PartnerDirectory, replay: bool, now: dt.datetime, targets: Sequence[str]) -> None:
    """An interchange read to its end: its ledger row, the exceptions of its refused parts, its acks."""
    st.record_interchange(
        conn, receipt_id=receipt.id, partner_id=interchange.partner_id,
        sender_qualifier=interchange.sender_qualifier, sender_id=interchange.sender_id,
        receiver_qualifier=interchange.receiver_qualifier, receiver_id=interchange.receiver_id,
        control_number=interchange.control_number, is_test=interchange.is_test,
        outcome=interchange.outcome, now=now,
    )
    if interchange.outcome == ReceiptOutcome.DUPLICATE:
        pass  # answered with TA1 025 and recorded in the ledger; nothing to fix
    elif interchange.envelope_rejected:
        # The envelope itself was refused (TA1): one exception for the interchange, not one per set.
        faults = [p for p in interchange.errors if p.severity == "error"]
        queue(st.ExceptionKind.REJECTED_INTERCHANGE, _interchange_reason(interchange, faults, receipt, partners),
              location=faults[0].location if faults else None,
              document_ref=f"ISA {interchange.control_number}")
    else:
        for document in interchange.documents:
            summary.documents += 1
            _apply_document(conn, receipt, document, summary, queue, now, targets)
    if not replay:
        for ack in interchange.acks:
            st.queue_outbound(conn, partner_id=receipt.partner_id, kind=ack.kind, receipt_id=receipt.id,
                              control_number=ack.interchange_control_number, file_name=ack.file_name,
                              content=ack.text, now=now)
            summary.acks_queued.append(ack.file_name)


def _committed_interchanges(conn: Connection, receipt: st.Receipt) -> list[InterchangeResult]:
    """The interchanges an interrupted run committed (ledger rows), as results for the file's outcome."""
    if not receipt.interchanges_done:
        return []
    rows = st.committed_interchange_rows(conn, receipt.id, receipt.interchanges_done)
    if len(rows) != receipt.interchanges_done:  # resuming elsewhere than where it stopped would double acks
        raise FatalError(f"receipt {receipt.id} records {receipt.interchanges_done} interchanges done "
                         f"but the ledger holds {len(rows)}")
    return [
        InterchangeResult(
            partner_id=row.partner_id, sender_qualifier=row.sender_qualifier, sender_id=row.sender_id,
            receiver_qualifier=row.receiver_qualifier, receiver_id=row.receiver_id,
            control_number=row.control_number, is_test=row.is_test, version="", outcome=row.outcome, reason=None,
        )
        for row in rows
    ]


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

    SIZE = BATCH_DOCUMENTS

    def __init__(self, batches: _Batches, receipt: st.Receipt, summary: IntakeSummary, queue, now: dt.datetime,
                 targets: Sequence[str]) -> None:
        self.batches, self.receipt, self.summary, self.queue, self.now = batches, receipt, summary, queue, now
        self.targets = targets
        self.waiting: list[tuple[st.OrderRows, str, bool, str]] = []

    def add(self, document) -> None:
        """Save ``document``'s order now or with the batch."""
        order = document.order
        new_order = order is not None and order.purpose is Purpose.ORIGINAL
        if new_order and document.outcome in _STORABLE and not needs_approval(self.batches.conn, order, self.targets):
            rows = st.order_rows(self.batches.conn, order)
            self.waiting.append((rows, document.outcome, order.is_test, document.ref))
            if len(self.waiting) >= self.SIZE:
                self.flush()
            return
        self.flush()
        _apply_document(self.batches.conn, self.receipt, document, self.summary, self.queue, self.now, self.targets)

    def flush(self) -> None:
        """Save the waiting orders, then their events and deliveries, as ``_apply_document`` would."""
        waiting, self.waiting = self.waiting, []
        if not waiting:
            return
        conn, receipt_id, summary, now = self.batches.conn, self.receipt.id, self.summary, self.now
        saved = st.save_orders_bulk(conn, [rows for rows, *_ in waiting], receipt_id=receipt_id, now=now)
        validated, held, deliver = [], [], []
        for (rows, outcome, is_test, ref), result in zip(waiting, saved, strict=True):
            if result.action == st.SaveAction.CREATED:
                summary.orders_created += 1
                validated.append((result.stored_id, "validated", {"outcome": outcome, "warnings": list(rows.warnings)}))
                if is_test:
                    summary.test_orders += 1
                    held.append((result.stored_id, "held", {"reason": TEST_ORDER_HELD}))
                else:
                    deliver.append(result.stored_id)
            elif result.action == st.SaveAction.ALREADY_STORED:
                summary.orders_unchanged += 1
            else:  # duplicate: another document already created this order number
                self.queue(st.ExceptionKind.DUPLICATE_ORDER,
                           f"purchase order {rows.key[2]} was already received in another document",
                           order_id=result.order_id, document_ref=ref)
        # Per order the log reads received, validated, held, as when saved one by one.
        st.add_events_bulk(conn, validated + held, receipt_id=receipt_id, now=now)
        for target in self.targets:
            st.enqueue_deliveries_bulk(conn, deliver, target=target, now=now)
        self.batches.documents_saved(len(waiting))


def _apply_document(conn: Connection, receipt: st.Receipt, document, summary: IntakeSummary, queue, now,
                    targets: Sequence[str]) -> None:
    where = {"document_ref": document.ref}
    if document.outcome == DocumentOutcome.UNSUPPORTED:
        if document.functional_ack is not None and apply_outbound_functional_ack(
                conn, partner_id=receipt.partner_id, functional_ack=document.functional_ack,
                document_ref=document.ref, raw_sha256=receipt.raw_sha256, now=now) is not None:
            return  # the partner's 997/999 for one of our 855s, 810s, 856s or 846s: recorded on it, nothing to fix
        queue(st.ExceptionKind.UNSUPPORTED_TRANSACTION_SET,
              f"transaction set {document.transaction_set} is not supported yet; it was acknowledged, not processed",
              **where)
        return
    if document.outcome == DocumentOutcome.REJECTED or document.order is None:
        errors = [p for p in document.errors if p.severity == "error"] or document.errors
        first = errors[0] if errors else None
        reason = "; ".join(p.message for p in errors[:5]) or "transaction set rejected"
        queue(st.ExceptionKind.REJECTED_DOCUMENT, reason, location=first.location if first else None, **where)
        return
    order: Order = document.order
    saved = st.save_order(conn, order, receipt_id=receipt.id, now=now)
    if saved.action == st.SaveAction.CREATED:
        summary.orders_created += 1
        st.add_event(conn, saved.stored_id, "validated", {"outcome": document.outcome, "warnings": order.warnings},
                     receipt_id=receipt.id, now=now)
        if order.is_test:
            summary.test_orders += 1
            st.add_event(conn, saved.stored_id, "held", {"reason": TEST_ORDER_HELD},
                         receipt_id=receipt.id, now=now)
        elif admit(conn, order, saved.stored_id, targets, now=now):
            for target in targets:
                st.enqueue_delivery(conn, order_id=saved.stored_id, target=target, now=now)
    elif saved.action == st.SaveAction.REPLACED:
        summary.orders_replaced += 1
        if not order.is_test:
            deliver_new_version(conn, saved.stored_id, now, targets)
    elif saved.action == st.SaveAction.CANCELLED:
        summary.orders_cancelled += 1
        deliver_cancellation(conn, saved.stored_id, now, targets)
    elif saved.action == st.SaveAction.ALREADY_STORED:
        summary.orders_unchanged += 1
    elif saved.action == st.SaveAction.DUPLICATE:
        queue(st.ExceptionKind.DUPLICATE_ORDER,
              f"purchase order {order.source_ref} was already received in another document",
              order_id=saved.order_id, **where)
    else:  # unknown_order
        queue(st.ExceptionKind.UNKNOWN_ORDER,
              f"{order.purpose.value} of purchase order {order.source_ref}, which was never received", **where)


def _skip_undelivered(conn: Connection, order_id: int, now: dt.datetime, target: str) -> bool:
    """A cancelled order that has not reached ``target`` yet must not reach it at all; True if that was the case.

    "Not reached" means never attempted: a failed attempt may have created the sale order (a
    timed-out create), so it is not skipped here. Nor is a delivery paused for approval (skipped) after
    an attempt: the target may hold an earlier version, and the cancellation looks it up there.
    """
    delivery = st.delivery_of(conn, order_id=order_id, target=target)
    if delivery is None:
        return True
    never_tried = delivery.attempts == 0 and delivery.external_id is None
    if delivery.state == st.SKIPPED and never_tried:
        return True
    if delivery.state in (st.PENDING, st.FAILED) and never_tried:
        st.finish_delivery(conn, delivery.id, state=st.SKIPPED, now=now, error="order cancelled before delivery")
        return True
    return False


def deliver_new_version(conn: Connection, order_id: int, now: dt.datetime, targets: Sequence[str]) -> None:
    """Take a replaced or updated order to each target: queue its delivery, or queue it again if it happened."""
    if not admit_new_version(conn, order_id, targets, now=now):
        return  # held or rejected: judged again on the new content (hub.validation), not waved through
    for target in targets:
        st.enqueue_delivery(conn, order_id=order_id, target=target, now=now)
        st.requeue_delivery(conn, order_id=order_id, target=target, now=now)


def deliver_cancellation(conn: Connection, order_id: int, now: dt.datetime, targets: Sequence[str]) -> None:
    """Take a cancellation to each target: skip a delivery that never happened, else queue it again to cancel there."""
    for target in targets:
        if not _skip_undelivered(conn, order_id, now, target):
            st.requeue_delivery(conn, order_id=order_id, target=target, now=now)
