"""Connection settings for one Shopify store's GraphQL Admin API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from connectors._http._config import HttpAccountConfig, Secret

DEFAULT_API_VERSION = "2026-10"
"""The GraphQL Admin API version spoken by default: the stable release of October 2026, supported
until October 2027 (Shopify releases quarterly and supports each version for 12 months)."""


class ShopifyConfig(HttpAccountConfig):
    """Which shop, which pinned API version, the access token (never shown) and the cost budget.

    ``http.base_url`` is ``https://<shop_domain>`` unless given (the sandbox gives its own).
    The defaults keep the orders query's requested cost under Shopify's 1,000-point limit for one
    query: 4 orders x (20 line items, 5 shipping lines) request about 935 points.
    """

    shop_domain: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
    api_version: str = Field(default=DEFAULT_API_VERSION, pattern=r"^\d{4}-\d{2}$")
    access_token: Secret
    page_limit: int = Field(default=4, ge=1, le=250, description="Orders per query (first:).")
    line_items_limit: int = Field(
        default=20, ge=1, le=250, description="Line items read per order; an order with more is rejected, not cut.")
    shipping_lines_limit: int = Field(default=5, ge=1, le=250, description="Shipping lines read per order.")
    bucket_size: float = Field(default=2000, gt=0, description="Cost bucket; the answers' maximumAvailable wins.")
    restore_rate: float = Field(default=100, gt=0, description="Points restored per second; the answers' restoreRate "
                                                               "wins (100 standard, 200 Advanced, 1000 Plus).")
    expected_query_cost: float = Field(default=1000, gt=0, description="Cost reserved for the first query; later ones "
                                                                       "reserve the last requestedQueryCost.")
    cost_headroom: float = Field(default=0, ge=0, description="Points kept free for other work of this app.")

    @classmethod
    def http_defaults(cls, values: Mapping[str, Any], http: Mapping[str, Any]) -> dict[str, Any]:
        """The shop's own domain is the API root."""
        return {"base_url": f"https://{values.get('shop_domain')}"}
