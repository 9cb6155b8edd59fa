"""How a request proves who we are: a static header, or an OAuth access token kept fresh."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

import httpx
from pydantic import SecretStr

from canonical.errors import ConfigurationError, FatalError, RejectedDocument, RetriableError
from connectors._http._errors import default_error, retry_after_seconds

_log = logging.getLogger(__name__)


@runtime_checkable
class Auth(Protocol):
    """Adds credentials to an outgoing request."""

    def apply(self, request: httpx.Request) -> None:
        """Set the credential headers on ``request``."""


class RefreshableAuth(Auth, Protocol):
    """An auth whose credential can expire early; the connector calls :meth:`refresh` once on a 401."""

    def refresh(self) -> None:
        """Drop the cached credential and obtain a new one."""


class NoAuth:
    """No credentials (token endpoints, public APIs)."""

    def apply(self, request: httpx.Request) -> None:
        """Leave the request as it is."""


class StaticHeaderAuth:
    """A fixed secret header, e.g. ``X-Shopify-Access-Token: <token>`` or ``Authorization: bearer <key>``."""

    def __init__(self, header: str, secret: str | SecretStr, *, prefix: str = "") -> None:
        value = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
        if not value or not value.strip():
            raise ConfigurationError(f"the credential for the {header} header is empty")
        self._header = header
        self._value = SecretStr(f"{prefix} {value}" if prefix else value)

    def apply(self, request: httpx.Request) -> None:
        """Set the header."""
        request.headers[self._header] = self._value.get_secret_value()

    def __repr__(self) -> str:
        return f"StaticHeaderAuth({self._header!r}, '**********')"


class ExpiringToken:
    """A secret token cached until ``margin_seconds`` before it expires, fetched anew by ``fetch``.

    ``fetch()`` returns the token and its lifetime in seconds. One lock guards the cache, so threads
    sharing it fetch one token between them, not one each.
    """

    def __init__(
        self, fetch: Callable[[], tuple[SecretStr, float]], *, margin_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._margin = margin_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._token: SecretStr | None = None
        self._expires_at = 0.0
        self.fetches = 0

    def get(self) -> str:
        """The cached token, fetched anew when missing or about to expire."""
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at:
                self._renew()
            assert self._token is not None
            return self._token.get_secret_value()

    def renew(self) -> None:
        """Fetch a new token now."""
        with self._lock:
            self._renew()

    def forget(self) -> None:
        """Drop the cached token; the next :meth:`get` fetches one."""
        with self._lock:
            self._token = None

    def _renew(self) -> None:
        started = self._clock()
        token, expires_in = self._fetch()
        self._token = token
        self._expires_at = started + max(0.0, expires_in - self._margin)
        self.fetches += 1


class OAuthRefreshAuth:
    """An OAuth 2.0 refresh-token grant (e.g. Login with Amazon); the access token is cached until it expires.

    The token is fetched on first use and again ``margin_seconds`` before ``expires_in`` runs out,
    or when :meth:`refresh` is called (the connector does so once after a 401). One lock guards
    the cache, so threads sharing the auth fetch one token between them, not one each.
    """

    def __init__(
        self,
        token_url: str,
        *,
        client_id: str,
        client_secret: str | SecretStr,
        refresh_token: str | SecretStr,
        header: str = "Authorization",
        prefix: str = "Bearer",
        margin_seconds: float = 60,
        default_expires_in: float = 3600,
        timeout_seconds: float = 30,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self._client_id = client_id
        self._client_secret = _secret(client_secret, "client secret")
        self._refresh_token = _secret(refresh_token, "refresh token")
        if not client_id:
            raise ConfigurationError("the OAuth client id is empty")
        self._header = header
        self._prefix = prefix
        self._default_expires_in = default_expires_in
        self._http = httpx.Client(timeout=timeout_seconds, transport=transport, follow_redirects=False)
        self._cache = ExpiringToken(self._request_token, margin_seconds=margin_seconds, clock=clock)

    def apply(self, request: httpx.Request) -> None:
        """Set the header with a token that is valid for at least ``margin_seconds`` more."""
        token = self.access_token()
        request.headers[self._header] = f"{self._prefix} {token}" if self._prefix else token

    @property
    def fetches(self) -> int:
        """How many tokens were fetched so far."""
        return self._cache.fetches

    def access_token(self) -> str:
        """The cached access token, fetched anew when missing or about to expire."""
        return self._cache.get()

    def refresh(self) -> None:
        """Forget the cached token and fetch a new one now."""
        self._cache.renew()

    def close(self) -> None:
        """Close the token endpoint's connection pool."""
        self._http.close()

    def _request_token(self) -> tuple[SecretStr, float]:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self._refresh_token.get_secret_value(),
            "client_id": self._client_id,
            "client_secret": self._client_secret.get_secret_value(),
        }
        what = f"POST {httpx.URL(self.token_url).path or '/'} (OAuth token)"
        try:
            response = self._http.post(self.token_url, data=form, headers={"Accept": "application/json"})
        except httpx.TransportError as exc:
            raise RetriableError(f"{what}: cannot reach the token endpoint: {type(exc).__name__}") from exc
        _log.debug("%s -> HTTP %s", what, response.status_code)
        if response.status_code != 200:
            error = default_error(
                response, what=what, retry_after=retry_after_seconds(response.headers.get("Retry-After"))
            )
            # invalid_grant / invalid_client come as 400 or 401: only a person can fix those.
            if isinstance(error, RejectedDocument):
                raise ConfigurationError(f"{error} (check the client id, secret and refresh token)") from None
            raise error
        try:
            body = response.json()
            token = body["access_token"]
            expires_in = float(body.get("expires_in") or self._default_expires_in)
        except (ValueError, KeyError, TypeError) as exc:
            raise FatalError(f"{what}: HTTP 200 without an access_token") from exc
        if not isinstance(token, str) or not token:
            raise FatalError(f"{what}: HTTP 200 with an empty access_token")
        return SecretStr(token), expires_in

    def __repr__(self) -> str:
        return f"OAuthRefreshAuth({self.token_url!r}, client_id={self._client_id!r})"


def _secret(value: str | SecretStr, what: str) -> SecretStr:
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not text or not text.strip():
        raise ConfigurationError(f"the OAuth {what} is empty")
    return SecretStr(text)
