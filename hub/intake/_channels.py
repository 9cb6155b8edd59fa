"""API channels (Shopify, marketplaces): pages archived raw, orders stored as their newest version.

Polling and webhooks can both deliver an order, and overlapping syncs re-read some on purpose
(the lookback window). Each order version is identified by the channel's ``updated_at``: the same
or an older version changes nothing, so every path may deliver the same order any number of times.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Connection, select

from hub import store as st
from hub.errors import RejectedDocument
from hub.intake._x12 import ERP_TARGET, deliver_cancellation, deliver_new_version
from hub.model import Order


class MappedOrderLike(Protocol):
    """What a channel mapper returns per order (``mappings.shopify`` / ``mappings.amazon``)."""

    channel_order_id: str
    updated_at: dt.datetime
    order: Order | None
    state: str  # 'ok' | 'held' | 'rejected'
    problems: list[str]
    push: bool
    reason_not_pushed: str | None


@dataclass
class ChannelSummary:
    """What a sync or a webhook batch did (shown as Dagster run metadata)."""

    pages: int = 0
    orders_new: int = 0
    orders_updated: int = 0
    orders_unchanged: int = 0
    orders_cancelled: int = 0
    orders_held: int = 0
    orders_not_pushed: int = 0
    exceptions: list[int] = field(default_factory=list)

    def metadata(self) -> dict[str, int]:
        return {
            "pages": self.pages, "orders_new": self.orders_new, "orders_updated": self.orders_updated,
            "orders_unchanged": self.orders_unchanged, "orders_cancelled": self.orders_cancelled,
            "orders_held": self.orders_held, "orders_not_pushed": self.orders_not_pushed,
            "exceptions": len(self.exceptions),
        }


def store_channel_document(
    store: st.HubStore,
    *,
    channel: str,
    partner_id: str,
    source_name: str,
    raw: bytes,
    map_orders: Callable[[str], Iterable[MappedOrderLike]],
    summary: ChannelSummary,
    attachments: Iterable[bytes] = (),
    now: dt.datetime | None = None,
) -> st.Receipt:
    """Archive one raw API body (and the bodies it needs, e.g. order items), then map and store its orders.

    All in one transaction. The bodies it needs are linked to its receipt, in order
    (``receipt_raw_attachments``), so a replay maps it again from the archive alone.
    ``map_orders`` gets the body's sha256 (for the orders' ``raw_document_id``) and yields mapped
    orders. A receipt already processed is not applied again.
    """
    now = now or st.utcnow()
    with store.transaction() as conn:
        attached = [st.archive_raw(conn, attachment, now=now) for attachment in attachments]
        sha = st.archive_raw(conn, raw, now=now)
        receipt = st.record_receipt(conn, channel=channel, partner_id=partner_id, source_name=source_name,
                                    raw_sha256=sha, now=now)
        st.attach_raw_documents(conn, receipt.id, attached)  # so the body can be mapped again from the archive
        receipt = st.get_receipt(conn, receipt.id, for_update=True)
        summary.pages += 1
        if receipt.state == "processed":
            return receipt
        apply_mapped_orders(conn, receipt, map_orders(sha), summary, now=now)
        st.finish_receipt(conn, receipt.id, outcome="accepted", reason=None, now=now)
    return receipt


def process_queued_receipt(
    store: st.HubStore, receipt_id: int,
    map_orders: Callable[[bytes, str, st.Receipt], Iterable[MappedOrderLike]],
    summary: ChannelSummary, *, now: dt.datetime | None = None, replay: bool = False,
) -> st.Receipt:
    """Map and store a receipt that was archived earlier (a queued webhook body, an API page); idempotent.

    ``map_orders(raw, sha256, receipt)`` maps the body; a body that is no order at all
    (``RejectedDocument``) goes to the exception queue. ``replay=True`` maps a processed receipt
    again after a fix: versions already stored stay unchanged, and the receipt's exceptions that no
    longer occur are closed.
    """
    now = now or st.utcnow()
    with store.transaction() as conn:
        receipt = st.get_receipt(conn, receipt_id, for_update=True)
        if receipt.state == "processed" and not replay:
            return receipt
        earlier = st.list_exceptions(conn, receipt_id=receipt.id, limit=10_000) if replay else []
        already = len(summary.exceptions)
        _map_and_apply(conn, receipt, map_orders, summary, now)
        still_failing = set(summary.exceptions[already:])
        for queued in earlier:
            if queued.id in still_failing:
                st.count_replay(conn, queued.id, now=now)
            else:
                st.close_exception(conn, queued.id, state=st.REPLAYED, now=now)
    return receipt


def _map_and_apply(conn: Connection, receipt: st.Receipt, map_orders, summary: ChannelSummary, now: dt.datetime) -> None:
    try:
        mapped = list(map_orders(st.raw_content(conn, receipt.raw_sha256), receipt.raw_sha256, receipt))
    except RejectedDocument as exc:
        summary.exceptions.append(st.open_exception(
            conn, channel=receipt.channel, kind="rejected_document", reason=exc.reason, location=exc.location,
            now=now, partner_id=receipt.partner_id, receipt_id=receipt.id, raw_sha256=receipt.raw_sha256))
        st.finish_receipt(conn, receipt.id, outcome="rejected", reason=exc.reason, now=now)
        return
    apply_mapped_orders(conn, receipt, mapped, summary, now=now)
    st.finish_receipt(conn, receipt.id, outcome="accepted", reason=None, now=now)


def apply_mapped_orders(
    conn: Connection, receipt: st.Receipt, mapped_orders: Iterable[MappedOrderLike], summary: ChannelSummary,
    *, now: dt.datetime,
) -> None:
    """Store each mapped order's version; queue deliveries; queue exceptions for what cannot be mapped."""
    for mapped in mapped_orders:
        if mapped.state == "held":
            # Not complete yet (e.g. a marketplace order without prices or address): its next
            # version, once complete, arrives with a newer updated_at and is stored then.
            summary.orders_held += 1
            continue
        if mapped.order is None and getattr(mapped, "cancelled", False) and mapped.state != "rejected":
            # Cancelled with nothing left to show (e.g. a marketplace cancelling every item).
            if _cancel_stored(conn, receipt, mapped, now):
                summary.orders_cancelled += 1
            else:
                summary.orders_unchanged += 1
            continue
        if mapped.order is None or mapped.state == "rejected":
            summary.exceptions.append(st.open_exception(
                conn, channel=receipt.channel, kind="rejected_document", now=now, partner_id=receipt.partner_id,
                receipt_id=receipt.id, raw_sha256=receipt.raw_sha256,
                document_ref=f"order {mapped.channel_order_id}",
                reason="; ".join(mapped.problems) or "the order could not be mapped"))
            continue
        not_pushed = None if mapped.push else (mapped.reason_not_pushed or "not for delivery")
        saved = st.save_channel_order(conn, mapped.order, source_updated_at=mapped.updated_at,
                                      receipt_id=receipt.id, not_pushed_reason=not_pushed, now=now)
        if saved.action == "unchanged":
            summary.orders_unchanged += 1
            continue
        if saved.action == "cancelled":
            summary.orders_cancelled += 1
            deliver_cancellation(conn, saved.order_id, now)
            continue
        if saved.action == "created":
            summary.orders_new += 1
        else:
            summary.orders_updated += 1
        if not_pushed:
            summary.orders_not_pushed += 1
            st.add_event(conn, saved.order_id, "held", {"reason": not_pushed}, receipt_id=receipt.id, now=now)
            continue
        if saved.action == "updated":
            deliver_new_version(conn, saved.order_id, now)  # the ERP's sale order must follow it
        else:
            st.enqueue_delivery(conn, order_id=saved.order_id, target=ERP_TARGET, now=now)


