"""The outbox: one delivery per (order, target system), claimed, retried with backoff, dead-lettered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, bindparam, or_, select, update

from hub.store._claims import holder_alive, new_claim_token
from hub.store._tables import outbox


class DeliveryState(StrEnum):
    """Where one delivery of an order to a target stands (``outbox.state``)."""

    PENDING = "pending"
    """Due: never pushed, or asked for again (the order changed, an operator replayed it)."""
    IN_FLIGHT = "in_flight"
    """Claimed by a run that is pushing it."""
    DONE = "done"
    FAILED = "failed"
    """Will be retried at ``next_attempt_at``."""
    DEAD = "dead"
    """Given up; an exception says why and a replay queues it again."""
    SKIPPED = "skipped"
    """Nothing to deliver (cancelled before it reached the target), or paused: a new version awaits approval."""


# The names the services use (``st.PENDING``...).
PENDING, IN_FLIGHT, DONE, FAILED, DEAD, SKIPPED = (
    DeliveryState.PENDING, DeliveryState.IN_FLIGHT, DeliveryState.DONE, DeliveryState.FAILED, DeliveryState.DEAD,
    DeliveryState.SKIPPED)


@dataclass(frozen=True)
class Delivery:
    """One outbox row."""

    id: int
    order_id: int
    target: str
    state: DeliveryState
    attempts: int
    last_error: str | None
    external_ref: str | None
    external_id: str | None


def enqueue_delivery(conn: Connection, *, order_id: int, target: str, now: dt.datetime) -> None:
    """Ask for the order to be delivered to ``target`` (no-op if it already was asked)."""
    exists = conn.execute(
        select(outbox.c.id).where((outbox.c.order_id == order_id) & (outbox.c.target == target))
    ).first()
    if exists is None:
        conn.execute(outbox.insert().values(order_id=order_id, target=target, state=PENDING, attempts=0,
                                            updated_at=now))


def delivery_of(conn: Connection, *, order_id: int, target: str) -> Delivery | None:
    """The outbox row of an order for ``target``, or None if it was never queued."""
    row = conn.execute(select(outbox).where((outbox.c.order_id == order_id) & (outbox.c.target == target))).first()
    return None if row is None else _delivery(row)


def requeue_delivery(conn: Connection, *, order_id: int, target: str, now: dt.datetime) -> None:
    """Deliver again: the order changed or was cancelled after delivery, or an operator replays a dead delivery.

    The pass then makes the target match the stored order (create, update or cancel).
    """
    conn.execute(
        update(outbox)
        .where((outbox.c.order_id == order_id) & (outbox.c.target == target))
        .values(state=PENDING, next_attempt_at=None, updated_at=now)
    )


DELIVERY_CLAIM_STALE_AFTER = dt.timedelta(minutes=15)
"""An in-flight delivery whose claimant cannot be asked about is due again after this long (longer
than any write it sent may take to commit in the target)."""
WRITE_SETTLE = dt.timedelta(minutes=5)
"""How long a write sent by a run that died may still commit in the target (longer than the ERP's
own request time limit); the ERP asset passes its configured value."""
IN_DOUBT_MARK = "[in doubt until "
"""Ends ``last_error`` of a delivery whose last write may still commit; :func:`in_doubt_until` reads it."""


def in_doubt_until(last_error: str | None) -> dt.datetime | None:
    """When the write behind ``last_error`` can no longer commit, if it was in doubt."""
    if not last_error or IN_DOUBT_MARK not in last_error:
        return None
    stamp = last_error.rpartition(IN_DOUBT_MARK)[2].rstrip("]")
    try:
        return dt.datetime.fromisoformat(stamp)
    except ValueError:
        return None

# The run pushing deliveries in this context (set by the Dagster asset), how to ask whether a run
# ended, and how long a write it may have sent can still commit.
_run_claimant: ContextVar[tuple[str | None, Callable[[str], bool] | None, dt.timedelta]] = ContextVar(
    "delivery_run_claimant", default=(None, None, WRITE_SETTLE))


@contextmanager
def deliveries_claimed_by_run(run_id: str, run_ended: Callable[[str], bool],
                              write_settle: dt.timedelta = WRITE_SETTLE) -> Iterator[None]:
    """Deliveries claimed in this block name run ``run_id``; in-flight ones of runs that ``run_ended`` are
    taken back."""
    reset = _run_claimant.set((run_id, run_ended, write_settle))
    try:
        yield
    finally:
        _run_claimant.reset(reset)


def _claimant_gone(claimed_by: str, run_ended: Callable[[str], bool] | None) -> bool:
    """Whether the claimant of an in-flight delivery is known to be dead (its process, else its run)."""
    process, _, run_id = claimed_by.partition("|run:")
    alive = holder_alive(process)
    if alive is not None:  # a process of this machine: the kernel knows (an orphaned step may outlive its run)
        return not alive
    return bool(run_id and run_ended is not None and run_ended(run_id))


def claim_due_deliveries(
    conn: Connection, *, target: str, now: dt.datetime, limit: int = 100,
    stale_after: dt.timedelta = DELIVERY_CLAIM_STALE_AFTER,
) -> list[Delivery]:
    """Claim due deliveries so that no two runs push the same one at the same time.

    A row is claimed by a compare-and-set on its state, naming its claimant (this process and,
    inside :func:`deliveries_claimed_by_run`, the run). An ``in_flight`` row whose claimant is
    known to be dead (a process of this machine that is gone, or a run that ended) is taken back at
    once: a write it sent may still commit in the target, so it becomes ``failed``, due when that
    write can no longer commit and marked in doubt (the push then looks the record up before
    creating anything). Any other ``in_flight`` row is due again once ``stale_after`` has passed.
    """
    run_id, run_ended, write_settle = _run_claimant.get()
    token = new_claim_token() + (f"|run:{run_id}" if run_id else "")
    recent_in_flight = (outbox.c.target == target) & (outbox.c.state == IN_FLIGHT) & (
        outbox.c.updated_at > now - stale_after) & outbox.c.claimed_by.is_not(None)
    orphaned = [row for row in conn.execute(select(outbox).where(recent_in_flight).order_by(outbox.c.id).limit(1000))
                if _claimant_gone(row.claimed_by, run_ended)]
    until = now + write_settle
    for row in orphaned:
        conn.execute(
            update(outbox)
            .where((outbox.c.id == row.id) & (outbox.c.state == IN_FLIGHT) & (outbox.c.updated_at == row.updated_at))
            .values(state=FAILED, claimed_by=None, updated_at=now, next_attempt_at=until,
                    last_error=f"the run pushing it died; a write it sent may still commit {IN_DOUBT_MARK}"
                               f"{until.isoformat()}]")
        )
    due = (outbox.c.target == target) & or_(
        (outbox.c.state == PENDING),
        (outbox.c.state == FAILED) & ((outbox.c.next_attempt_at.is_(None)) | (outbox.c.next_attempt_at <= now)),
        (outbox.c.state == IN_FLIGHT) & (outbox.c.updated_at <= now - stale_after),
    )
    ids = list(conn.execute(select(outbox.c.id).where(due).order_by(outbox.c.id).limit(limit)).scalars())
    if not ids:
        return []
    # One compare-and-set for the lot: the UPDATE checks "still due" row by row under the write lock, so a
    # row another run claimed meanwhile is left out; the rows carrying our token are ours.
    conn.execute(update(outbox).where(outbox.c.id.in_(ids) & due)
                 .values(state=IN_FLIGHT, attempts=outbox.c.attempts + 1, updated_at=now, claimed_by=token))
    claimed = conn.execute(select(outbox).where(outbox.c.id.in_(ids) & (outbox.c.claimed_by == token))
                           .order_by(outbox.c.id)).all()
    return [_delivery(row) for row in claimed]


def finish_deliveries(conn: Connection, settled: Sequence[tuple[int, DeliveryState | str, str | None, str, str]], *,
                      now: dt.datetime) -> None:
    """:func:`finish_delivery` for a batch in one statement: (delivery id, state, note, external ref, external id)."""
    if not settled:
        return
    statement = (update(outbox).where(outbox.c.id == bindparam("b_id"))
                 .values(state=bindparam("b_state"), last_error=bindparam("b_note"), updated_at=now,
                         next_attempt_at=None, claimed_by=None, external_ref=bindparam("b_ref"),
                         external_id=bindparam("b_record_id")))
    conn.execute(statement, [{"b_id": id_, "b_state": DeliveryState(state), "b_note": note, "b_ref": ref,
                              "b_record_id": record_id} for id_, state, note, ref, record_id in settled])


def finish_delivery(
    conn: Connection,
    delivery_id: int,
    *,
    state: DeliveryState | str,
    now: dt.datetime,
    error: str | None = None,
    external_ref: str | None = None,
    external_id: str | None = None,
    next_attempt_at: dt.datetime | None = None,
) -> None:
    """Record a delivery's result (a state or its value): done, failed (to retry at ``next_attempt_at``),
    dead, skipped."""
    values = {"state": DeliveryState(state), "last_error": error, "updated_at": now, "next_attempt_at": next_attempt_at,
              "claimed_by": None}
    if external_ref is not None:
        values["external_ref"] = external_ref
    if external_id is not None:
        values["external_id"] = external_id
    conn.execute(update(outbox).where(outbox.c.id == delivery_id).values(**values))


def deliveries_by_state(conn: Connection, target: str) -> dict[str, int]:
    """How many deliveries to ``target`` are in each state (keyed by :class:`DeliveryState` members)."""
    from sqlalchemy import func

    rows = conn.execute(
        select(outbox.c.state, func.count()).where(outbox.c.target == target).group_by(outbox.c.state)
    )
    return {DeliveryState(state): count for state, count in rows}


def _delivery(row, **overrides) -> Delivery:
    columns = ("id", "order_id", "target", "state", "attempts", "last_error", "external_ref", "external_id")
    data = {k: row._mapping[k] for k in columns}
    data.update(overrides)
    data["state"] = DeliveryState(data["state"])
    return Delivery(**data)
