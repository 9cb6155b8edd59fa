"""The exception queue: what could not be processed, why, where, and whether it was replayed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from hub.store._tables import exceptions, inserted_id

OPEN, REPLAYED, RESOLVED = "open", "replayed", "resolved"


@dataclass(frozen=True)
class QueuedException:
    """One entry of the exception queue."""

    id: int
    channel: str
    partner_id: str | None
    receipt_id: int | None
    raw_sha256: str | None
    order_id: int | None
    document_ref: str | None
    kind: str
    reason: str
    location: str | None
    state: str
    replays: int
    created_at: dt.datetime
    updated_at: dt.datetime
    resolution: str | None = None
    """How it was handled, when resolved by hand (or what superseded it)."""


def open_exception(
    conn: Connection,
    *,
    channel: str,
    kind: str,
    reason: str,
    now: dt.datetime,
    partner_id: str | None = None,
    receipt_id: int | None = None,
    raw_sha256: str | None = None,
    order_id: int | None = None,
    document_ref: str | None = None,
    location: str | None = None,
) -> int:
    """Queue an exception, or return the open one already queued for the same thing (idempotent)."""
    same = (
        (exceptions.c.state == OPEN)
        & (exceptions.c.kind == kind)
        & _eq(exceptions.c.receipt_id, receipt_id)
        & _eq(exceptions.c.order_id, order_id)
        & _eq(exceptions.c.document_ref, document_ref)
    )
    existing = conn.execute(select(exceptions.c.id).where(same)).first()
    if existing is not None:
        conn.execute(update(exceptions).where(exceptions.c.id == existing.id).values(reason=reason, location=location, updated_at=now))
        return existing.id
    return inserted_id(conn.execute(
        exceptions.insert().values(
            channel=channel,
            partner_id=partner_id,
            receipt_id=receipt_id,
            raw_sha256=raw_sha256,
            order_id=order_id,
            document_ref=document_ref,
            kind=kind,
            reason=reason,
            location=location,
            state=OPEN,
            replays=0,
            created_at=now,
            updated_at=now,
        )
    ))


def list_exceptions(
    conn: Connection, *, state: str | None = OPEN, limit: int = 500, receipt_id: int | None = None,
    order_id: int | None = None,
) -> list[QueuedException]:
    """Exceptions, newest first, optionally of one state, one receipt or one order."""
    query = select(exceptions).order_by(exceptions.c.id.desc()).limit(limit)
    if state is not None:
        query = query.where(exceptions.c.state == state)
    if receipt_id is not None:
        query = query.where(exceptions.c.receipt_id == receipt_id)
    if order_id is not None:
        query = query.where(exceptions.c.order_id == order_id)
    return [QueuedException(**row._mapping) for row in conn.execute(query)]


def get_exception(conn: Connection, exception_id: int) -> QueuedException | None:
    """One exception by id."""
    row = conn.execute(select(exceptions).where(exceptions.c.id == exception_id)).first()
    return None if row is None else QueuedException(**row._mapping)


def close_exception(
    conn: Connection, exception_id: int, *, state: str, now: dt.datetime, note: str | None = None
) -> None:
    """Mark an exception replayed (it worked) or resolved (handled by hand; ``note`` says how)."""
    values: dict = {"state": state, "updated_at": now}
    if state == REPLAYED:
        values["replays"] = exceptions.c.replays + 1
    if note is not None:
        values["resolution"] = note
    conn.execute(update(exceptions).where(exceptions.c.id == exception_id).values(**values))


def count_replay(conn: Connection, exception_id: int, *, now: dt.datetime) -> None:
    """Count a replay that did not clear the exception."""
    conn.execute(update(exceptions).where(exceptions.c.id == exception_id).values(replays=exceptions.c.replays + 1, updated_at=now))


def _eq(column, value):
    return column.is_(None) if value is None else column == value
