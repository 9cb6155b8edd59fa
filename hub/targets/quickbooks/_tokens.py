"""The QuickBooks refresh token kept in the hub store (``oauth_tokens``), rotated on every renewal.

The generic store lives in :mod:`hub.store.oauth_tokens` (IMAP XOAUTH2 uses it too); this names the provider.
"""

from __future__ import annotations

from hub.store import HubStore
from hub.store.oauth_tokens import StoreTokens as _StoreTokens

PROVIDER = "quickbooks"


class StoreTokens(_StoreTokens):
    """The refresh token of one realm in the hub store (connectors.quickbooks.RefreshTokenStore)."""

    def __init__(self, store: HubStore, account: str, *, seed: str, provider: str = PROVIDER) -> None:
        super().__init__(store, account, seed=seed, provider=provider)
