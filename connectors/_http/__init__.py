"""The base every HTTP connector builds on: timeouts, retries with jitter, Retry-After, pacing, paging, auth.

A new connector is a few short files::

    class AcmeClient(HttpConnector):
        name = "acme"

    with AcmeClient(HttpConnectorConfig(base_url=...), auth=StaticHeaderAuth("Authorization", key,
                    prefix="Bearer")) as client:
        for response in client.paginate(LinkHeaderPaginator(), "GET", "/v1/orders", params={"limit": 100}):
            ...

Answers become the hub's errors in one place (``_errors.py``): 401/403/404 configuration,
400/409/422 rejected, 408/425/429/5xx and network failures retriable (with ``retry_after``).
"""

from connectors._http._auth import (
    Auth,
    ExpiringToken,
    NoAuth,
    OAuthRefreshAuth,
    RefreshableAuth,
    StaticHeaderAuth,
)
from connectors._http._config import HttpConnectorConfig
from connectors._http._connector import HttpConnector, RequestStats
from connectors._http._errors import (
    RETRIABLE_STATUSES,
    default_error,
    error_message,
    retry_after_seconds,
)
from connectors._http._pagination import (
    LinkHeaderPaginator,
    NextTokenPaginator,
    PageRequest,
    Paginator,
    parse_link_header,
)
from connectors._http._rate import LeakyBucketLimiter, RateLimiter
from connectors._http._tokens import MemoryTokenStore, RefreshTokenStore

__all__ = [
    "RETRIABLE_STATUSES",
    "Auth",
    "ExpiringToken",
    "HttpConnector",
    "HttpConnectorConfig",
    "LeakyBucketLimiter",
    "LinkHeaderPaginator",
    "MemoryTokenStore",
    "NextTokenPaginator",
    "NoAuth",
    "OAuthRefreshAuth",
    "PageRequest",
    "Paginator",
    "RateLimiter",
    "RefreshTokenStore",
    "RefreshableAuth",
    "RequestStats",
    "StaticHeaderAuth",
    "default_error",
    "error_message",
    "parse_link_header",
    "retry_after_seconds",
]
