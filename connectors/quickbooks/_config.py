"""Settings of one QuickBooks Online company (realm): where the Accounting API is, which app, which version.

The connector speaks the QuickBooks Online Accounting API v3 (``/v3/company/{realmId}/...``) at
``minorversion=75`` on every request; Intuit's OAuth 2.0 token endpoint renews the access token.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from connectors._http._config import HttpAccountConfig, Secret

API_VERSION = "v3"
"""The Accounting API's major version: every path is under ``/v3/company/{realmId}``."""
MINOR_VERSION = 75
"""The minor version sent as ``minorversion`` on every request (Intuit's current base since August 2025)."""
PRODUCTION_BASE_URL = "https://quickbooks.api.intuit.com"
SANDBOX_BASE_URL = "https://sandbox-quickbooks.api.intuit.com"
TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
REQUESTS_PER_MINUTE = 500
"""Intuit throttles each app at 500 requests per minute per realm (company)."""


class QuickBooksConfig(HttpAccountConfig):
    """One QuickBooks Online company reached by one Intuit app; the client secret never shows in reprs or logs.

    ``environment`` picks Intuit's production or sandbox API root unless ``base_url`` is given (our
    loopback sandbox); ``token_url`` is Intuit's token endpoint unless given.
    """

    realm_id: str = Field(pattern=r"^[0-9]{1,32}$", description="The company's realm id (company id).")
    client_id: str = Field(min_length=1, max_length=200, description="The Intuit app's client id.")
    client_secret: Secret = Field(description="The Intuit app's client secret.")
    environment: Literal["production", "sandbox"] = "production"
    token_url: str = Field(default=TOKEN_URL, pattern=r"^https?://", description="Intuit's OAuth 2.0 token endpoint.")
    minor_version: int = Field(default=MINOR_VERSION, ge=1, le=999)
    requests_per_minute: int = Field(default=REQUESTS_PER_MINUTE, ge=1, le=REQUESTS_PER_MINUTE)

    @classmethod
    def http_defaults(cls, values: Mapping[str, Any], http: Mapping[str, Any]) -> dict[str, Any]:
        """Intuit's production or sandbox root, as ``environment`` says, unless another is given."""
        sandbox = values.get("environment") == "sandbox"
        return {"base_url": SANDBOX_BASE_URL if sandbox else PRODUCTION_BASE_URL}
