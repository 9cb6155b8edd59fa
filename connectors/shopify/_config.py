"""Connection settings for one Shopify store's Admin REST API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from canonical import __version__
from connectors._http import HttpConnectorConfig

DEFAULT_API_VERSION = "2024-10"


class ShopifyConfig(BaseModel):
    """Which shop, which pinned API version, the access token (never shown) and the pacing budget."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    shop_domain: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
    api_version: str = Field(default=DEFAULT_API_VERSION, pattern=r"^\d{4}-\d{2}$")
    access_token: SecretStr
    base_url: str | None = Field(default=None, description="Overrides https://<shop_domain> (the sandbox).")
    page_limit: int = Field(default=250, ge=1, le=250, description="Orders per page (Shopify's maximum is 250).")
    bucket_size: int = Field(default=40, ge=1, description="Call-limit bucket; the header's own size wins.")
    leak_rate: float | None = Field(
        default=None, gt=0, description="Requests per second leaving the bucket; default bucket size / 20 (40 -> 2)."
    )
    bucket_headroom: float = Field(default=1, ge=0, description="Calls kept free for other apps and clock skew.")
    timeout_seconds: float = Field(default=30, gt=0)
    connect_timeout_seconds: float = Field(default=10, gt=0)
    max_retries: int = Field(default=5, ge=0)
    backoff_base_seconds: float = Field(default=0.5, ge=0)
    backoff_cap_seconds: float = Field(default=60, ge=0)
    user_agent: str = f"orderhub/{__version__}"

    @field_validator("access_token")
    @classmethod
    def _non_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("access_token must not be empty")
        return value


    def http_config(self) -> HttpConnectorConfig:
        """The shared HTTP base's settings."""
        return HttpConnectorConfig(
            base_url=self.base_url or f"https://{self.shop_domain}",
            timeout_seconds=self.timeout_seconds,
            connect_timeout_seconds=self.connect_timeout_seconds,
            max_retries=self.max_retries,
            backoff_base_seconds=self.backoff_base_seconds,
            backoff_cap_seconds=self.backoff_cap_seconds,
            user_agent=self.user_agent,
        )
