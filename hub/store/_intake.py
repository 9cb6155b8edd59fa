"""Queries of the intake and its Dagster checks: receipts waiting or unexplained, ledger rows to resume after."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import Connection, Row, select

from hub.store._archive import ReceiptState
from hub.store._exceptions import OPEN
from hub.store._tables import exceptions, interchanges, orders, receipts

_PROCESSED, _RECEIVED = ReceiptState.PROCESSED, ReceiptState.RECEIVED  # receipts.state


def waiting_receipt_ids(conn: Connection, channel: str) -> list[int]:
    """Receipts of ``channel`` still queued (received, not yet processed), oldest first."""
    return list(conn.execute(
        select(receipts.c.id).where((receipts.c.channel == channel) & (receipts.c.state == _RECEIVED))
        .order_by(receipts.c.id)).scalars())


def unprocessed_receipt_ids(conn: Connection) -> list[int]:
    """Every receipt of any channel not processed yet."""
    return list(conn.execute(select(receipts.c.id).where(receipts.c.state != _PROCESSED)).scalars())


def processed_receipt_ids(conn: Connection, receipt_ids: Iterable[int]) -> set[int]:
    """Which of these receipts are processed."""
    ids = sorted(set(receipt_ids))
    if not ids:
        return set()
    return set(conn.execute(
        select(receipts.c.id).where(receipts.c.id.in_(ids) & (receipts.c.state == _PROCESSED))).scalars())


def unexplained_receipts(conn: Connection, clean_outcomes: Collection[str]) -> list[dict[str, Any]]:
    """Processed receipts whose outcome is not clean and that have no exception: ``{receipt, outcome}``, by id."""
    rows = conn.execute(
        select(receipts.c.id, receipts.c.outcome).where(
            (receipts.c.state == _PROCESSED)
            & receipts.c.outcome.not_in(sorted(clean_outcomes))
            & ~select(exceptions.c.id).where(exceptions.c.receipt_id == receipts.c.id).exists()
        ).order_by(receipts.c.id)
    ).all()
    return [{"receipt": r.id, "outcome": r.outcome} for r in rows]


def committed_interchange_rows(conn: Connection, receipt_id: int, limit: int) -> list[Row]:
    """The first ``limit`` ledger rows of a receipt, in the order they were committed."""
    return list(conn.execute(
        select(interchanges).where(interchanges.c.receipt_id == receipt_id).order_by(interchanges.c.id).limit(limit)
    ).all())


def open_exception_ids(conn: Connection, *, kind: str, channel: str, partner_id: str) -> list[int]:
    """Open exceptions of one kind for one account's channel."""
    return list(conn.execute(select(exceptions.c.id).where(
        (exceptions.c.state == OPEN) & (exceptions.c.kind == kind)
        & (exceptions.c.channel == channel) & (exceptions.c.partner_id == partner_id))).scalars())


def stored_version_time(conn: Connection, *, source: str, partner_id: str, source_ref: str) -> dt.datetime | None:
    """The channel's ``updated_at`` of the stored version of an order, or None when it is not stored."""
    return conn.execute(select(orders.c.source_updated_at).where(
        (orders.c.source == source) & (orders.c.partner_id == partner_id) & (orders.c.source_ref == source_ref[:80])
    )).scalar_one_or_none()
