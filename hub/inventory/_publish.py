"""Stock published to one channel account from ATP: only what changed is sent, what was sent is recorded.

    publish_stock(store, ShopifyStock(inventory), channel="shopify", partner_id="acme-shop", safety_stock=2)

Each SKU is told ``max(0, floor(ATP) - safety_stock)`` (``atp_by_sku``: live ATP summed over warehouses).
``published_stock`` keeps the last quantity of every SKU per account; a SKU is sent again only when
that quantity changed (or ``republish``), so a re-run with nothing changed sends nothing. A SKU once
published and now missing from ATP is published as 0. Shopify's compare-and-swap can come back stale
(someone changed the quantity between our read and write): it is retried once, reading the current
quantity back, and reported if stale again. ``stock_above_atp`` is the reconciliation check.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from hub import store as st
from hub.inventory._allocate import ZERO
from hub.inventory._service import atp_by_sku
from hub.store._published_stock import SHOWN, PublishedStock, published_stock_of, record_published_stock
from hub.targets.channel_fulfilment import Published, StockChannel, publish_inventory, published_quantity

UNKNOWN_SKU = "unknown_sku"
LISTED = 50  # SKUs named in metadata; the counts say how many there were


@dataclass
class StockPublication:
    """What one publication to one account did."""

    skus: int = 0  # SKUs known (in ATP or published before)
    sent: dict[str, int] = field(default_factory=dict)  # SKUs whose quantity changed: what each was to show
    published: Published = field(default_factory=Published)
    retried: list[str] = field(default_factory=list)  # stale once, sent again with the quantity read back
    no_snapshot: bool = False  # no ATP yet: nothing published

    def metadata(self) -> dict[str, Any]:
        """Counts and the SKUs that need a look, for the asset's materialization."""
        done = self.published
        return {
            "skus": self.skus, "sent": len(self.sent), "set": len(done.set), "unchanged": len(done.unchanged),
            "unknown_at_channel": len(done.unknown), "retried_stale": len(self.retried),
            "stale": ", ".join(sorted(done.stale)[:LISTED]), "rejected": ", ".join(sorted(done.rejected)[:LISTED]),
            "no_atp_snapshot": self.no_snapshot,
        }


def due_quantities(atp: Mapping[str, Decimal], last: Mapping[str, PublishedStock], safety_stock: int, *,
                   republish: bool = False) -> dict[str, int]:
    """The SKUs to send and what each is to show: those never published or whose quantity changed."""
    due = {}
    for sku in sorted(set(atp) | set(last)):
        quantity = published_quantity(atp.get(sku, ZERO), safety_stock)
        if republish or sku not in last or last[sku].quantity != quantity:
            due[sku] = quantity
    return due


def _merge(first: Published, retry: Published) -> Published:
    """The first attempt with the stale SKUs replaced by how their retry went."""
    merged = Published(quantities=dict(first.quantities), set=first.set + retry.set,
                       unchanged=first.unchanged + retry.unchanged, unknown=first.unknown + retry.unknown,
                       stale=dict(retry.stale), rejected={**first.rejected, **retry.rejected})
    return merged


def publish_stock(store: st.HubStore, channel: StockChannel, *, channel_kind: str, partner_id: str,
                  safety_stock: int = 0, republish: bool = False, now: dt.datetime | None = None) -> StockPublication:
    """Send the account the SKUs whose published quantity changed, retry a stale one once, record what it shows."""
    atp = atp_by_sku(store)
    if not atp:  # no stock snapshot yet (or an empty one): publishing would zero every SKU; wait for one
        return StockPublication(no_snapshot=True)
    with store.transaction() as conn:
        last = published_stock_of(conn, channel_kind, partner_id)
    due = due_quantities(atp, last, safety_stock, republish=republish)
    result = StockPublication(skus=len(set(atp) | set(last)), sent=due)
    # The quantities are final already: safety stock 0 here keeps them as they are.
    published = publish_inventory(channel, due, safety_stock=0)
    if published.stale:
        # ShopifyStock.publish reads the level again before its compare-and-swap: the retry starts from
        # the quantity the channel has now (a sale at the till in between is kept, then overwritten by ATP).
        result.retried = sorted(published.stale)
        published = _merge(published, publish_inventory(channel, {sku: due[sku] for sku in published.stale}))
    result.published = published
    at = now or dt.datetime.now(dt.UTC)
    outcomes = {**dict.fromkeys(published.set, "set"), **dict.fromkeys(published.unchanged, "unchanged"),
                **dict.fromkeys(published.unknown, UNKNOWN_SKU)}
    with store.transaction() as conn:
        record_published_stock(conn, channel_kind, partner_id, [
            PublishedStock(sku, due[sku], atp.get(sku, ZERO), safety_stock, outcome, at)
            for sku, outcome in sorted(outcomes.items())])
    return result


@dataclass(frozen=True)
class AboveAtp:
    """A SKU the channel shows more of than ATP less safety stock allows now."""

    sku: str
    published: int
    allowed: int
    atp: Decimal


def stock_above_atp(store: st.HubStore, channel_kind: str, partner_id: str, safety_stock: int = 0) -> list[AboveAtp]:
    """Every SKU whose last published quantity is above ``max(0, floor(ATP now) - safety_stock)``."""
    atp = atp_by_sku(store)
    with store.transaction() as conn:
        last = published_stock_of(conn, channel_kind, partner_id)
    above = []
    for sku, row in sorted(last.items()):
        allowed = published_quantity(atp.get(sku, ZERO), safety_stock)
        if row.outcome in SHOWN and row.quantity > allowed:
            above.append(AboveAtp(sku, row.quantity, allowed, atp.get(sku, ZERO)))
    return above
