"""The QuickBooks Online Accounting API v3 client (``minorversion=75``) on the shared HTTP base.

Paths and bodies follow Intuit's documentation: ``GET /v3/company/{realmId}/query?query=<select>`` reads
(``{"QueryResponse": {"Invoice": [...], "startPosition", "maxResults"}, "time"}``), ``POST
/v3/company/{realmId}/invoice`` and ``/creditmemo`` create (``{"Invoice": {...}, "time"}``). Every request
carries ``minorversion``; every write a ``requestid`` (at most 50 characters, unique per company) that the
caller derives from its own reference, so Intuit answers a resent write with the first one's answer instead
of doing it twice: a write that timed out is resent with the same id, safely. Errors come as
``{"Fault": {"Error": [{"Message", "Detail", "code", "element"}], "type": "ValidationFault"}, "time"}``, on
an error status or (Intuit warns) on HTTP 200. Pacing: 500 requests per minute per realm, shared by the
clients of a realm in this process; a 429's ``Retry-After`` is waited out when present.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import httpx

from canonical.errors import ConfigurationError, FatalError, HubError, RejectedDocument, RetriableError
from connectors._http import HttpConnector, RateLimiter, default_error
from connectors._http._connector import _NOT_SENT
from connectors.quickbooks._auth import IntuitOAuth, RefreshTokenStore
from connectors.quickbooks._config import API_VERSION, QuickBooksConfig
from connectors.quickbooks._rate import realm_limiter

_log = logging.getLogger(__name__)
_MAX_MESSAGE = 400
MAX_REQUEST_ID = 50
PAGE_SIZE = 1000  # the most a query returns (MAXRESULTS)
DUPLICATE_DOC_NUMBER = "6140"


class QuickBooksFault(RejectedDocument):
    """Intuit refused a request with a Fault body: ``fault_type`` and each error's ``codes``."""

    def __init__(self, reason: str, *, location: str | None = None, fault_type: str = "",
                 codes: tuple[str, ...] = ()) -> None:
        super().__init__(reason, location=location)
        self.fault_type, self.codes = fault_type, codes


def parse_fault(body: bytes | Mapping[str, Any]) -> tuple[str, list[dict[str, str]]]:
    """(``Fault.type``, [{code, message, detail, element}]) of an Intuit error body; ("", []) when none."""
    data: Any = body
    if isinstance(body, bytes):
        try:
            data = json.loads(body)
        except ValueError:
            return "", []
    fault = data.get("Fault") if isinstance(data, Mapping) else None
    if not isinstance(fault, Mapping):
        return "", []
    errors = [{"code": str(e.get("code") or ""), "message": str(e.get("Message") or ""),
               "detail": str(e.get("Detail") or ""), "element": str(e.get("element") or "")}
              for e in fault.get("Error") or [] if isinstance(e, Mapping)]
    return str(fault.get("type") or "Fault"), errors


def fault_text(fault_type: str, errors: list[dict[str, str]]) -> str:
    """One line for people: ``ValidationFault 6000: A business validation error...: <detail> (element X)``."""
    parts = []
    for error in errors[:5]:
        text = f"{error['code']}: {error['message']}".strip(": ")
        if error["detail"] and error["detail"] != error["message"]:
            text += f": {error['detail']}"
        if error["element"]:
            text += f" (element {error['element']})"
        parts.append(text)
    message = f"{fault_type} " + "; ".join(parts) if parts else fault_type
    message = " ".join(message.split())
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


