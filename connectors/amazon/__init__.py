"""A marketplace seller account over an SP-API style Orders API v0, on the shared HTTP base.

    with AmazonClient(amazon_config(profile.amazon, client_id=..., client_secret=...,   # mappings.connections
                                    refresh_token=...)) as client:
        for page in client.iter_order_pages(since):          # getOrders, NextToken followed
            archive(page.raw)                                 # byte for byte; page.sha256 is its id
            for order in page.orders:
                items = client.order_item_pages(order["AmazonOrderId"])   # getOrderItems, paged

With ``restricted_data=("shippingAddress", "buyerInfo")`` (the profile's ``restricted_data``) getOrders
is sent with a Restricted Data Token from the Tokens API, and its orders carry name, street and phone.

``AmazonSellerClient`` adds the writes: confirmShipment and getOrder (Orders v0) and patchListingsItem
(Listings Items API 2021-08-01), each paced by its own usage plan.
"""

from connectors.amazon._client import ACCESS_TOKEN_HEADER, AmazonClient
from connectors.amazon._config import LWA_TOKEN_URL, AmazonConfig, OperationLimit
from connectors.amazon._fulfilment import (
    CONFIRM_SHIPMENT,
    GET_ORDER,
    LISTINGS_API_VERSION,
    PATCH_LISTINGS_ITEM,
    AmazonSellerClient,
    PackageDetail,
    listings_item_path,
    shipment_confirmation_path,
)
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
    "CONFIRM_SHIPMENT",
    "CREATE_RESTRICTED_DATA_TOKEN",
    "GET_ORDER",
    "GET_ORDERS",
    "GET_ORDER_ITEMS",
    "LISTINGS_API_VERSION",
    "LWA_TOKEN_URL",
    "ORDERS_DATA_ELEMENTS",
    "ORDERS_PATH",
    "PATCH_LISTINGS_ITEM",
    "RATE_LIMIT_HEADER",
    "RESTRICTED_DATA_TOKEN_PATH",
    "AmazonClient",
    "AmazonConfig",
    "AmazonSellerClient",
    "OperationBucket",
    "OperationLimit",
    "OperationRateLimiter",
    "OrderItemsPage",
    "OrdersPage",
    "PackageDetail",
    "RestrictedDataAuth",
    "listings_item_path",
    "order_items_path",
    "parse_order_items_page",
    "parse_orders_page",
    "shipment_confirmation_path",
]
