"""Intuit OAuth 2.0: the access token renewed by the refresh-token grant, the rotated refresh token kept.

``POST https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer`` with the app's client id and secret as
HTTP Basic credentials and the form ``grant_type=refresh_token&refresh_token=...``; the answer carries
``access_token`` (valid ``expires_in`` seconds, an hour), and a ``refresh_token`` that may differ from the one
sent: Intuit rotates it, and the one sent stops working soon after. So every answer's refresh token is
handed to the :class:`RefreshTokenStore` *before* the access token is used, and each renewal starts from
the store's latest token, read under the store's per-realm renewal lock (:func:`renew_rotating`): a sensor
tick and a run renewing at once take turns instead of both sending the same token.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable

import httpx
from pydantic import SecretStr

from canonical.errors import ConfigurationError, FatalError, RejectedDocument, RetriableError
from connectors._http import MemoryTokenStore as MemoryTokenStore  # re-exported: connectors.quickbooks
from connectors._http import RefreshTokenStore, default_error, retry_after_seconds
from connectors._http._tokens import Grant, renew_rotating

_log = logging.getLogger(__name__)
MARGIN_SECONDS = 300.0  # renew five minutes before Intuit's hour is up


class IntuitOAuth:
    """Bearer access tokens for the Accounting API, renewed from the rotating refresh token.

    The token is fetched on first use and again ``MARGIN_SECONDS`` before it expires, or when
    :meth:`refresh` is called (the connector does so once after a 401). One lock guards it, so threads
    sharing the auth renew once between them.
    """

    def __init__(self, token_url: str, *, client_id: str, client_secret: SecretStr, tokens: RefreshTokenStore,
                 timeout_seconds: float = 30, transport: httpx.BaseTransport | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not client_id or not client_secret.get_secret_value().strip():
            raise ConfigurationError("the Intuit app's client id or client secret is empty")
        basic = base64.b64encode(f"{client_id}:{client_secret.get_secret_value()}".encode()).decode()
        self.token_url = token_url
        self._basic = SecretStr(f"Basic {basic}")
        self._tokens = tokens
        self._clock = clock
        self._lock = threading.Lock()
        self._access: SecretStr | None = None
        self._expires_at = 0.0
        self._http = httpx.Client(timeout=timeout_seconds, transport=transport, follow_redirects=False)
        self.fetches = 0

    def apply(self, request: httpx.Request) -> None:
        """Set ``Authorization: Bearer <access token>``, renewing it first when missing or about to expire."""
        with self._lock:
            if self._access is None or self._clock() >= self._expires_at:
                self._renew()
            assert self._access is not None
            request.headers["Authorization"] = f"Bearer {self._access.get_secret_value()}"

    def refresh(self) -> None:
        """Renew the access token now (after a 401: it expired early or was revoked)."""
        with self._lock:
            self._renew()

    def close(self) -> None:
        """Close the token endpoint's connection pool."""
        self._http.close()

    def _renew(self) -> None:
        started = self._clock()
        access, expires_in = renew_rotating(self._tokens, self._grant, missing=lambda: ConfigurationError(
            "no QuickBooks refresh token: connect the app to the company (OAuth 2.0 authorization) and set "
            "HUB_QBO_REFRESH_TOKEN once"))
        self._access = access
        self._expires_at = started + max(0.0, expires_in - MARGIN_SECONDS)
        self.fetches += 1

    def _grant(self, refresh_token: str) -> tuple[Grant, tuple[SecretStr, float]]:
        """One refresh-token grant: the rotated token (for the store) and the access token with its lifetime."""
        what = f"POST {httpx.URL(self.token_url).path or '/'} (Intuit OAuth token)"
        try:
            response = self._http.post(
                self.token_url, data={"grant_type": "refresh_token", "refresh_token": refresh_token},
                headers={"Accept": "application/json", "Authorization": self._basic.get_secret_value()})
        except httpx.TransportError as exc:
            raise RetriableError(f"{what}: cannot reach Intuit's token endpoint: {type(exc).__name__}") from exc
        _log.debug("%s -> HTTP %s", what, response.status_code)  # never the tokens
        if response.status_code != 200:
            error = default_error(response, what=what,
                                  retry_after=retry_after_seconds(response.headers.get("Retry-After")))
            if isinstance(error, (RejectedDocument, ConfigurationError)):
                # invalid_grant (refresh token expired, revoked or already rotated away) or invalid_client.
                raise ConfigurationError(f"{error} (reconnect the app to the QuickBooks company for a new refresh "
                                         "token, or check HUB_QBO_CLIENT_ID and HUB_QBO_CLIENT_SECRET)") from None
            raise error
        try:
            body = response.json()
            access, rotated = body["access_token"], body.get("refresh_token")
            expires_in = float(body.get("expires_in") or 3600)
            refresh_expires = body.get("x_refresh_token_expires_in")
        except (ValueError, KeyError, TypeError) as exc:
            raise FatalError(f"{what}: HTTP 200 without an access_token") from exc
        if not isinstance(access, str) or not access:
            raise FatalError(f"{what}: HTTP 200 with an empty access_token")
        # Kept on every renewal, changed or not, before anything else can fail: the old one may be dead now.
        grant = Grant(rotated if isinstance(rotated, str) and rotated else None,
                      float(refresh_expires) if refresh_expires is not None else None)
        return grant, (SecretStr(access), expires_in)

    def __repr__(self) -> str:
        return f"IntuitOAuth({self.token_url!r})"
