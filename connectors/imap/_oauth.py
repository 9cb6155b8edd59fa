"""XOAUTH2 access tokens for IMAP (Microsoft 365, Gmail) from a rotating refresh token.

Microsoft identity platform: ``POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token`` with
``grant_type=refresh_token``, ``refresh_token``, ``client_id``, ``client_secret`` (confidential apps) and
``scope=https://outlook.office.com/IMAP.AccessAsUser.All offline_access``; every answer carries a *new*
refresh token, and the old one may stop working. Google: ``POST https://oauth2.googleapis.com/token`` with the
same grant, client id and secret (no scope: the consent's ``https://mail.google.com/`` applies); it may return
a new refresh token too. So each renewal starts from the :class:`RefreshTokenStore`, read under its per-account
renewal lock (:func:`renew_rotating`: two processes renewing the same mailbox take turns rather than both send
the same token), and any refresh token in the answer is saved *before* the access token is used.
``invalid_grant`` (expired, revoked, password changed, consent withdrawn) needs a person: it is a
:class:`ConfigurationError` telling them to re-consent. Tokens are never logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

import httpx
from pydantic import SecretStr

from canonical.errors import ConfigurationError, FatalError, RejectedDocument, RetriableError
from connectors._http import (
    ExpiringToken,
    MemoryTokenStore,
    RefreshTokenStore,
    default_error,
    retry_after_seconds,
)
from connectors._http._tokens import Grant, renew_rotating
from connectors.imap._config import OAuth2Config

_log = logging.getLogger(__name__)

MICROSOFT_IMAP_SCOPE = "https://outlook.office.com/IMAP.AccessAsUser.All offline_access"
GOOGLE_IMAP_SCOPE = "https://mail.google.com/"  # asked for at consent; the refresh grant needs no scope
MARGIN_SECONDS = 300.0  # renew five minutes before the (about one-hour) access token runs out
# OAuth error codes only a new consent fixes (RFC 6749 5.2; Microsoft's interaction/consent_required).
RECONSENT_ERRORS = frozenset({"invalid_grant", "interaction_required", "consent_required"})


class AccessTokenSource(Protocol):
    """What the IMAP login needs: a current access token, and a fresh one when the server refused it."""

    def access_token(self) -> str:
        """A valid access token."""
        ...

    def refresh(self) -> None:
        """Fetch a new access token now."""
        ...


def provider_of(token_url: str) -> str:
    """``microsoft`` or ``google`` from the token endpoint's host; another host (a sandbox) names itself."""
    host = (httpx.URL(token_url).host or "").lower()
    if host.startswith("login.microsoftonline.") or host.endswith(".microsoftonline.com"):
        return "microsoft"
    if host in ("oauth2.googleapis.com", "accounts.google.com", "www.googleapis.com"):
        return "google"
    return host[:40] or "oauth2"


