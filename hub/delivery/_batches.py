"""Delivering to a target that takes batches (``hub.targets.BatchOrderTarget``): few calls, same promises.

The claimed deliveries' orders are loaded in one transaction. Cancellations, and deliveries whose
last write may still commit, go the single-order way (``deliver_one``). Open orders go in batches
of ``batch_size``, with up to ``in_flight`` batches sent at once from a small thread pool (only the
target is called from its threads; this thread records every result, one transaction per batch).

What a batch's answer means for its deliveries:

* per order, a ``Delivered`` (recorded as a single push would be) or a ``RejectedDocument`` (that
  order alone goes to the exception queue);
* the batch refused as a whole (``RejectedDocument`` raised, nothing of it written): split in
  halves, each sent again, until the order at fault is alone; it alone is dead-lettered;
* a ``RetriableError``: the whole batch is retried later. When the write got no answer
  (``write_in_doubt``) the target's writes are on hold until it can no longer commit: batches not
  sent yet are given back, due then; the next attempt looks every order up before creating any.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from canonical.errors import ConfigurationError, RejectedDocument, RetriableError
from canonical.model import Order
from hub import store as st
from hub.delivery._orders import (
    HELD,
    PushSummary,
    _dead,
    _dead_unreadable,
    _DeadLetter,
    _Outcome,
    _release,
    count,
    deliver_one,
    held_meanwhile,
    hold_back,
    outcome_of_push,
    retry_later,
)
from hub.store._outbox import finish_deliveries
from hub.targets import BatchOrderTarget

log = logging.getLogger(__name__)

_Batch = list[tuple[st.Delivery, st.StoredOrder]]


def deliver_in_batches(store: st.HubStore, target: BatchOrderTarget, deliveries: Sequence[st.Delivery],
                       summary: PushSummary, *, now: dt.datetime, max_attempts: int, batch_size: int,
                       in_flight: int) -> None:
    """Settle every claimed delivery: open orders in batches, the rest one by one (see the module)."""
    loaded, unreadable = [], []
    orders = st.tables.orders
    with store.transaction() as conn:
        # One query for the pass's orders (as load_stored_order reads them, one at a time).
        rows = {row.id: row for start in range(0, len(deliveries), 500) for row in conn.execute(
            select(orders.c.id, orders.c.payload, orders.c.status, orders.c.revision).where(
                orders.c.id.in_([d.order_id for d in deliveries[start:start + 500]])))}
    for delivery in deliveries:
        row = rows[delivery.order_id]
        try:
            order = Order.model_validate(row.payload)
        except ValidationError as exc:
            unreadable.append((delivery, exc))
            continue
        loaded.append((delivery, st.StoredOrder(row.id, order, row.status, row.revision)))
    for delivery, problem in unreadable:
        _dead_unreadable(store, target, delivery, now, problem)
        summary.dead += 1
    open_orders: _Batch = []
    for position, (delivery, stored) in enumerate(loaded):
        until = st.in_doubt_until(delivery.last_error)
        if stored.cancelled or (until is not None and until > now):
            try:
                deliver_one(store, target, delivery, stored, summary, now=now, max_attempts=max_attempts)
            except ConfigurationError:
                _release(store, target, [d for d, _ in loaded[position + 1:]], now)
                raise
        else:
            open_orders.append((delivery, stored))
    batches = deque(open_orders[start:start + batch_size] for start in range(0, len(open_orders), batch_size))
    _send(store, target, batches, summary, now=now, max_attempts=max_attempts, in_flight=in_flight)


def _send(store: st.HubStore, target: BatchOrderTarget, batches: deque[_Batch], summary: PushSummary, *,
          now: dt.datetime, max_attempts: int, in_flight: int) -> None:
    """Send the batches, at most ``in_flight`` at once, and record each answer as it comes."""
    running: dict[Future[Any], _Batch] = {}
    stop: ConfigurationError | None = None
    pool = ThreadPoolExecutor(max_workers=in_flight, thread_name_prefix=f"push-{target.name}") if in_flight > 1 \
        else None
    try:
        while batches or running:
            while batches and len(running) < in_flight and stop is None and summary.on_hold_until is None:
                batch = batches.popleft()
                orders = [stored.order for _, stored in batch]
                running[_submit(pool, target.push_batch, orders)] = batch
            if not running:
                break
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            for future in done:
                batch = running.pop(future)
                try:
                    _settle(store, target, batch, future, batches, summary, now=now, max_attempts=max_attempts)
                except ConfigurationError as exc:
                    _release(store, target, [delivery for delivery, _ in batch], now)
                    stop = exc
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
    unsent = [item for batch in batches for item in batch]
    if stop is not None:
        _release(store, target, [delivery for delivery, _ in unsent], now)
        raise stop
    if unsent and summary.on_hold_until is not None:
        for delivery, _ in unsent:
            hold_back(store, delivery, now, summary.on_hold_until)
        summary.retrying += len(unsent)


def _submit(pool: ThreadPoolExecutor | None, call: Callable[[Any], Any], argument: Any) -> Future[Any]:
    """``call(argument)`` in the pool, or right here (one batch in flight) as an already finished future."""
    if pool is not None:
        return pool.submit(call, argument)
    future: Future[Any] = Future()
    try:
        future.set_result(call(argument))
    except BaseException as exc:  # noqa: BLE001 - handed to _settle exactly as the pool would hand it
        future.set_exception(exc)
    return future


def _settle(store: st.HubStore, target: BatchOrderTarget, batch: _Batch, future: Future[Any],
            batches: deque[_Batch], summary: PushSummary, *, now: dt.datetime, max_attempts: int) -> None:
    """Record one batch's answer; a batch refused as a whole goes back to the queue as two halves."""
    try:
        answers = future.result()
    except RejectedDocument as exc:
        if len(batch) == 1:
            [(delivery, stored)] = batch
            _dead(store, target, delivery, stored, now, kind=f"{target.name}_rejected",
                  reason=f"{target.label} refused the order: {exc.reason}")
            summary.dead += 1
            return
        half = len(batch) // 2
        log.info("%s refused a batch of %d as a whole (%s); splitting it to find the order at fault",
                 target.name, len(batch), exc.reason)
        batches.appendleft(batch[half:])
        batches.appendleft(batch[:half])
        return
    except RetriableError as exc:
        retry_later(store, target, batch, exc, summary, now=now, max_attempts=max_attempts)
        return
    if len(answers) != len(batch):
        raise RuntimeError(f"{target.name} answered {len(answers)} results for a batch of {len(batch)}")
    dead: list[tuple[st.Delivery, st.StoredOrder, str, str]] = []
    settled: list[tuple[st.Delivery, st.StoredOrder, _Outcome]] = []
    for (delivery, stored), answer in zip(batch, answers, strict=True):
        if isinstance(answer, RejectedDocument):
            dead.append((delivery, stored, f"{target.name}_rejected",
                         f"{target.label} refused the order: {answer.reason}"))
            continue
        try:
            settled.append((delivery, stored, outcome_of_push(target, stored, delivery, answer)))
        except _DeadLetter as letter:
            dead.append((delivery, stored, letter.kind, letter.reason))
    with store.transaction() as conn:
        _record_all(conn, target, settled, now)
    for _, _, outcome in settled:
        count(summary, outcome)
    for delivery, stored, kind, reason in dead:
        _dead(store, target, delivery, stored, now, kind=kind, reason=reason)
        summary.dead += 1



