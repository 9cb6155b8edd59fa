"""Shopify orders (GraphQL Admin API nodes, webhook bodies) -> canonical orders; see ``_order.py``, ``_graphql.py``."""

from mappings._channel import HELD, OK, REJECTED, MappedOrder, Problem
from mappings.shopify._graphql import is_graphql_order, webhook_shape
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
    "is_graphql_order",
    "map_shopify_order",
    "map_shopify_orders",
    "map_shopify_payload",
    "order_objects",
    "webhook_shape",
]
