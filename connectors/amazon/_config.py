"""Settings of one marketplace seller account on an SP-API style Orders API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from connectors._http._config import HttpAccountConfig
from connectors.amazon._restricted import ORDERS_DATA_ELEMENTS

LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"
NORTH_AMERICA = "https://sellingpartnerapi-na.amazon.com"


class OperationLimit(BaseModel):
    """A usage plan: tokens restored per second and the bucket size (burst)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rate: float = Field(gt=0, description="Requests per second restored to the bucket.")
    burst: int = Field(ge=1, description="Bucket size: requests that may go out at once.")


class AmazonConfig(HttpAccountConfig):
    """Where the Orders API and the LWA token endpoint are, the account's credentials and usage plans.

    The default limits are the documented Orders v0 usage plans (getOrders 0.0167 rps burst 20,
    getOrderItems 0.5 rps burst 30, createRestrictedDataToken 1 rps burst 10); the client follows
    ``x-amzn-RateLimit-Limit`` when the API sends it. ``restricted_data`` names the getOrders data
    elements (``shippingAddress``, ``buyerInfo``, ``buyerTaxInformation``) to fetch with a Restricted
    Data Token; empty (the default) sends the LWA token and gets addresses without name or street.
    ``http.base_url`` defaults to the North America endpoint, ``http.backoff_cap_seconds`` to 120 s
    (getOrders restores one token a minute).
    """

    token_url: str = LWA_TOKEN_URL
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    refresh_token: SecretStr
    marketplace_ids: tuple[str, ...] = Field(min_length=1, max_length=50)
    max_results_per_page: int = Field(default=100, ge=1, le=100)
    get_orders_limit: OperationLimit = OperationLimit(rate=0.0167, burst=20)
    get_order_items_limit: OperationLimit = OperationLimit(rate=0.5, burst=30)
    create_restricted_data_token_limit: OperationLimit = OperationLimit(rate=1, burst=10)
    restricted_data: tuple[str, ...] = ()
    token_margin_seconds: float = Field(
        default=60, ge=0, description="Refresh the access token this long before it expires."
    )

    @field_validator("marketplace_ids")
    @classmethod
    def _plain_ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for marketplace_id in value:
            # They travel comma-separated in one query parameter.
            if not marketplace_id or not marketplace_id.isalnum():
                raise ValueError(f"not a marketplace id: {marketplace_id!r}")
        return value

    @field_validator("restricted_data")
    @classmethod
    def _orders_data_elements(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [element for element in value if element not in ORDERS_DATA_ELEMENTS]
        if unknown:
            raise ValueError(f"not a getOrders data element: {', '.join(map(repr, unknown))} "
                             f"(known: {', '.join(sorted(ORDERS_DATA_ELEMENTS))})")
        return tuple(dict.fromkeys(value))  # the order kept, repeats dropped

    @classmethod
    def http_defaults(cls, values: Mapping[str, Any], http: Mapping[str, Any]) -> dict[str, Any]:
        """North America's Orders API host; waits up to two minutes (getOrders restores one token a minute)."""
        return {"base_url": NORTH_AMERICA, "backoff_cap_seconds": 120}
