"""Read-only views of the store for people: the file each exception is about, the counts of a summary."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from hub.store._exceptions import QueuedException
from hub.store._outbound import OutboundState
from hub.store._outbox import DeliveryState, deliveries_by_state
from hub.store._tables import orders, outbound_documents, outbox, receipts


def exception_files(conn: Connection, queued: Iterable[QueuedException]) -> dict[int, str | None]:
    """The name of the file (API page, webhook body) each exception is about, by exception id; None if no receipt."""
    queued = list(queued)
    ids = sorted({q.receipt_id for q in queued if q.receipt_id is not None})
    names: dict[int, str] = {}
    if ids:
        rows = conn.execute(select(receipts.c.id, receipts.c.source_name).where(receipts.c.id.in_(ids)))
        names = {row.id: row.source_name for row in rows}
    return {q.id: None if q.receipt_id is None else names.get(q.receipt_id) for q in queued}


@dataclass(frozen=True)
class DeliveredRecord:
    """An order delivered to a target, and the target's record holding it (e.g. Odoo sale order ``S00042``, id 42)."""

    partner_id: str
    order_ref: str
    record: str | None
    record_id: str | None


def deliveries_done_since(
    conn: Connection, target: str, since: dt.datetime, *, limit: int = 50
) -> list[DeliveredRecord]:
    """Deliveries to ``target`` finished (done) at or after ``since`` that name the target's record, newest first."""
    rows = conn.execute(
        select(orders.c.partner_id, orders.c.source_ref, outbox.c.external_ref, outbox.c.external_id)
        .join(orders, orders.c.id == outbox.c.order_id)
        .where(outbox.c.target == target, outbox.c.state == DeliveryState.DONE, outbox.c.updated_at >= since,
               outbox.c.external_id.is_not(None))
        .order_by(outbox.c.updated_at.desc(), outbox.c.id.desc()).limit(limit)
    )
    return [DeliveredRecord(r.partner_id, r.source_ref, r.external_ref, r.external_id) for r in rows]


@dataclass(frozen=True)
class StoreCounts:
    """What the store holds, counted: receipts by outcome, orders by status and channel, acks, deliveries."""

    receipts_by_outcome: Counter
    orders_by_status: Counter
    orders_by_source: Counter
    test_orders: int
    orders_not_for_delivery: int
    acks_sent_by_kind: Counter
    deliveries_by_state: Counter


def store_counts(conn: Connection, *, target: str) -> StoreCounts:
    """Count what the store holds; deliveries are those to ``target``."""

    def grouped(column, *where) -> Counter:
        return Counter(dict(conn.execute(select(column, func.count()).where(*where).group_by(column)).all()))

    return StoreCounts(
        receipts_by_outcome=grouped(receipts.c.outcome),
        orders_by_status=grouped(orders.c.status),
        orders_by_source=grouped(orders.c.source),
        test_orders=conn.execute(select(func.count()).where(orders.c.is_test)).scalar_one(),
        orders_not_for_delivery=conn.execute(
            select(func.count()).where(orders.c.not_pushed_reason.is_not(None))).scalar_one(),
        acks_sent_by_kind=grouped(outbound_documents.c.kind, outbound_documents.c.state == OutboundState.SENT),
        deliveries_by_state=Counter(deliveries_by_state(conn, target)),
    )