def _cancel_stored(conn: Connection, receipt: st.Receipt, mapped: MappedOrderLike, now: dt.datetime) -> bool:
    saved = st.cancel_channel_order(
        conn, source=_SOURCE_OF.get(receipt.channel, receipt.channel), partner_id=receipt.partner_id,
        source_ref=mapped.channel_order_id, source_updated_at=mapped.updated_at, by=receipt.source_name,
        receipt_id=receipt.id, now=now)
    if saved.action == "cancelled":
        deliver_cancellation(conn, saved.order_id, now)
    return saved.action == "cancelled"


# Receipts' channel -> the orders' source (webhook bodies are Shopify orders).
_SOURCE_OF = {"shopify_webhook": "shopify"}


def sync_window_start(store: st.HubStore, *, partner_id: str, channel: str, lookback: dt.timedelta,
                      initial: dt.datetime) -> dt.datetime:
    """Where the next sync starts reading: the stored high-water mark minus the lookback window."""
    with store.transaction() as conn:
        position = st.get_cursor(conn, partner_id, channel)
    if position is None:
        return initial
    return dt.datetime.fromisoformat(position) - lookback


def advance_cursor(store: st.HubStore, *, partner_id: str, channel: str, newest: dt.datetime | None,
                   now: dt.datetime | None = None) -> str | None:
    """Move the high-water mark to the newest ``updated_at`` read (never backwards)."""
    if newest is None:
        return None
    with store.transaction() as conn:
        position = st.get_cursor(conn, partner_id, channel)
        if position is not None and dt.datetime.fromisoformat(position) >= newest:
            return position
        st.set_cursor(conn, partner_id, channel, newest.isoformat(), now=now or st.utcnow())
    return newest.isoformat()


def waiting_receipts(store: st.HubStore, channel: str) -> list[int]:
    """Receipts of a channel still queued (e.g. webhook bodies), oldest first."""
    receipts = st.tables.receipts
    with store.transaction() as conn:
        return list(conn.execute(
            select(receipts.c.id).where((receipts.c.channel == channel) & (receipts.c.state == "received"))
            .order_by(receipts.c.id)).scalars())
