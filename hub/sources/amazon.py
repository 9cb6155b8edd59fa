"""Marketplace seller accounts (SP-API style Orders API v0): orders by LastUpdateDate, each with its items."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from canonical.errors import RejectedDocument
from hub import store as st
from hub.intake import SourcePage, UnreadableBody
from hub.sources._api import CLEAN_OUTCOMES, map_receipt_again
from hub.sources._protocol import CannotMapAgain
from hub.sources._registry import account_profile
from mappings.profiles import AmazonProfile, PartnerDirectory, PartnerProfile

if TYPE_CHECKING:
    from connectors.amazon import OrderItemsPage, OrdersPage

# SP-API wants LastUpdatedBefore at least two minutes in the past.
_SETTLED = dt.timedelta(minutes=2)


class AmazonSource:
    """A marketplace seller account: one per profile's ``{kind: amazon}`` channel."""

    kind = "amazon"
    name = "amazon"
    order_source = "amazon"
    settings_model = AmazonProfile
    channel = "amazon"
    replay_channels = ("amazon",)
    group = "marketplaces"
    cron = "*/5 * * * *"
    clean_outcomes = CLEAN_OUTCOMES

    def describe(self, profile: PartnerProfile, settings: AmazonProfile) -> str:
        """The seller account and how it is read."""
        return f"Orders of {profile.name} (seller {settings.seller_id}) by LastUpdateDate."

    def lookback(self, settings: AmazonProfile) -> dt.timedelta:
        """The profile's overlap re-read before the cursor."""
        return dt.timedelta(minutes=settings.lookback_minutes)

    def account_resource(self, settings: AmazonProfile) -> Any:
        """The seller account's resource, its LWA secrets read from the environment variables the profile names."""
        from hub.defs.amazon.resources import amazon_resource

        return amazon_resource(settings)

    def read_pages(self, client: Any, profile: PartnerProfile, settings: AmazonProfile, *, start: dt.datetime,
                   now: dt.datetime) -> Iterator[SourcePage | UnreadableBody]:
        """getOrders pages since ``start``, each with the getOrderItems answers of its orders."""
        for page in client.iter_order_pages(start, last_updated_before=now - _SETTLED):
            if getattr(page, "unreadable", None):
                # Without the body there is no NextToken either: this sync ends here, the next reads it again.
                yield UnreadableBody(page.raw, f"unreadable getOrders {page.sha256[:16]}", page.unreadable)
                continue
            item_pages, refused = {}, {}
            for order_id in filter(None, map(_order_id, page.orders)):
                try:
                    item_pages[order_id] = client.order_item_pages(order_id)
                except RejectedDocument as exc:  # an id that cannot be put in a URL: that order's problem
                    refused[order_id] = exc.reason
            # An order whose items answer cannot be read waits for the next sync (the cursor holds).
            waiting = frozenset(order_id for order_id, pages in item_pages.items() if any(p.unreadable for p in pages))
            unreadable = [UnreadableBody(items.raw, f"unreadable getOrderItems {items.sha256[:16]}", items.unreadable)
                          for order_id in sorted(waiting) for items in item_pages.pop(order_id) if items.unreadable]

            def map_orders(sha: str, page=page, item_pages=item_pages, waiting=waiting, refused=refused) -> list:
                return map_amazon_page(page, item_pages, profile, sha, skip=waiting, refused=refused)

            # The items' bodies are linked to the page's receipt: a replay maps the page from the archive alone.
            yield SourcePage(page.raw, f"getOrders {start.isoformat()} {page.sha256[:16]}", map_orders,
                             attachments=[p.raw for pages in item_pages.values() for p in pages],
                             unreadable=unreadable)

    def map_again(self, store: st.HubStore, partners: PartnerDirectory, receipt_id: int, *, now: dt.datetime) -> str:
        """An archived getOrders page mapped again with the getOrderItems bodies archived with it; no API call."""
        from connectors.amazon import parse_order_items_page, parse_orders_page

        with store.transaction() as conn:
            attached = [(sha, st.raw_content(conn, sha)) for sha in st.receipt_raw_attachments(conn, receipt_id)]
        if not attached:
            raise CannotMapAgain("this page was archived without its order items (before migration 0004): move the "
                                 "account's sync cursor back before the order's LastUpdateDate and sync")
        item_pages: dict[str, list] = {}
        for sha, body in attached:
            items = parse_order_items_page(body, order_id=None, what=f"archived getOrderItems {sha[:16]}")
            item_pages.setdefault(items.amazon_order_id, []).append(items)

        def map_orders(raw: bytes, sha: str, receipt: st.Receipt) -> list:
            page = parse_orders_page(raw, what=f"archived getOrders {sha[:16]}")
            return map_amazon_page(page, item_pages, partners.get(receipt.partner_id), sha)

        return map_receipt_again(store, partners, receipt_id, map_orders, now=now)

    def map_files(self, files: Sequence[tuple[str, bytes]], partners: PartnerDirectory,
                  partner_id: str | None) -> list[dict[str, Any]]:
        """getOrders and getOrderItems bodies belong together: one result for all the files given."""
        from mappings.amazon import map_amazon_payloads

        if not files:
            return []
        profile = account_profile(partners, self.kind, partner_id)
        result = map_amazon_payloads([data for _, data in files], profile=profile, names=[name for name, _ in files])
        return [{"files": [name for name, _ in files], **result.to_json()}]


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
        order_id = _order_id(order)
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


def _order_id(order: object) -> str:
    """The order's AmazonOrderId, or "" when the entry has none (the mapper rejects it, located)."""
    order_id = order.get("AmazonOrderId") if isinstance(order, dict) else None
    return order_id if isinstance(order_id, str) else ""


AMAZON = AmazonSource()
