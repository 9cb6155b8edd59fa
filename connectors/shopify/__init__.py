"""Shopify Admin REST API (version pinned per store): orders by ``updated_at``, within the call limit.

    client = ShopifyClient(shopify_config(profile.shopify))   # mappings.connections
    for page in client.iter_order_pages(since):
        archive(page.raw)          # byte for byte, before parsing
        ...page.orders...
"""

from connectors.shopify._client import ACCESS_TOKEN_HEADER, ShopifyClient
from connectors.shopify._config import DEFAULT_API_VERSION, ShopifyConfig
from connectors.shopify._models import OrderPage
from connectors.shopify._rate import CALL_LIMIT_HEADER, ShopifyCallLimiter, parse_call_limit

__all__ = [
    "ACCESS_TOKEN_HEADER",
    "CALL_LIMIT_HEADER",
    "DEFAULT_API_VERSION",
    "OrderPage",
    "ShopifyCallLimiter",
    "ShopifyClient",
    "ShopifyConfig",
    "parse_call_limit",
]
