"""Making the ERP match the stored orders, from the outbox: idempotent, retried with backoff, dead-lettered.

A due delivery loads its order as stored now and asks the ERP for what that means:

open order      not in the ERP: create its sale order (event ``pushed``); in the ERP and a
                quotation: rewrite it to match (``erp_updated``) or find it matches (nothing to
                do); confirmed, locked or cancelled there and different: dead-letter
                ``erp_update_needs_review``, the sale order untouched
cancelled order not in the ERP: skipped; in the ERP: ``action_cancel`` (``erp_cancelled``), or
                ``erp_cancel_refused`` when Odoo refuses or deliveries/invoices would be left behind

If the order changes again while its delivery is in flight, the delivery stays due and the next
pass delivers the newer revision.

A write that got no answer (a timeout, a connection dropped after sending) may have committed or
may still commit: the target raises a ``RetriableError`` marked ``write_in_doubt`` whose
``retry_after`` outlasts any write still in flight. The delivery records "outcome unknown ...
[in doubt until T]" and is not due before T; until then no pass writes to the ERP at all (the
unanswered write may have been a customer other orders share). The next attempt looks the sale
order up by our reference before any create.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass
from typing import Protocol

from pydantic import ValidationError
from sqlalchemy import select

from hub import store as st
from canonical.errors import ConfigurationError, RejectedDocument, RetriableError
from hub.intake import ERP_TARGET
from canonical.model import Order

log = logging.getLogger(__name__)


class PushedSaleOrder(Protocol):
    """What a push did: ``action`` is created / updated / unchanged / needs_review (``changes`` and
    ``reason`` say what differs and why it was left alone)."""

    sale_order_id: int
    name: str
    created: bool
    action: str
    changes: tuple[str, ...]
    reason: str


class CancelledSaleOrder(Protocol):
    action: str
    sale_order_id: int | None
    name: str
    reason: str


class SalesOrderTarget(Protocol):
    """What delivery needs of an ERP (``connectors.erp.OdooSalesGateway`` provides it)."""

    def push_sale_order(self, order: Order, *, client_order_ref: str) -> PushedSaleOrder: ...

    def cancel_sale_order(self, order: Order, *, client_order_ref: str) -> CancelledSaleOrder: ...


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
    # Set when a write got no answer: no ERP write happens before then (this pass's rest waits too).
    on_hold_until: dt.datetime | None = None

    @property
    def already_present(self) -> int:
        """Orders found in the ERP as they are stored (the older name of ``unchanged``)."""
        return self.unchanged

    @property
    def attempted(self) -> int:
        return self.pushed + self.updated + self.unchanged + self.cancelled + self.skipped + self.retrying + self.dead


def erp_reference(order: Order) -> str:
    """The reference the ERP knows our order by (``client_order_ref``): the customer's PO number."""
    return order.source_ref


def backoff(attempt: int, retry_after: float | None = None, *, base: float = 30.0, cap: float = 3600.0) -> float:
    """Seconds to wait before attempt ``attempt + 1``: the server's hint, else exponential with full jitter."""
    if retry_after is not None:
        return max(0.0, retry_after)
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class _Outcome:
    """What the ERP now holds for one delivery, as the outbox and the event log record it."""

    state: str  # st.DONE or st.SKIPPED
    counter: str  # the PushSummary field to count it in
    event: str | None = None
    detail: dict | None = None
    sale_order_name: str | None = None
    sale_order_id: int | None = None
    note: str | None = None


