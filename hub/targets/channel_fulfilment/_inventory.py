"""Stock published to the channels: each SKU's available quantity less the safety stock, never below zero.

Shopify: ``available`` at one location set with compare-and-swap (``changeFromQuantity`` = what we just
read) and an idempotency key; a quantity someone changed in between is surfaced as ``stale`` (read again
next pass), never overwritten blindly. Marketplace: the listing's ``fulfillment_availability`` quantity
patched (Listings Items API 2021-08-01). The quantities come from the caller (the ATP snapshot).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from canonical.errors import ConfigurationError, RejectedDocument
from connectors.amazon import AmazonSellerClient
from connectors.shopify import ShopifyInventory, StaleQuantity
from mappings.profiles import PartnerProfile

SET, UNCHANGED, UNKNOWN_SKU = "set", "unchanged", "unknown_sku"


def published_quantity(quantity: Decimal | int, safety_stock: int) -> int:
    """What a channel is told: whole units available less the safety stock, at least 0."""
    return max(0, math.floor(quantity) - max(0, safety_stock))


class StockChannel(Protocol):
    """A channel account that takes available quantities per SKU."""

    label: str

    def publish(self, sku: str, quantity: int) -> str:
        """Make the channel show ``quantity`` for ``sku``: ``set``, ``unchanged`` or ``unknown_sku``."""
        ...


class ShopifyStock:
    """One Shopify location's ``available`` quantities, by compare-and-swap."""

    label = "the Shopify store"

    def __init__(self, inventory: ShopifyInventory) -> None:
        self.inventory = inventory

    def publish(self, sku: str, quantity: int) -> str:
        """Read the level, then set it from what was read (``StaleQuantity`` when it changed in between)."""
        level = self.inventory.level(sku)
        if level is None:
            return UNKNOWN_SKU
        if level.available == quantity:
            return UNCHANGED
        self.inventory.set_available(level, quantity, reference=f"orderhub://stock/{sku}")
        return SET


class ListingStock:
    """A marketplace seller's listings: ``fulfillment_availability`` per SKU."""

    label = "the marketplace"

    def __init__(self, client: AmazonSellerClient, seller_id: str, marketplace_ids: Sequence[str]) -> None:
        self.client = client
        self.seller_id = seller_id
        self.marketplace_ids = list(marketplace_ids)

    def publish(self, sku: str, quantity: int) -> str:
        """Patch the listing's quantity (an absolute value: sending it again changes nothing)."""
        self.client.patch_listing_quantity(self.seller_id, sku, self.marketplace_ids, quantity)
        return SET


@dataclass
class Published:
    """What one publication did per SKU."""

    quantities: dict[str, int] = field(default_factory=dict)  # what each SKU was to show
    set: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    stale: dict[str, str] = field(default_factory=dict)  # changed at the channel in between: read again next pass
    rejected: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Nothing stale or refused."""
        return not (self.stale or self.rejected)


def publish_inventory(channel: StockChannel, quantities: Mapping[str, Decimal | int], *,
                      safety_stock: int = 0) -> Published:
    """Publish ``max(0, quantity - safety_stock)`` per SKU; a stale or refused SKU does not stop the others."""
    result = Published()
    for sku in sorted(quantities):
        quantity = published_quantity(quantities[sku], safety_stock)
        result.quantities[sku] = quantity
        try:
            outcome = channel.publish(sku, quantity)
        except StaleQuantity as exc:
            result.stale[sku] = exc.reason
            continue
        except RejectedDocument as exc:
            result.rejected[sku] = exc.reason
            continue
        {SET: result.set, UNCHANGED: result.unchanged, UNKNOWN_SKU: result.unknown}[outcome].append(sku)
    return result


def publish_channel_stock(profile: PartnerProfile, kind: str, channel: StockChannel,
                          quantities: Mapping[str, Decimal | int]) -> Published:
    """Publish to the partner's channel of ``kind`` (``shopify``, ``amazon``) with that channel's ``safety_stock``."""
    settings = profile.channel(kind)
    if settings is None:
        raise ConfigurationError(f"partner {profile.id!r} has no {kind} channel to publish stock to")
    return publish_inventory(channel, quantities, safety_stock=settings.safety_stock)
