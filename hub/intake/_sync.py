"""Incremental syncs of API channel accounts: read since the cursor (minus a lookback), store, advance."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hub import store as st
from canonical.errors import RejectedDocument
from hub.intake._channels import (
    ChannelSummary,
    advance_cursor,
    settle_unreadable_pages,
    store_channel_document,
    store_unreadable_page,
    sync_window_start,
)
from mappings.profiles import PartnerProfile

if TYPE_CHECKING:
    from connectors.amazon import OrderItemsPage, OrdersPage

# How far back the very first sync of an account reads.
INITIAL_WINDOW = dt.timedelta(days=30)


@dataclass
class SyncResult:
    """One sync of one account: what was stored, where the cursor went, what the API cost."""

    summary: ChannelSummary
    window_start: dt.datetime
    cursor: str | None
    requests: dict[str, Any] = field(default_factory=dict)

    def metadata(self) -> dict[str, Any]:
        return {**self.summary.metadata(), "window_start": self.window_start.isoformat(),
                "cursor": self.cursor or "", **{f"http_{k}": v for k, v in self.requests.items()}}


def sync_shopify_orders(store: st.HubStore, client, profile: PartnerProfile, *, now: dt.datetime | None = None) -> SyncResult:
    """Read every order of a Shopify store updated since the cursor; each page archived raw first."""
    from mappings.shopify import map_shopify_order

    assert profile.shopify is not None
    now = now or st.utcnow()
    start = sync_window_start(store, partner_id=profile.id, channel="shopify",
                              lookback=dt.timedelta(minutes=profile.shopify.lookback_minutes), initial=now - INITIAL_WINDOW)
    summary, newest = ChannelSummary(), None
    # The window's end is pinned: an order edited while we page is read by the next sync.
    for page in client.iter_order_pages(start, updated_at_max=now):
        if getattr(page, "unreadable", None):
            store_unreadable_page(store, channel="shopify", partner_id=profile.id, raw=page.raw, reason=page.unreadable,
                                  source_name=f"unreadable {hashlib.sha256(page.raw).hexdigest()[:16]}",
                                  summary=summary, now=now)
            continue  # Shopify's Link header still leads to the next page
        mapped = []

        def map_orders(sha: str, page=page, mapped=mapped):
            mapped.extend(map_shopify_order(order, profile=profile, raw_document_id=sha, document_ref=f"orders[{i}]")
                          for i, order in enumerate(page.orders))
            return mapped

        store_channel_document(store, channel="shopify", partner_id=profile.id, source_name=page.url_path,
                               raw=page.raw, map_orders=map_orders, summary=summary, now=now)
        newest = _newest(newest, mapped)
    cursor = _finish(store, profile.id, "shopify", summary, newest, now)
    return SyncResult(summary, start, cursor, _stats(client))


def sync_amazon_orders(store: st.HubStore, client, profile: PartnerProfile, *, now: dt.datetime | None = None) -> SyncResult:
    """Read every marketplace order updated since the cursor, with its items; every body archived raw first."""
    assert profile.amazon is not None
    now = now or st.utcnow()
    start = sync_window_start(store, partner_id=profile.id, channel="amazon",
                              lookback=dt.timedelta(minutes=profile.amazon.lookback_minutes), initial=now - INITIAL_WINDOW)
    summary, newest = ChannelSummary(), None
    # SP-API wants LastUpdatedBefore at least two minutes in the past.
    before = now - dt.timedelta(minutes=2)
    for page in client.iter_order_pages(start, last_updated_before=before):
        if getattr(page, "unreadable", None):
            # Without the body there is no NextToken either: this sync ends here, the next reads it again.
            store_unreadable_page(store, channel="amazon", partner_id=profile.id, raw=page.raw, reason=page.unreadable,
                                  source_name=f"unreadable getOrders {page.sha256[:16]}", summary=summary, now=now)
            continue
        item_pages, refused = {}, {}
        for order_id in filter(None, map(_amazon_order_id, page.orders)):
            try:
                item_pages[order_id] = client.order_item_pages(order_id)
            except RejectedDocument as exc:  # an id that cannot be put in a URL: that order's problem
                refused[order_id] = exc.reason
        # An order whose items answer cannot be read waits for the next sync (the cursor holds).
        waiting = frozenset(order_id for order_id, pages in item_pages.items() if any(p.unreadable for p in pages))
        for order_id in sorted(waiting):
            for items_page in item_pages.pop(order_id):
                if items_page.unreadable:
                    store_unreadable_page(store, channel="amazon", partner_id=profile.id, raw=items_page.raw,
                                          reason=items_page.unreadable, summary=summary, now=now,
                                          source_name=f"unreadable getOrderItems {items_page.sha256[:16]}")
        mapped = []

        def map_orders(sha: str, page=page, item_pages=item_pages, mapped=mapped, waiting=waiting, refused=refused):
            mapped.extend(map_amazon_page(page, item_pages, profile, sha, skip=waiting, refused=refused))
            return mapped

        # The items' bodies are linked to the page's receipt: a replay maps the page from the archive alone.
        attachments = [p.raw for pages in item_pages.values() for p in pages]
        store_channel_document(store, channel="amazon", partner_id=profile.id,
                               source_name=f"getOrders {start.isoformat()} {page.sha256[:16]}", raw=page.raw,
                               map_orders=map_orders, summary=summary, attachments=attachments, now=now)
        newest = _newest(newest, mapped)
    cursor = _finish(store, profile.id, "amazon", summary, newest, now)
    return SyncResult(summary, start, cursor, _stats(client))


def map_amazon_page(page: OrdersPage, item_pages: Mapping[str, list[OrderItemsPage]], profile: PartnerProfile,
                    sha: str, *, skip: frozenset[str] = frozenset(), refused: Mapping[str, str] | None = None) -> list:
    """Each order of a getOrders page with all its items (``item_pages`` by AmazonOrderId), mapped.

    Orders in ``skip`` (their items could not be read) are left for the next sync; orders in
    ``refused`` (id -> why their items cannot even be asked for) are rejected.
    """
    from mappings.amazon import map_amazon_order
    from mappings.amazon._order import rejected_order

    mapped = []
    for i, order in enumerate(page.orders):
        order_id = _amazon_order_id(order)
        if order_id in skip:
            continue
        if refused and order_id in refused:
            mapped.append(rejected_order(order, f"payload.Orders[{i}].AmazonOrderId", refused[order_id]))
            continue
        items = [item for p in item_pages.get(order_id, []) for item in p.items]
        mapped.append(map_amazon_order(order, items, profile=profile, raw_document_id=sha,
                                       document_ref=f"payload.Orders[{i}]",
                                       items_ref=f"orderItems({str(order_id)[:40]}).payload.OrderItems"))
    return mapped


def _amazon_order_id(order: object) -> str:
    """The order's AmazonOrderId, or "" when the entry has none (the mapper rejects it, located)."""
    order_id = order.get("AmazonOrderId") if isinstance(order, dict) else None
    return order_id if isinstance(order_id, str) else ""


def _finish(store: st.HubStore, partner_id: str, channel: str, summary: ChannelSummary,
            newest: dt.datetime | None, now: dt.datetime) -> str | None:
    """Move the cursor after the last page, unless a page could not be read: then hold it where it was.

    Rejected orders do not hold it (they are archived and replayable); an unreadable page does,
    because nobody knows which orders it held. A sync that read everything settles earlier ones.
    """
    if summary.unreadable_pages:
        with store.transaction() as conn:
            return st.get_cursor(conn, partner_id, channel)
    cursor = advance_cursor(store, partner_id=partner_id, channel=channel, newest=newest, now=now)
    settle_unreadable_pages(store, partner_id=partner_id, channel=channel, now=now)
    return cursor


def _newest(newest: dt.datetime | None, mapped) -> dt.datetime | None:
    for item in mapped:
        if item.updated_at is not None and (newest is None or item.updated_at > newest):
            newest = item.updated_at
    return newest


def _stats(client) -> dict[str, Any]:
    stats = getattr(client, "stats", None)
    return stats.as_dict() if stats is not None else {}
