"""Making a target match the stored orders, from the outbox: idempotent, retried with backoff, dead-lettered.

Works with any :class:`hub.targets.OrderTarget` (the Odoo ERP, or any registered kind). A due
delivery loads its order as stored now and asks the target for what that means:

open order      not in the target: create it (event ``pushed``); there and different: follow the
                order's changes (``<target>_updated``) or find it matches (nothing to do); there but
                owned by the target's people (an Odoo sale order confirmed, locked, cancelled) and
                different: dead-letter ``<target>_update_needs_review``, the record untouched
cancelled order not in the target: skipped; there: cancelled (``<target>_cancelled``), or
                ``<target>_cancel_refused`` when the target refuses or would leave goods or bills behind

If the order changes again while its delivery is in flight, the delivery stays due and the next
pass delivers the newer revision (paused, ``skipped``, when that revision waits for approval). A
target that takes batches (``hub.targets.BatchOrderTarget``) gets the open orders a batch at a time
(``_batches.py``), with the same outcomes per order.

A write that got no answer (a timeout, a connection dropped after sending) may have committed or
may still commit: the target raises a ``RetriableError`` marked ``write_in_doubt`` whose
``retry_after`` outlasts any write still in flight. The delivery records "outcome unknown ...
[in doubt until T]" and is not due before T; until then no pass writes to that target at all (the
unanswered write may have been a customer other orders share). The next attempt looks the order up
by our reference before any create.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass

from pydantic import ValidationError
from sqlalchemy import select

from canonical.errors import ConfigurationError, RejectedDocument, RetriableError
from hub import store as st
from hub.targets import Action, BatchOrderTarget, Delivered, OrderTarget, batch_capacity

log = logging.getLogger(__name__)


@dataclass
class PushSummary:
    """What one push pass did."""

    pushed: int = 0
    updated: int = 0
    unchanged: int = 0
    cancelled: int = 0
    skipped: int = 0
    retrying: int = 0
    dead: int = 0
    # Set when a write got no answer: no write to the target happens before then (this pass's rest waits too).
    on_hold_until: dt.datetime | None = None

    @property
    def already_present(self) -> int:
        """Orders found in the target as they are stored (the older name of ``unchanged``)."""
        return self.unchanged

    @property
    def attempted(self) -> int:
        """Deliveries this pass claimed and settled one way or another."""
        return self.pushed + self.updated + self.unchanged + self.cancelled + self.skipped + self.retrying + self.dead


def backoff(attempt: int, retry_after: float | None = None, *, base: float = 30.0, cap: float = 3600.0) -> float:
    """Seconds to wait before attempt ``attempt + 1``: the server's hint, else exponential with full jitter."""
    if retry_after is not None:
        return max(0.0, retry_after)
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class _Outcome:
    """What the target now holds for one delivery, as the outbox and the event log record it."""

    state: str  # st.DONE or st.SKIPPED
    counter: str  # the PushSummary field to count it in
    event: str | None = None
    detail: dict | None = None
    record: str | None = None
    record_id: str | None = None
    note: str | None = None


