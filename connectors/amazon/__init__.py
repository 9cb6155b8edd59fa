"""A marketplace seller account over an SP-API style Orders API v0, on the shared HTTP base.

    with AmazonClient(amazon_config(profile.amazon, client_id=..., client_secret=...,   # mappings.connections
                                    refresh_token=...)) as client:
        for page in client.iter_order_pages(since):          # getOrders, NextToken followed
            archive(page.raw)                                 # byte for byte; page.sha256 is its id
            for order in page.orders:
                items = client.order_item_pages(order["AmazonOrderId"])   # getOrderItems, paged

With ``restricted_data=("shippingAddress", "buyerInfo")`` (the profile's ``restricted_data``) getOrders
is sent with a Restricted Data Token from the Tokens API, and its orders carry name, street and phone.
"""

from connectors.amazon._client import ACCESS_TOKEN_HEADER, AmazonClient
from connectors.amazon._config import LWA_TOKEN_URL, AmazonConfig, OperationLimit
from connectors.amazon._models import (
    GET_ORDER_ITEMS,
    GET_ORDERS,
    ORDERS_PATH,
    OrderItemsPage,
    OrdersPage,
    order_items_path,
    parse_order_items_page,
    parse_orders_page,
)
from connectors.amazon._rate import RATE_LIMIT_HEADER, OperationBucket, OperationRateLimiter
from connectors.amazon._restricted import (
    CREATE_RESTRICTED_DATA_TOKEN,
    ORDERS_DATA_ELEMENTS,
    RESTRICTED_DATA_TOKEN_PATH,
    RestrictedDataAuth,
)

__all__ = [
    "ACCESS_TOKEN_HEADER",
    "CREATE_RESTRICTED_DATA_TOKEN",
    "GET_ORDERS",
    "GET_ORDER_ITEMS",
    "LWA_TOKEN_URL",
    "ORDERS_DATA_ELEMENTS",
    "ORDERS_PATH",
    "RATE_LIMIT_HEADER",
    "RESTRICTED_DATA_TOKEN_PATH",
    "AmazonClient",
    "AmazonConfig",
    "OperationBucket",
    "OperationLimit",
    "OperationRateLimiter",
    "OrderItemsPage",
    "OrdersPage",
    "RestrictedDataAuth",
    "order_items_path",
    "parse_order_items_page",
    "parse_orders_page",
]
