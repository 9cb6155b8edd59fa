"""Connection settings for one Shopify store's Admin REST API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from connectors._http._config import HttpAccountConfig, Secret

DEFAULT_API_VERSION = "2024-10"


class ShopifyConfig(HttpAccountConfig):
    """Which shop, which pinned API version, the access token (never shown) and the pacing budget.

    ``http.base_url`` is ``https://<shop_domain>`` unless given (the sandbox gives its own).
    """

    shop_domain: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
    api_version: str = Field(default=DEFAULT_API_VERSION, pattern=r"^\d{4}-\d{2}$")
    access_token: Secret
    page_limit: int = Field(default=250, ge=1, le=250, description="Orders per page (Shopify's maximum is 250).")
    bucket_size: int = Field(default=40, ge=1, description="Call-limit bucket; the header's own size wins.")
    leak_rate: float | None = Field(
        default=None, gt=0, description="Requests per second leaving the bucket; default bucket size / 20 (40 -> 2)."
    )
    bucket_headroom: float = Field(default=1, ge=0, description="Calls kept free for other apps and clock skew.")

    @classmethod
    def http_defaults(cls, values: Mapping[str, Any], http: Mapping[str, Any]) -> dict[str, Any]:
        """The shop's own domain is the API root."""
        return {"base_url": f"https://{values.get('shop_domain')}"}
