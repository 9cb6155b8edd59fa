"""Stock published to the channels: per channel account and SKU, the last quantity sent and the ATP behind it.

One row per (channel, partner, SKU), replaced on each publication of that SKU: what the channel shows
now (as far as the hub knows), so the next pass sends only the SKUs whose quantity changed and the
check ``published_stock_within_atp`` can compare it with ATP as it is now.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, and_, delete, insert, select

from hub.store._tables import inventory_846s, published_stock

# Outcomes recorded: the channel shows the quantity (set, unchanged) or has no such SKU (unknown_sku).
SHOWN = ("set", "unchanged")
CHUNK = 500  # SKUs per DELETE ... IN (...): well under every driver's limit on bound parameters


@dataclass(frozen=True)
class PublishedStock:
    """One SKU's last publication to one channel account."""

    sku: str
    quantity: int
    atp: Decimal
    safety_stock: int
    outcome: str
    published_at: dt.datetime


def _account(channel: str, partner_id: str):
    return and_(published_stock.c.channel == channel, published_stock.c.partner_id == partner_id)


def published_stock_of(conn: Connection, channel: str, partner_id: str) -> dict[str, PublishedStock]:
    """Every SKU last published to the account, by SKU."""
    rows = conn.execute(select(published_stock).where(_account(channel, partner_id)))
    return {row.sku: PublishedStock(row.sku, row.quantity, row.atp, row.safety_stock, row.outcome, row.published_at)
            for row in rows}


def record_published_stock(conn: Connection, channel: str, partner_id: str, rows: Iterable[PublishedStock]) -> int:
    """Replace the account's rows of these SKUs with what was just published; how many were written."""
    batch = list(rows)
    if not batch:
        return 0
    # Delete then insert in the caller's transaction: portable across SQLite and PostgreSQL, and one
    # account publishes in one run at a time (its concurrency pool).
    skus = [row.sku for row in batch]
    for start in range(0, len(skus), CHUNK):
        conn.execute(delete(published_stock).where(_account(channel, partner_id),
                                                   published_stock.c.sku.in_(skus[start:start + CHUNK])))
    conn.execute(insert(published_stock), [
        {"channel": channel, "partner_id": partner_id, "sku": row.sku, "quantity": row.quantity, "atp": row.atp,
         "safety_stock": row.safety_stock, "outcome": row.outcome, "published_at": row.published_at}
        for row in batch])
    return len(batch)


def record_inventory_846(conn: Connection, *, partner_id: str, reference: str, outbound_id: int, group_control: str,
                         ack_due_hours: int, now: dt.datetime) -> None:
    """Record the 846 queued, so the partner's 997 is matched by its GS06 and awaited within ``ack_due_hours``."""
    conn.execute(insert(inventory_846s).values(partner_id=partner_id, reference=reference, outbound_id=outbound_id,
                                               group_control=group_control, ack_due_hours=ack_due_hours,
                                               created_at=now))
