"""Back to the channels: shipped orders' fulfilments (Shopify, marketplace) and published stock.

    target = ChannelFulfilmentTarget(ShopifyChannel(ShopifyFulfilments(client)), store, partner_id=...,
                                     write_settle=dt.timedelta(minutes=2))
    fulfil_shipped_orders(target)            # every order with a bought label, fulfilled once at its channel

    publish_inventory(ShopifyStock(ShopifyInventory(client, location_id)), {"SKU-1": 12}, safety_stock=2)

Not a registered target kind: the intake queues deliveries when an order arrives, while a fulfilment
is due when its label is bought; the Dagster asset of each channel account (``hub/defs/fulfilment/``)
runs the pass instead.
"""

from hub.targets.channel_fulfilment._channels import (
    NOT_PLANNED,
    NOTHING_OPEN,
    FulfilmentChannel,
    MarketplaceChannel,
    ShopifyChannel,
)
from hub.targets.channel_fulfilment._inventory import (
    ListingStock,
    Published,
    ShopifyStock,
    StockChannel,
    publish_channel_stock,
    publish_inventory,
    published_quantity,
)
from hub.targets.channel_fulfilment._target import (
    ChannelFulfilmentTarget,
    FulfilmentCheck,
    FulfilmentPass,
    check_fulfilments,
    fulfil_shipped_orders,
    is_fulfilment_refusal,
    replay_refused_fulfilment,
)

__all__ = [
    "NOTHING_OPEN",
    "NOT_PLANNED",
    "ChannelFulfilmentTarget",
    "FulfilmentChannel",
    "FulfilmentCheck",
    "FulfilmentPass",
    "ListingStock",
    "MarketplaceChannel",
    "Published",
    "ShopifyChannel",
    "ShopifyStock",
    "StockChannel",
    "check_fulfilments",
    "fulfil_shipped_orders",
    "is_fulfilment_refusal",
    "publish_channel_stock",
    "publish_inventory",
    "published_quantity",
    "replay_refused_fulfilment",
]
