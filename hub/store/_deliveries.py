"""The delivery loop's own outbox queries: writes still in doubt, and claims given back uncounted."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, select, update

from hub.store._outbox import DEAD, FAILED, IN_DOUBT_MARK, PENDING, SKIPPED, Delivery, finish_delivery, in_doubt_until
from hub.store._tables import outbox


def writes_in_doubt_until(conn: Connection, *, target: str, now: dt.datetime) -> dt.datetime | None:
    """The latest time a write to ``target`` left without an answer may still commit, if after ``now``."""
    errors = conn.execute(
        select(outbox.c.last_error).where(
            (outbox.c.target == target)
            & outbox.c.state.in_([FAILED, PENDING, DEAD, SKIPPED])  # skipped: paused for approval
            & outbox.c.last_error.contains(IN_DOUBT_MARK, autoescape=True)
        )
    ).scalars().all()
    return max((until for error in errors if (until := in_doubt_until(error)) and until > now), default=None)


def give_back_delivery(conn: Connection, delivery: Delivery, *, now: dt.datetime, due: dt.datetime,
                       error: str | None) -> None:
    """Put a claimed delivery back as failed, due at ``due``; the claim does not count as an attempt."""
    finish_delivery(conn, delivery.id, state=FAILED, now=now, error=error, next_attempt_at=due)
    conn.execute(update(outbox).where(outbox.c.id == delivery.id).values(attempts=delivery.attempts - 1))
