"""Shopify order JSON (Admin REST API / webhooks) -> canonical orders; see ``_order.py`` for the decisions."""

from mappings._channel import HELD, OK, REJECTED, MappedOrder, Problem
from mappings.shopify._order import map_shopify_order
from mappings.shopify._payloads import (
    ShopifyDocumentResult,
    ShopifyMapResult,
    map_shopify_orders,
    map_shopify_payload,
    order_objects,
)

__all__ = [
    "HELD",
    "OK",
    "REJECTED",
    "MappedOrder",
    "Problem",
    "ShopifyDocumentResult",
    "ShopifyMapResult",
    "map_shopify_order",
    "map_shopify_orders",
    "map_shopify_payload",
    "order_objects",
]
