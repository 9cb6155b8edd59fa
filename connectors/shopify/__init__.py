"""Shopify GraphQL Admin API (2026-10 unless a profile pins another): orders by ``updated_at``, within the cost budget.

    client = ShopifyClient(shopify_config(profile.shopify))   # mappings.connections
    for page in client.iter_order_pages(since):
        archive(page.raw)          # byte for byte, before parsing
        ...page.orders...          # GraphQL Order nodes; mappings.shopify maps them

Writing back, same client and cost bucket: ``ShopifyFulfilments`` (``fulfillmentOrders``, one
``fulfillmentCreate`` per location, the order's fulfillments) and ``ShopifyInventory``
(``inventorySetQuantities`` with ``changeFromQuantity`` and ``@idempotent(key:)``, both required from 2026-04).
Backfills: ``ShopifyBulk`` (``bulkOperationRunQuery``, polled ``bulkOperation(id:)``, the JSONL file streamed).
"""

from connectors.shopify._bulk import (
    BulkFileTooLarge,
    BulkOperation,
    BulkOperationFailed,
    ShopifyBulk,
    assemble_orders,
    bulk_orders_query,
)
from connectors.shopify._client import ACCESS_TOKEN_HEADER, ShopifyClient, raise_for_user_errors
from connectors.shopify._config import DEFAULT_API_VERSION, ShopifyConfig
from connectors.shopify._fulfilment import (
    Fulfillment,
    FulfillmentOrder,
    ShopifyFulfilments,
    TrackingInfo,
    by_location,
    line_items_by_fulfillment_order,
)
from connectors.shopify._inventory import InventoryLevel, ShopifyInventory, StaleQuantity
from connectors.shopify._models import OrderPage
from connectors.shopify._query import ORDER_QUERY, ORDERS_QUERY, updated_between
from connectors.shopify._rate import THROTTLED, QueryCost, ShopifyCostLimiter, query_cost

__all__ = [
    "ACCESS_TOKEN_HEADER",
    "DEFAULT_API_VERSION",
    "ORDERS_QUERY",
    "ORDER_QUERY",
    "THROTTLED",
    "BulkFileTooLarge",
    "BulkOperation",
    "BulkOperationFailed",
    "Fulfillment",
    "FulfillmentOrder",
    "InventoryLevel",
    "OrderPage",
    "QueryCost",
    "ShopifyBulk",
    "ShopifyClient",
    "ShopifyConfig",
    "ShopifyCostLimiter",
    "ShopifyFulfilments",
    "ShopifyInventory",
    "StaleQuantity",
    "TrackingInfo",
    "assemble_orders",
    "bulk_orders_query",
    "by_location",
    "line_items_by_fulfillment_order",
    "query_cost",
    "raise_for_user_errors",
    "updated_between",
]
