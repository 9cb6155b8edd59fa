"""Restricted Data Tokens (Tokens API 2021-03-01): what SP-API asks for before it shows names, streets, phones.

With the plain LWA access token getOrders leaves out the buyer's name, street and phone. An account
that opts in (``AmazonConfig.restricted_data``) first calls ``createRestrictedDataToken`` for
``GET /orders/v0/orders`` and the data elements it needs, then sends the returned RDT instead of
the LWA token in ``x-amz-access-token`` on getOrders. Every other call keeps the LWA token.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import httpx
from pydantic import SecretStr

from canonical.errors import FatalError
from connectors._http import Auth, ExpiringToken

CREATE_RESTRICTED_DATA_TOKEN = "createRestrictedDataToken"
RESTRICTED_DATA_TOKEN_PATH = "/tokens/2021-03-01/restrictedDataToken"
# The data elements getOrders accepts in a restricted resource (Tokens API use case guide).
ORDERS_DATA_ELEMENTS = frozenset({"buyerInfo", "shippingAddress", "buyerTaxInformation"})


def restricted_data_token_request(method: str, path: str, data_elements: Iterable[str]) -> dict[str, Any]:
    """The createRestrictedDataToken body for one restricted resource."""
    return {"restrictedResources": [{"method": method, "path": path, "dataElements": list(data_elements)}]}


def parse_restricted_data_token(raw: bytes, *, what: str) -> tuple[SecretStr, float]:
    """The RDT and its lifetime in seconds from a createRestrictedDataToken answer."""
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise FatalError(f"{what}: HTTP 200 but the body is not JSON") from exc
    token = body.get("restrictedDataToken") if isinstance(body, dict) else None
    expires_in: Any = body.get("expiresIn") if isinstance(body, dict) else None  # unchecked JSON
    if not isinstance(token, str) or not token:
        raise FatalError(f"{what}: HTTP 200 without a restrictedDataToken")
    try:
        seconds = float(expires_in)  # an integer in the model; some clients' typings say string
    except (TypeError, ValueError):
        raise FatalError(f"{what}: HTTP 200 without a numeric expiresIn") from None
    if not seconds > 0:
        raise FatalError(f"{what}: HTTP 200 with expiresIn {seconds:g}")
    return SecretStr(token), seconds


class RestrictedDataAuth:
    """Sends the RDT on restricted calls and the account's LWA token on every other one.

    The RDT is created on first use with ``create`` (which calls the Tokens API with the LWA token)
    and cached until ``margin_seconds`` before its ``expiresIn`` runs out. :meth:`refresh` (the
    connector calls it once after a 403 Unauthorized) renews whichever credential the refused
    request carried in this thread: a refused getOrders gets a new RDT, anything else a new LWA token.
    """

    def __init__(
        self,
        access: Auth,
        create: Callable[[], tuple[SecretStr, float]],
        *,
        restricted: Callable[[httpx.Request], bool],
        header: str,
        margin_seconds: float = 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.access = access
        self._restricted = restricted
        self._header = header
        self._cache = ExpiringToken(create, margin_seconds=margin_seconds, clock=clock)
        self._last = threading.local()

    def apply(self, request: httpx.Request) -> None:
        """The RDT on a restricted request, the LWA token on any other."""
        if self._restricted(request):
            # Fetching may send a Tokens API call through the same connector (with the LWA token):
            # the thread's "last credential" is set only afterwards, for this request.
            token = self.restricted_data_token()
            request.headers[self._header] = token
            self._last.restricted = True
        else:
            self.access.apply(request)
            self._last.restricted = False

    @property
    def fetches(self) -> int:
        """How many RDTs were created so far."""
        return self._cache.fetches

    def restricted_data_token(self) -> str:
        """The cached RDT, created anew when missing or about to expire."""
        return self._cache.get()

    def refresh(self) -> None:
        """Renew the credential the last refused request in this thread carried."""
        if getattr(self._last, "restricted", False):
            self._cache.forget()  # not fetched here: the retry's apply() creates the new one
            return
        refresh = getattr(self.access, "refresh", None)
        if callable(refresh):
            refresh()

    def close(self) -> None:
        """Close the LWA token endpoint's connection pool."""
        close = getattr(self.access, "close", None)
        if callable(close):
            close()

    def __repr__(self) -> str:
        return f"RestrictedDataAuth({self.access!r}, '**********')"
