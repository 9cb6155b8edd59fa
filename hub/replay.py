"""Replaying the exception queue after a fix: reprocess the raw document, or deliver the order again."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hub import store as st
from hub.delivery._acks import ACK_NOT_SENT, replay_unsent_ack
from hub.intake import (
    ERP_TARGET,
    UNREADABLE_PAGE,
    ChannelSummary,
    map_amazon_page,
    process_queued_receipt,
    process_x12_receipt,
)
from mappings.profiles import PartnerDirectory


@dataclass(frozen=True)
class ReplayOutcome:
    """What a replay did, in words for the operator."""

    exception_id: int
    done: bool
    message: str


def _map_shopify(partners: PartnerDirectory):
    from mappings.shopify import map_shopify_orders

    return lambda raw, sha, receipt: map_shopify_orders(raw, profile=partners.get(receipt.partner_id),
                                                        raw_document_id=sha)


# Channels whose archived bodies can simply be mapped again (no other document needed).
CHANNEL_MAPPERS = {"shopify": _map_shopify, "shopify_webhook": _map_shopify}


def _replay_amazon_page(
    store: st.HubStore, partners: PartnerDirectory, queued: st.QueuedException, now: dt.datetime
) -> ReplayOutcome:
    """Map an archived getOrders page again with the getOrderItems bodies archived with it; no API call."""
    from connectors.amazon import parse_order_items_page, parse_orders_page

    with store.transaction() as conn:
        attached = [(sha, st.raw_content(conn, sha)) for sha in st.receipt_raw_attachments(conn, queued.receipt_id)]
    if not attached:
        return ReplayOutcome(queued.id, False, "this page was archived without its order items (before migration "
                             "0004): move the account's sync cursor back before the order's LastUpdateDate and sync")
    item_pages: dict[str, list] = {}
    for sha, body in attached:
        items = parse_order_items_page(body, order_id=None, what=f"archived getOrderItems {sha[:16]}")
        item_pages.setdefault(items.amazon_order_id, []).append(items)

    def map_orders(raw: bytes, sha: str, receipt: st.Receipt):
        page = parse_orders_page(raw, what=f"archived getOrders {sha[:16]}")
        return map_amazon_page(page, item_pages, partners.get(receipt.partner_id), sha)

    return _replay_receipt(store, queued, map_orders, now)


def _replay_receipt(store: st.HubStore, queued: st.QueuedException, map_orders, now: dt.datetime) -> ReplayOutcome:
    summary = ChannelSummary()
    process_queued_receipt(store, queued.receipt_id, map_orders, summary, now=now, replay=True)
    with store.transaction() as conn:
        after = st.get_exception(conn, queued.id)
    if after is not None and after.state == st.REPLAYED:
        return ReplayOutcome(queued.id, True, f"mapped again: {summary.orders_new} new, {summary.orders_updated} updated")
    return ReplayOutcome(queued.id, False, f"still failing: {after.reason if after else 'unknown'}")


def replay_exception(
    store: st.HubStore, partners: PartnerDirectory, exception_id: int, *, now: dt.datetime | None = None
) -> ReplayOutcome:
    """Replay one queued exception. Safe to repeat: nothing is created twice."""
    now = now or st.utcnow()
    with store.transaction() as conn:
        queued = st.get_exception(conn, exception_id)
    if queued is None:
        return ReplayOutcome(exception_id, False, "no such exception")
    if queued.state != st.OPEN:
        return ReplayOutcome(exception_id, False, f"already {queued.state}")
    if queued.kind.startswith("erp_") and queued.order_id is not None:
        with store.transaction() as conn:
            st.requeue_delivery(conn, order_id=queued.order_id, target=ERP_TARGET, now=now)
        # The next push pass makes the ERP match the order as stored now (create, update or cancel).
        return ReplayOutcome(exception_id, True, "delivery queued again; it closes when the ERP matches the order")
    if queued.kind == UNREADABLE_PAGE:
        # Nothing in the archived body to map again: the cursor was held, so the account's next sync
        # reads the same window from the channel and settles this exception itself.
        return ReplayOutcome(exception_id, False, "the archived answer is not an orders page: the account's next "
                             "sync reads its window again and closes this exception")
    if queued.kind == ACK_NOT_SENT:
        return ReplayOutcome(exception_id, *replay_unsent_ack(store, queued, now=now))
    if queued.receipt_id is not None and queued.channel in CHANNEL_MAPPERS:
        return _replay_receipt(store, queued, CHANNEL_MAPPERS[queued.channel](partners), now)
    if queued.receipt_id is not None and queued.channel == "amazon":
        return _replay_amazon_page(store, partners, queued, now)
    if queued.receipt_id is not None:
        summary = process_x12_receipt(store, partners, queued.receipt_id, replay=True, now=now)
        with store.transaction() as conn:
            after = st.get_exception(conn, exception_id)
        assert after is not None
        if after.state == st.REPLAYED:
            return ReplayOutcome(exception_id, True, f"reprocessed: {summary.orders_created} order(s) created")
        return ReplayOutcome(exception_id, False, f"still failing: {after.reason}")
    if queued.kind.startswith("quarantined_"):
        return ReplayOutcome(exception_id, False, "nothing was read: rename or remove the entry on the SFTP server "
                             "(see the runbook); the inbox sensor closes this exception on its next tick")
    return ReplayOutcome(exception_id, False, "nothing to replay: the file was never archived; ask the partner to resend it")
