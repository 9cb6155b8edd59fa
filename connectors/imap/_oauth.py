"""XOAUTH2 access tokens for IMAP (Microsoft 365, Gmail): the refresh-token grant the HTTP connectors use."""

from __future__ import annotations

import httpx

from connectors._http import OAuthRefreshAuth
from connectors.imap._config import OAuth2Config


def xoauth2_token_source(oauth2: OAuth2Config, *, transport: httpx.BaseTransport | None = None,
                         timeout_seconds: float = 30) -> OAuthRefreshAuth:
    """A cached access token, fetched from ``token_url`` with the refresh token and renewed before it expires."""
    return OAuthRefreshAuth(oauth2.token_url, client_id=oauth2.client_id, client_secret=oauth2.client_secret,
                            refresh_token=oauth2.refresh_token, timeout_seconds=timeout_seconds, transport=transport)