class XOAuth2Tokens:
    """Access tokens for one mailbox user, renewed from the stored (rotating) refresh token."""

    def __init__(self, oauth2: OAuth2Config, *, account: str, tokens: RefreshTokenStore | None = None,
                 timeout_seconds: float = 30, transport: httpx.BaseTransport | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if not oauth2.client_id.strip():
            raise ConfigurationError("the OAuth client id is empty")
        self.token_url = oauth2.token_url
        self.provider = provider_of(oauth2.token_url)
        self.account = account
        self._client_id = oauth2.client_id
        self._client_secret = oauth2.client_secret
        self._scope = MICROSOFT_IMAP_SCOPE if self.provider == "microsoft" else None
        self._tokens = tokens if tokens is not None else MemoryTokenStore(oauth2.refresh_token.get_secret_value())
        self._http = httpx.Client(timeout=timeout_seconds, transport=transport, follow_redirects=False)
        self._cache = ExpiringToken(self._request_token, margin_seconds=MARGIN_SECONDS, clock=clock)

    @property
    def fetches(self) -> int:
        """How many access tokens were fetched so far."""
        return self._cache.fetches

    def access_token(self) -> str:
        """The cached access token, fetched anew when missing or about to expire."""
        return self._cache.get()

    def refresh(self) -> None:
        """Fetch a new access token now (the server refused the cached one)."""
        self._cache.renew()

    def close(self) -> None:
        """Close the token endpoint's connection pool."""
        self._http.close()

    def _request_token(self) -> tuple[SecretStr, float]:
        return renew_rotating(self._tokens, self._grant, missing=lambda: ConfigurationError(
            f"no {self.provider} refresh token for IMAP user {self.account}: consent the app for the mailbox and "
            "set the profile's oauth2_refresh_token_env variable"))

    def _grant(self, refresh_token: str) -> tuple[Grant, tuple[SecretStr, float]]:
        """One refresh-token grant: the rotated token (for the store) and the access token with its lifetime."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": self._client_id}
        if self._client_secret.get_secret_value():  # public clients (no secret) are allowed by both providers
            form["client_secret"] = self._client_secret.get_secret_value()
        if self._scope:
            form["scope"] = self._scope
        what = f"POST {httpx.URL(self.token_url).path or '/'} ({self.provider} OAuth token)"
        try:
            response = self._http.post(self.token_url, data=form, headers={"Accept": "application/json"})
        except httpx.TransportError as exc:
            raise RetriableError(f"{what}: cannot reach the token endpoint: {type(exc).__name__}") from exc
        _log.debug("%s -> HTTP %s", what, response.status_code)  # never the tokens
        if response.status_code != 200:
            raise self._refusal(response, what)
        try:
            body = response.json()
            access, rotated = body["access_token"], body.get("refresh_token")
            expires_in = float(body.get("expires_in") or 3600)
            rotated_expires = body.get("refresh_token_expires_in")
        except (ValueError, KeyError, TypeError) as exc:
            raise FatalError(f"{what}: HTTP 200 without an access_token") from exc
        if not isinstance(access, str) or not access:
            raise FatalError(f"{what}: HTTP 200 with an empty access_token")
        # Saved (by renew_rotating) before the access token is used: the token we sent may be dead from now on.
        grant = Grant(rotated if isinstance(rotated, str) and rotated else None,
                      float(rotated_expires) if rotated_expires else None)
        return grant, (SecretStr(access), expires_in)

    def _refusal(self, response: httpx.Response, what: str) -> Exception:
        try:
            code = response.json().get("error")
        except (ValueError, AttributeError):
            code = None
        if code in RECONSENT_ERRORS:
            # Microsoft's error_description holds trace ids, never tokens, but the code says enough.
            return ConfigurationError(
                f"{what}: HTTP {response.status_code} {code}: the refresh token of IMAP user {self.account} is no "
                f"longer valid (expired, revoked, password changed or consent withdrawn); the mailbox owner must "
                f"re-consent the app and the new refresh token be set in the profile's oauth2_refresh_token_env "
                f"variable (docs/operations.md, 'Re-consent an email mailbox')")
        error = default_error(response, what=what, retry_after=retry_after_seconds(response.headers.get("Retry-After")))
        if isinstance(error, (RejectedDocument, ConfigurationError)):  # invalid_client and the like: a person fixes
            return ConfigurationError(f"{error} (check the OAuth client id and secret)")
        return error

    def __repr__(self) -> str:
        return f"XOAuth2Tokens({self.token_url!r}, {self.account!r})"  # never the tokens


def xoauth2_token_source(oauth2: OAuth2Config, *, account: str = "", tokens: RefreshTokenStore | None = None,
                         transport: httpx.BaseTransport | None = None,
                         timeout_seconds: float = 30) -> XOAuth2Tokens:
    """Access tokens for ``account`` renewed before they expire; rotated refresh tokens go to ``tokens``.

    Without ``tokens`` the refresh token of ``oauth2`` is kept in memory only (its rotation is lost at exit).
    """
    return XOAuth2Tokens(oauth2, account=account, tokens=tokens, timeout_seconds=timeout_seconds,
                         transport=transport)