def push_due_orders(
    store: st.HubStore, target: SalesOrderTarget, *, max_attempts: int = 5, limit: int = 500,
    now: dt.datetime | None = None,
) -> PushSummary:
    """Make the ERP match every order with a due delivery, once. A configuration error stops the pass (and is raised)."""
    now = now or st.utcnow()
    summary = PushSummary()
    if (hold := _writes_on_hold_until(store, now)) is not None:
        # A write the ERP left unanswered may still commit, e.g. a customer other orders share:
        # nothing is written until it cannot, whichever run this is.
        log.info("ERP writes on hold until %s (a write's outcome is unknown)", hold.isoformat())
        summary.on_hold_until = hold
        return summary
    with store.transaction() as conn:
        deliveries = st.claim_due_deliveries(conn, target=ERP_TARGET, now=now, limit=limit)
    for index, delivery in enumerate(deliveries):
        if summary.on_hold_until is not None:
            _not_before(store, delivery, now, summary.on_hold_until,
                        error=f"not sent: an earlier write's outcome is unknown {st.IN_DOUBT_MARK}"
                              f"{summary.on_hold_until.isoformat()}]")
            summary.retrying += 1
            continue
        try:
            with store.transaction() as conn:
                stored = st.load_stored_order(conn, delivery.order_id)
        except ValidationError as exc:
            # Stored before a model rule it breaks existed (e.g. currency XQZ before the ISO 4217 check).
            _dead_unreadable(store, delivery, now, exc)
            summary.dead += 1
            continue
        until = st.in_doubt_until(delivery.last_error)
        if until is not None and until > now:
            # Claimed early (a replay, a requeue): the last write may still commit. Not before then.
            _not_before(store, delivery, now, until)
            summary.retrying += 1
            continue
        try:
            outcome = _deliver(target, stored, delivery)
        except ConfigurationError:
            _release(store, deliveries[index:], now)
            raise
        except _DeadLetter as exc:
            _dead(store, delivery, stored, now, kind=exc.kind, reason=exc.reason)
            summary.dead += 1
            continue
        except RejectedDocument as exc:
            _dead(store, delivery, stored, now, kind="erp_rejected", reason=f"the ERP refused the order: {exc.reason}")
            summary.dead += 1
            continue
        except RetriableError as exc:
            # An in-doubt write's retry_after is the wait until it can no longer commit: never sooner.
            wait = backoff(delivery.attempts, exc.retry_after)
            error = str(exc)
            if getattr(exc, "write_in_doubt", False):
                summary.on_hold_until = now + dt.timedelta(seconds=wait)  # the rest of the pass waits too
                error += f" {st.IN_DOUBT_MARK}{summary.on_hold_until.isoformat()}]"
                log.warning("ERP delivery %s: write outcome unknown; looked up again in %.0f s", delivery.id, wait)
            if delivery.attempts >= max_attempts:
                _dead(store, delivery, stored, now, kind="erp_unreachable",
                      reason=f"gave up after {delivery.attempts} attempts: {error}")
                summary.dead += 1
            else:
                with store.transaction() as conn:
                    st.finish_delivery(conn, delivery.id, state=st.FAILED, now=now, error=error,
                                       next_attempt_at=now + dt.timedelta(seconds=wait))
                summary.retrying += 1
            continue
        _record(store, delivery, stored, outcome, now)
        setattr(summary, outcome.counter, getattr(summary, outcome.counter) + 1)
    return summary


def _writes_on_hold_until(store: st.HubStore, now: dt.datetime) -> dt.datetime | None:
    """The latest time an unanswered write may still commit, if that is after ``now``."""
    outbox = st.tables.outbox
    with store.transaction() as conn:
        errors = conn.execute(
            select(outbox.c.last_error).where(
                (outbox.c.target == ERP_TARGET)
                & outbox.c.state.in_([st.FAILED, st.PENDING, st.DEAD])
                & outbox.c.last_error.contains(st.IN_DOUBT_MARK, autoescape=True)
            )
        ).scalars().all()
    return max((until for error in errors if (until := st.in_doubt_until(error)) and until > now), default=None)


def _not_before(store: st.HubStore, delivery: st.Delivery, now: dt.datetime, until: dt.datetime,
                error: str | None = None) -> None:
    """Put a delivery claimed too early back, due at ``until``; the claim does not count as an attempt."""
    with store.transaction() as conn:
        st.finish_delivery(conn, delivery.id, state=st.FAILED, now=now, error=error or delivery.last_error,
                           next_attempt_at=until)
        conn.execute(
            st.tables.outbox.update().where(st.tables.outbox.c.id == delivery.id).values(attempts=delivery.attempts - 1)
        )