def _record_all(conn: Any, target: BatchOrderTarget, settled: list[tuple[st.Delivery, st.StoredOrder, _Outcome]],
                now: dt.datetime) -> None:
    """``record_in`` for a whole batch in a few statements (one per kind of row, not four per order)."""
    if not settled:
        return
    orders, exceptions = st.tables.orders, st.tables.exceptions
    order_ids = [delivery.order_id for delivery, _, _ in settled]
    revisions = dict(conn.execute(select(orders.c.id, orders.c.revision).where(orders.c.id.in_(order_ids))).all())
    # An order changed while we talked to the target: its delivery stays due for the newer revision (paused
    # when that one waits for approval).
    newer = {delivery.order_id for delivery, stored, _ in settled
             if revisions.get(delivery.order_id) != stored.revision}
    held = held_meanwhile(conn, sorted(newer)) if newer else set()
    finish_deliveries(conn, [
        (delivery.id, (st.SKIPPED if delivery.order_id in held else st.PENDING) if delivery.order_id in newer
         else outcome.state, HELD if delivery.order_id in held else outcome.note, outcome.record or "",
         outcome.record_id or "") for delivery, stored, outcome in settled
    ], now=now)
    st.add_events_bulk(conn, [(delivery.order_id, outcome.event, outcome.detail or {})
                              for delivery, _, outcome in settled if outcome.event], receipt_id=None, now=now)
    own = conn.execute(select(exceptions.c.id, exceptions.c.kind).where(
        exceptions.c.order_id.in_(order_ids) & (exceptions.c.state == st.OPEN)
        & (exceptions.c.channel == target.name))).all()
    for exception_id, kind in own:
        if kind.startswith(f"{target.name}_"):
            st.close_exception(conn, exception_id, state=st.REPLAYED, now=now)
