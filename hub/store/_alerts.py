"""What the alert sensors read: exceptions queued since a high-water mark, and acks we owe for too long."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Connection, select

from hub.store._exceptions import OPEN, QueuedException, _queued
from hub.store._outbound import FAILED, PENDING, OutboundState
from hub.store._tables import exceptions, outbound_documents


@dataclass(frozen=True)
class ExceptionsSince:
    """Exceptions queued after a high-water mark: the open ones to tell about, and every id read."""

    items: list[QueuedException]
    """Still open, oldest first, at most ``limit`` of them."""
    more: int
    """Open ones beyond ``limit``."""
    kinds: dict[str, int]
    """Open ones by kind, all of them (not only the ``limit`` listed)."""
    seen_ids: list[int]
    """Every id found, whatever its state, ascending: the caller's next high-water mark and gaps."""


def exceptions_since(
    conn: Connection, *, after_id: int, also_ids: Collection[int] = (), limit: int = 20
) -> ExceptionsSince:
    """Exceptions with an id above ``after_id`` or in ``also_ids`` (ids that may still commit late)."""
    found = exceptions.c.id > after_id
    if also_ids:
        found = found | exceptions.c.id.in_(sorted(also_ids))
    rows = conn.execute(
        select(exceptions.c.id, exceptions.c.state, exceptions.c.kind).where(found).order_by(exceptions.c.id)).all()
    open_rows = [row for row in rows if row.state == OPEN]
    open_ids = [row.id for row in open_rows]
    shown = open_ids[:limit]
    items = []
    if shown:
        items = [_queued(row) for row in conn.execute(
            select(exceptions).where(exceptions.c.id.in_(shown)).order_by(exceptions.c.id))]
    return ExceptionsSince(items=items, more=len(open_ids) - len(shown), kinds=dict(Counter(r.kind for r in open_rows)),
                           seen_ids=[row.id for row in rows])


@dataclass(frozen=True)
class OverdueOutbound:
    """A document we owe a partner (997, TA1) that is still pending or failed (its content is not read)."""

    id: int
    partner_id: str
    kind: str
    control_number: str
    file_name: str
    state: OutboundState
    created_at: dt.datetime


def overdue_outbound(conn: Connection, *, created_before: dt.datetime, limit: int = 10_000) -> list[OverdueOutbound]:
    """Pending or failed outbound documents queued before ``created_before``, oldest first."""
    c = outbound_documents.c
    rows = conn.execute(
        select(c.id, c.partner_id, c.kind, c.control_number, c.file_name, c.state, c.created_at)
        .where(c.state.in_([PENDING, FAILED]) & (c.created_at < created_before))
        .order_by(c.id).limit(limit)
    )
    return [OverdueOutbound(**{**row._mapping, "state": OutboundState(row.state)}) for row in rows]