class _DeadLetter(Exception):
    """The target holds something the hub must not change on its own: an exception for a person."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def deliver_due_orders(
    store: st.HubStore, target: OrderTarget, *, max_attempts: int = 5, limit: int = 500,
    now: dt.datetime | None = None, batch_size: int | None = None, in_flight: int | None = None,
) -> PushSummary:
    """Make ``target`` match every order with a due delivery to it, once. A configuration error stops the
    pass (and is raised).

    A target that takes batches (``hub.targets.BatchOrderTarget``) gets its open orders ``batch_size`` at
    a time with up to ``in_flight`` batches at once (default: the target's own settings); see ``_batches``.
    """
    now = now or st.utcnow()
    summary = PushSummary()
    with store.transaction() as conn:
        hold = st.writes_in_doubt_until(conn, target=target.name, now=now)
    if hold is not None:
        # A write the target left unanswered may still commit, e.g. a customer other orders share:
        # nothing is written until it cannot, whichever run this is.
        log.info("writes to %s on hold until %s (a write's outcome is unknown)", target.name, hold.isoformat())
        summary.on_hold_until = hold
        return summary
    with store.transaction() as conn:
        deliveries = st.claim_due_deliveries(conn, target=target.name, now=now, limit=limit)
    size, parallel = batch_capacity(target)
    size = size if batch_size is None else max(1, batch_size)
    if size > 1 and isinstance(target, BatchOrderTarget):
        from hub.delivery._batches import deliver_in_batches

        deliver_in_batches(store, target, deliveries, summary, now=now, max_attempts=max_attempts, batch_size=size,
                           in_flight=parallel if in_flight is None else max(1, in_flight))
        return summary
    for index, delivery in enumerate(deliveries):
        if summary.on_hold_until is not None:
            hold_back(store, delivery, now, summary.on_hold_until)
            summary.retrying += 1
            continue
        try:
            with store.transaction() as conn:
                stored = st.load_stored_order(conn, delivery.order_id)
        except ValidationError as exc:
            # Stored before a model rule it breaks existed (e.g. currency XQZ before the ISO 4217 check).
            _dead_unreadable(store, target, delivery, now, exc)
            summary.dead += 1
            continue
        try:
            deliver_one(store, target, delivery, stored, summary, now=now, max_attempts=max_attempts)
        except ConfigurationError:
            _release(store, target, deliveries[index + 1:], now)
            raise
    return summary


def deliver_one(store: st.HubStore, target: OrderTarget, delivery: st.Delivery, stored: st.StoredOrder,
                summary: PushSummary, *, now: dt.datetime, max_attempts: int) -> None:
    """Deliver one claimed order on its own and record what became of it (a ConfigurationError gives it back
    and is raised)."""
    if summary.on_hold_until is not None:
        hold_back(store, delivery, now, summary.on_hold_until)
        summary.retrying += 1
        return
    until = st.in_doubt_until(delivery.last_error)
    if until is not None and until > now:
        # Claimed early (a replay, a requeue): the last write may still commit. Not before then.
        _not_before(store, delivery, now, until)
        summary.retrying += 1
        return
    try:
        outcome = _deliver(target, stored, delivery)
    except ConfigurationError:
        _release(store, target, [delivery], now)
        raise
    except _DeadLetter as exc:
        _dead(store, target, delivery, stored, now, kind=exc.kind, reason=exc.reason)
        summary.dead += 1
        return
    except RejectedDocument as exc:
        _dead(store, target, delivery, stored, now, kind=f"{target.name}_rejected",
              reason=f"{target.label} refused the order: {exc.reason}")
        summary.dead += 1
        return
    except RetriableError as exc:
        retry_later(store, target, [(delivery, stored)], exc, summary, now=now, max_attempts=max_attempts)
        return
    _record(store, target, delivery, stored, outcome, now)
    count(summary, outcome)


def count(summary: PushSummary, outcome: _Outcome) -> None:
    """Add one settled delivery to the pass's summary."""
    setattr(summary, outcome.counter, getattr(summary, outcome.counter) + 1)


def hold_back(store: st.HubStore, delivery: st.Delivery, now: dt.datetime, until: dt.datetime) -> None:
    """Give a delivery back unsent because an earlier write of this pass got no answer."""
    _not_before(store, delivery, now, until,
                error=f"not sent: an earlier write's outcome is unknown {st.IN_DOUBT_MARK}{until.isoformat()}]")


def retry_later(store: st.HubStore, target: OrderTarget, deliveries: list[tuple[st.Delivery, st.StoredOrder]],
                exc: RetriableError, summary: PushSummary, *, now: dt.datetime, max_attempts: int) -> None:
    """Deliveries whose write failed for a passing reason (one order's, or one batch's): retried later, or
    dead after ``max_attempts``. A write in doubt puts the target's writes on hold until it cannot commit."""
    attempts = max(delivery.attempts for delivery, _ in deliveries)
    # An in-doubt write's retry_after is the wait until it can no longer commit: never sooner.
    wait = backoff(attempts, exc.retry_after)
    error = str(exc)
    if exc.write_in_doubt:
        until = now + dt.timedelta(seconds=wait)
        summary.on_hold_until = max(until, summary.on_hold_until or until)  # the rest of the pass waits too
        error += f" {st.IN_DOUBT_MARK}{summary.on_hold_until.isoformat()}]"
        log.warning("%s: %d deliveries' write outcome unknown; looked up again in %.0f s", target.name,
                    len(deliveries), wait)
    with store.transaction() as conn:
        held = held_meanwhile(conn, [delivery.order_id for delivery, _ in deliveries])
    for delivery, stored in deliveries:
        if delivery.order_id in held:  # retried once a person approves it (the push looks it up first)
            with store.transaction() as conn:
                st.finish_delivery(conn, delivery.id, state=st.SKIPPED, now=now, error=f"{HELD}; {error}",
                                   next_attempt_at=now + dt.timedelta(seconds=wait))
            continue
        if delivery.attempts >= max_attempts:
            _dead(store, target, delivery, stored, now, kind=f"{target.name}_unreachable",
                  reason=f"gave up after {delivery.attempts} attempts: {error}")
            summary.dead += 1
            continue
        with store.transaction() as conn:
            st.finish_delivery(conn, delivery.id, state=st.FAILED, now=now, error=error,
                               next_attempt_at=now + dt.timedelta(seconds=wait))
        summary.retrying += 1


def requeue_failed_delivery(conn, queued: st.QueuedException, *, now: dt.datetime) -> str | None:
    """Queue again the delivery a target's exception is about; the target's name, or None if it is not one.

    A delivery's exceptions carry the target as channel and kind ``<target>_...`` (``erp_rejected``).
    The next pass makes the target match the order as stored then (create, update or cancel).
    """
    target = queued.channel
    if queued.order_id is None or not queued.kind.startswith(f"{target}_"):
        return None
    if st.delivery_of(conn, order_id=queued.order_id, target=target) is None:
        return None
    st.requeue_delivery(conn, order_id=queued.order_id, target=target, now=now)
    return target


def _not_before(store: st.HubStore, delivery: st.Delivery, now: dt.datetime, until: dt.datetime,
                error: str | None = None) -> None:
    """Put a delivery claimed too early back, due at ``until``; the claim does not count as an attempt."""
    with store.transaction() as conn:
        st.give_back_delivery(conn, delivery, now=now, due=until, error=error or delivery.last_error)


def _deliver(target: OrderTarget, stored: st.StoredOrder, delivery: st.Delivery) -> _Outcome:
    order = stored.order
    record_key = getattr(target, "record_key", "record")  # the Odoo target says "sale_order"
    if stored.cancelled:
        result = target.cancel(order)
        if result.action == Action.NOT_THERE:
            return _Outcome(st.SKIPPED, "skipped", note=f"order cancelled before it reached {target.label}")
        if result.action == Action.REFUSED:
            raise _DeadLetter(f"{target.name}_cancel_refused", f"the order was cancelled but {result.reason}")
        detail = {"target": target.name, record_key: result.record, "revision": stored.revision}
        if result.action == Action.CANCELLED:
            return _Outcome(st.DONE, "cancelled", f"{target.name}_cancelled", detail, result.record, result.record_id)
        return _Outcome(st.DONE, "unchanged", None, None, result.record, result.record_id)  # already cancelled

    return outcome_of_push(target, stored, delivery, target.push(order))


def outcome_of_push(target: OrderTarget, stored: st.StoredOrder, delivery: st.Delivery, result: Delivered) -> _Outcome:
    """What a push's answer means for the delivery (raises ``_DeadLetter`` for a record people own now)."""
    record_key = getattr(target, "record_key", "record")
    changes = list(result.changes)
    if result.action == Action.NEEDS_REVIEW:
        reason = result.reason or f"{result.record} cannot be changed by the hub"
        raise _DeadLetter(f"{target.name}_update_needs_review",
                          f"{reason}; order revision {stored.revision} differs: {'; '.join(changes)}")
    detail = {"target": target.name, record_key: result.record, "revision": stored.revision}
    if result.action == Action.CREATED:
        return _Outcome(st.DONE, "pushed", "pushed", {**detail, "created": True}, result.record, result.record_id)
    if result.action == Action.UPDATED:
        return _Outcome(st.DONE, "updated", f"{target.name}_updated", {**detail, "changes": changes}, result.record,
                        result.record_id)
    # Unchanged: the first delivery still says where the order went (e.g. found after a timed-out create).
    first = delivery.external_id is None
    return _Outcome(st.DONE, "unchanged", "pushed" if first else None, {**detail, "created": False} if first else None,
                    result.record, result.record_id)


def _own_exceptions(conn, target: OrderTarget, order_id: int) -> list[st.QueuedException]:
    """The open exceptions this target's deliveries raised for one order."""
    return [queued for queued in st.list_exceptions(conn, state=st.OPEN, order_id=order_id, limit=10_000)
            if queued.channel == target.name and queued.kind.startswith(f"{target.name}_")]


def _record(store: st.HubStore, target: OrderTarget, delivery: st.Delivery, stored: st.StoredOrder,
            outcome: _Outcome, now: dt.datetime) -> None:
    with store.transaction() as conn:
        record_in(conn, target, delivery, stored, outcome, now)


HELD = "held for approval"
"""``last_error`` of a delivery paused because its order's newer version waits for a person (``hub.validation``)."""


def held_meanwhile(conn, order_ids: list[int]) -> set[int]:
    """Those of ``order_ids`` held back from delivery while open (a newer version awaiting approval): their
    deliveries are paused (skipped) rather than left due with content no person approved."""
    orders = st.tables.orders
    return set(conn.execute(select(orders.c.id).where(
        orders.c.id.in_(order_ids) & orders.c.not_pushed_reason.is_not(None)
        & (orders.c.status == st.OrderStatus.OPEN))).scalars())


def record_in(conn, target: OrderTarget, delivery: st.Delivery, stored: st.StoredOrder, outcome: _Outcome,
              now: dt.datetime) -> None:
    """Record a settled delivery in the caller's transaction (a batch records all of its orders in one)."""
    # The order changed while we talked to the target: leave the delivery due for its newer revision.
    newer = st.order_revision(conn, delivery.order_id) != stored.revision
    state = (st.SKIPPED if held_meanwhile(conn, [delivery.order_id]) else st.PENDING) if newer else outcome.state
    st.finish_delivery(
        conn, delivery.id, state=state, now=now, error=HELD if state == st.SKIPPED and newer else outcome.note,
        external_ref=outcome.record, external_id=outcome.record_id,
    )
    if outcome.event:
        st.add_event(conn, delivery.order_id, outcome.event, outcome.detail or {}, now=now)
    for queued in _own_exceptions(conn, target, delivery.order_id):
        st.close_exception(conn, queued.id, state=st.REPLAYED, now=now)


def _dead(store: st.HubStore, target: OrderTarget, delivery: st.Delivery, stored: st.StoredOrder,
          now: dt.datetime, *, kind: str, reason: str) -> None:
    with store.transaction() as conn:
        st.finish_delivery(conn, delivery.id, state=st.DEAD, now=now, error=reason)
        exception_id = st.open_exception(conn, channel=target.name, kind=kind, reason=reason,
                                         order_id=delivery.order_id, partner_id=stored.order.partner_id, now=now)
        # One open problem per order and target: the one this pass found replaces older ones.
        for queued in _own_exceptions(conn, target, delivery.order_id):
            if queued.id != exception_id:
                st.close_exception(conn, queued.id, state=st.RESOLVED, now=now,
                                   note=f"superseded by exception {exception_id} ({kind})")
    log.warning("%s delivery %s dead-lettered (%s)", target.name, delivery.id, kind)


def _dead_unreadable(store: st.HubStore, target: OrderTarget, delivery: st.Delivery, now: dt.datetime,
                     exc: ValidationError) -> None:
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
    reason = f"the stored order no longer passes the canonical model's rules ({problems}); correct it and replay"
    with store.transaction() as conn:
        st.finish_delivery(conn, delivery.id, state=st.DEAD, now=now, error=reason)
        st.open_exception(conn, channel=target.name, kind=f"{target.name}_rejected", reason=reason,
                          order_id=delivery.order_id, now=now)
    log.warning("%s delivery %s dead-lettered (stored order fails validation)", target.name, delivery.id)


def _release(store: st.HubStore, target: OrderTarget, deliveries: list[st.Delivery], now: dt.datetime) -> None:
    """Give claimed rows back untouched (attempt not counted) when the pass cannot run at all."""
    with store.transaction() as conn:
        for delivery in deliveries:
            st.give_back_delivery(conn, delivery, now=now, due=now, error=f"configuration error ({target.label})")
