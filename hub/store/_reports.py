"""Read-only views of the store for people: the file each exception is about, the counts of a summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, func, select

from hub.store._exceptions import QueuedException
from hub.store._outbound import OutboundState
from hub.store._outbox import deliveries_by_state
from hub.store._tables import orders, outbound_documents, receipts


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