def quote(value: str) -> str:
    """``value`` as a string literal of Intuit's query language (backslash and single quote escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class QuickBooksClient(HttpConnector):
    """One QuickBooks Online company: queries and creates over the Accounting API v3."""

    name = "quickbooks"

    def __init__(self, config: QuickBooksConfig, tokens: RefreshTokenStore, *,
                 rate_limiter: RateLimiter | None = None, token_transport: httpx.BaseTransport | None = None,
                 **kw: Any) -> None:
        auth = IntuitOAuth(config.token_url, client_id=config.client_id, client_secret=config.client_secret,
                           tokens=tokens, timeout_seconds=config.http.timeout_seconds,
                           transport=token_transport or kw.get("transport"))
        limiter = rate_limiter or realm_limiter(config.realm_id, config.requests_per_minute)
        super().__init__(config.http_config(), auth=auth, rate_limiter=limiter, **kw)
        self.account = config
        self.oauth = auth

    def close(self) -> None:
        """Close both connection pools (API and token endpoint)."""
        super().close()
        self.oauth.close()

    # -- errors ---------------------------------------------------------------------------------

    def classify_error(self, response: httpx.Response) -> HubError | None:
        """Intuit's Fault body read into the hub's errors: type, codes, messages and details, never our data."""
        fault_type, errors = parse_fault(response.content)
        what = self._what(response.request)
        status = response.status_code
        if not errors:
            return default_error(response, what=what, retry_after=self.retry_after(response))
        text = f"{what}: HTTP {status}: {fault_text(fault_type, errors)}"
        if status in (401, 403) or fault_type in ("AuthenticationFault", "AuthorizationFault"):
            return ConfigurationError(f"{text} (the app's access to the company was refused: reconnect it or check "
                                      "its scopes)")
        if status == 429 or status >= 500:
            return RetriableError(text, retry_after=self.retry_after(response))
        return QuickBooksFault(text, location=what, fault_type=fault_type,
                               codes=tuple(error["code"] for error in errors))

    # -- calls ----------------------------------------------------------------------------------

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                **kw: Any) -> httpx.Response:
        """Every call with ``minorversion``, relative to ``/v3/company/{realmId}``; a Fault on HTTP 200 raised."""
        response = super().request(method, f"/{API_VERSION}/company/{self.account.realm_id}/{path.lstrip('/')}",
                                   params={**(params or {}), "minorversion": self.account.minor_version}, **kw)
        fault_type, errors = parse_fault(response.content)
        if errors:
            what = self._what(response.request)
            raise QuickBooksFault(f"{what}: HTTP {response.status_code}: {fault_text(fault_type, errors)}",
                                  location=what, fault_type=fault_type, codes=tuple(e["code"] for e in errors))
        return response

    def query(self, entity: str, where: str = "", *, max_pages: int = 100) -> list[dict[str, Any]]:
        """Every ``entity`` (``Invoice``, ``Customer``...) matching ``where`` (Intuit's query language), paged."""
        found: list[dict[str, Any]] = []
        for page in range(max_pages):
            statement = (f"select * from {entity}" + (f" where {where}" if where else "")
                         + f" STARTPOSITION {1 + page * PAGE_SIZE} MAXRESULTS {PAGE_SIZE}")
            body = self.request("GET", "query", params={"query": statement}).json()
            rows = (body.get("QueryResponse") or {}).get(entity) or []
            found.extend(rows)
            if len(rows) < PAGE_SIZE:
                return found
        raise FatalError(f"{self.name}: more than {max_pages} pages of {entity}")

    def create(self, entity: str, body: Mapping[str, Any], *, request_id: str) -> dict[str, Any]:
        """Create one ``entity`` (``Invoice``, ``CreditMemo``) under ``request_id``; its record as Intuit keeps it.

        Resent after a timeout or a 5xx (Intuit answers a known ``requestid`` with the first answer); a write
        still unanswered after the retries raises ``RetriableError`` with ``write_in_doubt``.
        """
        if not 0 < len(request_id) <= MAX_REQUEST_ID:
            raise ValueError(f"a requestid has 1-{MAX_REQUEST_ID} characters")
        try:
            response = self.request("POST", entity.lower(), params={"requestid": request_id}, json=dict(body),
                                    idempotent=True)
        except RetriableError as exc:
            unsent = isinstance(exc.__cause__, _NOT_SENT) or "HTTP 429" in str(exc)
            exc.write_in_doubt = not unsent
            raise
        record = response.json().get(entity)
        if not isinstance(record, dict) or not record.get("Id"):
            raise FatalError(f"{self.name} POST {entity.lower()}: HTTP {response.status_code} without the "
                             f"{entity} created")
        return record