class _DeadLetter(Exception):
    """The ERP holds something the hub must not change on its own: an exception for a person."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def _deliver(target: SalesOrderTarget, stored: st.StoredOrder, delivery: st.Delivery) -> _Outcome:
    order = stored.order
    ref = erp_reference(order)
    if stored.cancelled:
        result = target.cancel_sale_order(order, client_order_ref=ref)
        if result.action == "not_in_erp":
            return _Outcome(st.SKIPPED, "skipped", note="order cancelled before it reached the ERP")
        if result.action == "refused":
            raise _DeadLetter("erp_cancel_refused", f"the order was cancelled but {result.reason}")
        detail = {"target": ERP_TARGET, "sale_order": result.name, "revision": stored.revision}
        if result.action == "cancelled":
            return _Outcome(st.DONE, "cancelled", "erp_cancelled", detail, result.name, result.sale_order_id)
        return _Outcome(st.DONE, "unchanged", None, None, result.name, result.sale_order_id)  # already cancelled

    result = target.push_sale_order(order, client_order_ref=ref)
    action, changes = result.action, list(result.changes)
    if action == "needs_review":
        reason = result.reason or f"sale order {result.name} cannot be changed by the hub"
        raise _DeadLetter("erp_update_needs_review",
                          f"{reason}; order revision {stored.revision} differs: {'; '.join(changes)}")
    detail = {"target": ERP_TARGET, "sale_order": result.name, "revision": stored.revision}
    if action == "created":
        return _Outcome(st.DONE, "pushed", "pushed", {**detail, "created": True}, result.name, result.sale_order_id)
    if action == "updated":
        return _Outcome(st.DONE, "updated", "erp_updated", {**detail, "changes": changes}, result.name,
                        result.sale_order_id)
    # Unchanged: the first delivery still says where the order went (e.g. found after a timed-out create).
    first = delivery.external_id is None
    return _Outcome(st.DONE, "unchanged", "pushed" if first else None, {**detail, "created": False} if first else None,
                    result.name, result.sale_order_id)


def _record(store: st.HubStore, delivery: st.Delivery, stored: st.StoredOrder, outcome: _Outcome,
            now: dt.datetime) -> None:
    with store.transaction() as conn:
        # The order changed while we talked to the ERP: leave the delivery due for its newer revision.
        newer = st.order_revision(conn, delivery.order_id) != stored.revision
        st.finish_delivery(
            conn, delivery.id, state=st.PENDING if newer else outcome.state, now=now, error=outcome.note,
            external_ref=outcome.sale_order_name,
            external_id=None if outcome.sale_order_id is None else str(outcome.sale_order_id),
        )
        if outcome.event:
            st.add_event(conn, delivery.order_id, outcome.event, outcome.detail or {}, now=now)
        for queued in st.list_exceptions(conn, state=st.OPEN, order_id=delivery.order_id, limit=10_000):
            if queued.kind.startswith("erp_"):
                st.close_exception(conn, queued.id, state=st.REPLAYED, now=now)


def _dead(store: st.HubStore, delivery: st.Delivery, stored: st.StoredOrder, now: dt.datetime, *, kind: str,
          reason: str) -> None:
    with store.transaction() as conn:
        st.finish_delivery(conn, delivery.id, state=st.DEAD, now=now, error=reason)
        exception_id = st.open_exception(conn, channel="erp", kind=kind, reason=reason, order_id=delivery.order_id,
                                         partner_id=stored.order.partner_id, now=now)
        # One open ERP problem per order: the one this pass found replaces older ones.
        for queued in st.list_exceptions(conn, state=st.OPEN, order_id=delivery.order_id, limit=10_000):
            if queued.kind.startswith("erp_") and queued.id != exception_id:
                st.close_exception(conn, queued.id, state=st.RESOLVED, now=now,
                                   note=f"superseded by exception {exception_id} ({kind})")
    log.warning("ERP delivery %s dead-lettered (%s)", delivery.id, kind)


def _dead_unreadable(store: st.HubStore, delivery: st.Delivery, now: dt.datetime, exc: ValidationError) -> None:
    problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5])
    reason = f"the stored order no longer passes the canonical model's rules ({problems}); correct it and replay"
    with store.transaction() as conn:
        st.finish_delivery(conn, delivery.id, state=st.DEAD, now=now, error=reason)
        st.open_exception(conn, channel="erp", kind="erp_rejected", reason=reason, order_id=delivery.order_id, now=now)
    log.warning("ERP delivery %s dead-lettered (stored order fails validation)", delivery.id)


def _release(store: st.HubStore, deliveries: list[st.Delivery], now: dt.datetime) -> None:
    """Give claimed rows back untouched (attempt not counted) when the pass cannot run at all."""
    with store.transaction() as conn:
        for delivery in deliveries:
            st.finish_delivery(conn, delivery.id, state=st.FAILED, now=now, error="ERP configuration error",
                               next_attempt_at=now)
            conn.execute(
                st.tables.outbox.update()
                .where(st.tables.outbox.c.id == delivery.id)
                .values(attempts=delivery.attempts - 1)
            )
