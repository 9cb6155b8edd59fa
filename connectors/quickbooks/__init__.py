"""QuickBooks Online Accounting API v3 (``minorversion=75``): queries, invoices and credit memos, Intuit OAuth 2.0.

    config = QuickBooksConfig(realm_id="9130...", client_id="AB...", client_secret=SecretStr("..."))
    with QuickBooksClient(config, tokens=MemoryTokenStore("AB11...")) as client:
        client.query("Invoice", "DocNumber = 'OH-...'")
        client.create("Invoice", {...}, request_id="oh-...")   # resent after a timeout: Intuit dedups it

The refresh token rotates: every renewal hands the new one to ``tokens.save`` (the hub keeps it in its store).
"""

from connectors.quickbooks._auth import MARGIN_SECONDS, IntuitOAuth, MemoryTokenStore, RefreshTokenStore
from connectors.quickbooks._client import (
    DUPLICATE_DOC_NUMBER,
    MAX_REQUEST_ID,
    QuickBooksClient,
    QuickBooksFault,
    fault_text,
    parse_fault,
    quote,
)
from connectors.quickbooks._config import (
    API_VERSION,
    MINOR_VERSION,
    PRODUCTION_BASE_URL,
    REQUESTS_PER_MINUTE,
    SANDBOX_BASE_URL,
    TOKEN_URL,
    QuickBooksConfig,
)
from connectors.quickbooks._rate import SlidingWindowLimiter, realm_limiter

__all__ = [
    "API_VERSION", "DUPLICATE_DOC_NUMBER", "MARGIN_SECONDS", "MAX_REQUEST_ID", "MINOR_VERSION", "PRODUCTION_BASE_URL",
    "REQUESTS_PER_MINUTE", "SANDBOX_BASE_URL", "TOKEN_URL", "IntuitOAuth", "MemoryTokenStore", "QuickBooksClient",
    "QuickBooksConfig", "QuickBooksFault", "RefreshTokenStore", "SlidingWindowLimiter", "fault_text", "parse_fault",
    "quote", "realm_limiter",
]
