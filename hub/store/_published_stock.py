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

from hub.store._exceptions import ExceptionKind, open_exception
from hub.store._tables import outbound_documents, published_stock

# Outcomes recorded: the channel shows the quantity (set, unchanged) or has no such SKU (unknown_sku).
SHOWN = ("set", "unchanged")
INVENTORY_GROUP = "IB"  # GS01 of an 846
RECENT_846 = 500  # the partner's latest 846s searched for the group a 997 answers
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


def _group_control(content: str) -> str | None:
    """GS06 of an interchange we wrote (one segment per line, ``*`` between elements)."""
    for line in content.splitlines():
        if line.startswith("GS*"):
            parts = line.rstrip("~").split("*")
            return parts[6] if len(parts) > 6 else None
    return None


def apply_inventory_functional_ack(
    conn: Connection, *, partner_id: str, functional_ack: tuple[str, str, str], document_ref: str,
    raw_sha256: str | None, now: dt.datetime,
) -> int | None:
    """A partner's 997/999 (AK101 IB) answering one of our 846s: its outbound id; None if it answers none.

    Nothing is recorded on an accepted one (an 846 has no SLA: the next one says it all again for the
    SKUs that change); a rejection (R, or P for part of the group) opens ``outbound_rejected``.
    """
    functional_id, group_control, status = functional_ack
    if functional_id != INVENTORY_GROUP or not group_control:
        return None
    recent = conn.execute(
        select(outbound_documents.c.id, outbound_documents.c.file_name, outbound_documents.c.content)
        .where((outbound_documents.c.partner_id == partner_id) & (outbound_documents.c.kind == "846"))
        .order_by(outbound_documents.c.id.desc()).limit(RECENT_846))
    found = next((row for row in recent if _group_control(row.content) == group_control), None)
    if found is None:
        return None
    if (status or "A")[:1] in ("R", "P"):  # they refused our 846: a person must look
        open_exception(conn, channel="sftp", kind=ExceptionKind.OUTBOUND_REJECTED, partner_id=partner_id,
                       document_ref=found.file_name, raw_sha256=raw_sha256, now=now,
                       reason=f"{partner_id}'s functional ack ({document_ref}) rejected our 846 {found.file_name} "
                              f"(GS06 {group_control}), status {status}: its AK3/AK4 say why")
    return int(found.id)
