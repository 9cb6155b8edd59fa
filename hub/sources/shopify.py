"""Shopify stores: orders read by ``updated_at`` from the GraphQL Admin API, and the bodies of its webhooks."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Sequence
from typing import Any

from hub import store as st
from hub.intake import MappedOrderLike, SourcePage, UnreadableBody
from hub.sources._api import CLEAN_OUTCOMES, map_receipt_again
from hub.sources._protocol import MapArchived
from hub.sources._registry import account_profile
from mappings.profiles import PartnerDirectory, PartnerProfile, ShopifyProfile

WEBHOOK_CHANNEL = "shopify_webhook"
"""Receipts of webhook bodies (verified and queued by ``hub.webhooks``)."""


class ShopifySource:
    """A Shopify store: one per profile's ``{kind: shopify}`` channel."""

    kind = "shopify"
    name = "shopify"
    order_source = "shopify"
    settings_model = ShopifyProfile
    channel = "shopify"
    replay_channels = ("shopify", WEBHOOK_CHANNEL)
    group = "shopify"
    cron = "*/5 * * * *"
    clean_outcomes = CLEAN_OUTCOMES
    queue_channel = WEBHOOK_CHANNEL
    queue_label = "Shopify webhook"

    def describe(self, profile: PartnerProfile, settings: ShopifyProfile) -> str:
        """The store and how it is read."""
        return f"Orders of {profile.name} ({settings.shop_domain}) by updated_at, with lookback."

    def lookback(self, settings: ShopifyProfile) -> dt.timedelta:
        """The profile's overlap re-read before the cursor."""
        return dt.timedelta(minutes=settings.lookback_minutes)

    def account_resource(self, settings: ShopifyProfile) -> Any:
        """The store's Admin API resource, its token read from the environment variable the profile names."""
        from hub.defs.shopify.resources import shopify_resource

        return shopify_resource(settings)

    def read_pages(self, client: Any, profile: PartnerProfile, settings: ShopifyProfile, *, start: dt.datetime,
                   now: dt.datetime) -> Iterator[SourcePage | UnreadableBody]:
        """Pages of orders updated in [start, now]: the window's end is pinned, an order edited meanwhile waits."""
        from mappings import shopify

        for page in client.iter_order_pages(start, updated_at_max=now):
            if getattr(page, "unreadable", None):
                # The client asks for the same page once more, then goes on from it.
                yield UnreadableBody(page.raw, f"unreadable {hashlib.sha256(page.raw).hexdigest()[:16]}",
                                     page.unreadable)
                continue

            def map_orders(sha: str, page: Any = page) -> list[MappedOrderLike]:
                # The archived bytes are what is mapped (and mapped again on replay): one path for both.
                return list(shopify.map_shopify_orders(page.raw, profile=profile, raw_document_id=sha))

            yield SourcePage(page.raw, page.url_path, map_orders)

    def mapper(self, partners: PartnerDirectory) -> MapArchived:
        """Maps an archived orders page or webhook body with its partner's profile."""
        from mappings.shopify import map_shopify_orders

        def map_orders(raw: bytes, sha: str, receipt: st.Receipt) -> list[MappedOrderLike]:
            return list(map_shopify_orders(raw, profile=partners.get(receipt.partner_id), raw_document_id=sha))

        return map_orders

    def map_again(self, store: st.HubStore, partners: PartnerDirectory, receipt_id: int, *, now: dt.datetime) -> str:
        """The archived page, webhook body or bulk file (``hub backfill shopify``) mapped again."""
        from hub.sources import _shopify_bulk

        with store.transaction() as conn:
            bulk = _shopify_bulk.is_bulk_receipt(st.get_receipt(conn, receipt_id))
        if bulk:
            return _shopify_bulk.map_bulk_again(store, partners, receipt_id, now=now)
        return map_receipt_again(store, partners, receipt_id, self.mapper(partners), now=now)

    def map_files(self, files: Sequence[tuple[str, bytes]], partners: PartnerDirectory,
                  partner_id: str | None) -> list[dict[str, Any]]:
        """Each saved orders page or webhook body, mapped on its own."""
        from mappings.shopify import map_shopify_payload

        if not files:
            return []
        profile = account_profile(partners, self.kind, partner_id)
        return [{"file": name, **map_shopify_payload(data, profile=profile).to_json()} for name, data in files]


SHOPIFY = ShopifySource()
