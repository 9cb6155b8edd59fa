"""A sandbox QuickBooks Online company that speaks the Accounting API v3 contract on loopback, for the tests and demo.

What it holds to, as Intuit documents it: paths under ``/v3/company/{realmId}/``; ``GET .../query?query=select *
from <Entity> [where Field = 'value' [and ...]] [STARTPOSITION n] [MAXRESULTS m]`` answering
``{"QueryResponse": {<Entity>: [...], "startPosition", "maxResults"}, "time"}`` (``{}`` when nothing matches);
``POST .../invoice`` and ``.../creditmemo`` (``Line`` of ``SalesItemLineDetail`` with ``ItemRef``, ``Qty``,
``UnitPrice``; ``Amount`` must be ``Qty x UnitPrice``: 6070; ``CustomerRef``; ``DocNumber`` at most 21
characters and unique per entity: 6140) answering ``{"Invoice": {... "Id", "SyncToken", "TotalAmt"}, "time"}``;
a ``requestid`` seen before is answered with the first answer and changes nothing; errors as
``{"Fault": {"Error": [{"Message", "Detail", "code", "element"}], "type"}, "time"}``; 401
``AuthenticationFault`` for a missing or expired bearer token; 429 past ``requests_per_minute`` in any
``window_seconds`` per realm (``Retry-After`` when ``retry_after`` is set). Intuit's OAuth 2.0 token endpoint at
``/oauth2/v1/tokens/bearer``: HTTP Basic client credentials, ``grant_type=refresh_token``, a *new* refresh
token on every call and the old one dead at once (stricter than Intuit, so a client that forgets to keep the
rotated token fails here first).

Where it is stricter than Intuit, on purpose: a request without ``minorversion`` (or below 75) is refused with a
400 ``ValidationFault`` (Intuit would answer in 75 anyway), and a write without ``requestid`` too.

``select * from Preferences`` answers ``SalesFormsPrefs.CustomTxnNumbers`` (``custom_txn_numbers``, on by
default; off, the company numbers invoices itself and ignores a ``DocNumber`` sent, as QuickBooks does).

Faults for the tests: ``reply_delay_seconds`` answers the next create only after it committed and that long
(a client with a shorter timeout never hears it went through); ``throttle(n, retry_after)`` answers the next
``n`` calls 429; ``expire_access_tokens()`` makes every issued access token answer 401.

    with SandboxQuickBooks(realm_id="9130350000000001") as qbo:
        qbo.seed(customers=["Acme Corporation"], items=["WID-100"])
        ...  # QuickBooksConfig(realm_id=qbo.realm_id, client_id=qbo.client_id, client_secret=qbo.client_secret,
             #                  token_url=qbo.token_url, http={"base_url": qbo.base_url}),
             # with qbo.refresh_token as the first refresh token
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import datetime as dt
import json
import os
import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox._server import SandboxHttpServer, serve_in_foreground

MINOR_VERSION = 75
MAX_DOC_NUMBER = 21
MAX_REQUEST_ID = 50
_CENT = Decimal("0.01")
_ENTITIES = {"invoice": "Invoice", "creditmemo": "CreditMemo"}
_QUERYABLE = ("Invoice", "CreditMemo", "Customer", "Item", "Preferences")
_QUERY = re.compile(r"^\s*select\s+\*\s+from\s+(\w+)(?:\s+where\s+(.*?))?"
                    r"(?:\s+startposition\s+(\d+))?(?:\s+maxresults\s+(\d+))?\s*$", re.IGNORECASE | re.DOTALL)
_CONDITION = re.compile(r"^\s*([\w.]+)\s*=\s*'((?:[^'\\]|\\.)*)'\s*$", re.DOTALL)


def _time() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


class _Fault(Exception):
    def __init__(self, status: int, fault_type: str, code: str, message: str, detail: str = "", element: str = "",
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.fault_type, self.headers = status, fault_type, headers
        self.error = {"Message": message, "Detail": detail or message, "code": code, "element": element}

    def response(self) -> JSONResponse:
        return JSONResponse({"Fault": {"Error": [self.error], "type": self.fault_type}, "time": _time()},
                            status_code=self.status, headers=self.headers)


def _validation(code: str, message: str, detail: str = "", element: str = "") -> _Fault:
    return _Fault(400, "ValidationFault", code, message, detail, element)


@dataclass
class _State:
    records: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {name: [] for name in _QUERYABLE})
    answers: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)  # requestid -> first answer
    refresh_token: str = ""
    refresh_tokens_issued: list[str] = field(default_factory=list)
    access_tokens: set[str] = field(default_factory=set)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)  # (method, path, query)
    sent: deque[float] = field(default_factory=deque)  # send times within the pacing window
    throttled: int = 0
    retry_after: int | None = None
    next_id: int = 100


class SandboxQuickBooks(SandboxHttpServer):
    """The sandbox company; ``invoices`` and ``credit_memos`` list what it holds (the tests' "exactly one")."""

    def __init__(self, *, realm_id: str = "9130350000000001", client_id: str = "sandbox-qbo-client",
                 client_secret: str = "sandbox-qbo-secret", refresh_token: str = "AB11-sandbox-refresh",
                 requests_per_minute: int = 500, window_seconds: float = 60.0, host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.realm_id, self.client_id, self.client_secret = realm_id, client_id, client_secret
        self.requests_per_minute, self.window_seconds = requests_per_minute, window_seconds
        self.state = _State(refresh_token=refresh_token)
        self.custom_txn_numbers = True  # the company's "Custom transaction numbers" (Account and Settings > Sales)
        self.reply_delay_seconds = 0.0
        self._lock = threading.Lock()
        self._serve_app(self._app(), host=host, port=port, name="sandbox-quickbooks")

    # -- for tests and the demo -----------------------------------------------------------------

    @property
    def token_url(self) -> str:
        """The sandbox's OAuth 2.0 token endpoint."""
        return f"{self.base_url}/oauth2/v1/tokens/bearer"

    @property
    def refresh_token(self) -> str:
        """The one refresh token that works now (each renewal replaces it)."""
        return self.state.refresh_token

    @property
    def invoices(self) -> list[dict[str, Any]]:
        """Every invoice the company holds, in creation order."""
        return list(self.state.records["Invoice"])

    @property
    def credit_memos(self) -> list[dict[str, Any]]:
        """Every credit memo the company holds, in creation order."""
        return list(self.state.records["CreditMemo"])

    def seed(self, *, customers: Sequence[str] = (), items: Sequence[str] = ()) -> None:
        """Customers (by ``DisplayName``) and items (by ``Name``) the company knows; existing ones kept."""
        with self._lock:
            for name in customers:
                if not self._where("Customer", {"DisplayName": name}):
                    self.state.records["Customer"].append({"Id": self._id(), "DisplayName": name, "Active": True})
            for name in items:
                if not self._where("Item", {"Name": name}):
                    self.state.records["Item"].append({"Id": self._id(), "Name": name, "Type": "NonInventory",
                                                       "Active": True})

    def throttle(self, calls: int, retry_after: int | None = 1) -> None:
        """Answer the next ``calls`` API requests 429 (with ``Retry-After`` unless None)."""
        self.state.throttled, self.state.retry_after = calls, retry_after

    def expire_access_tokens(self) -> None:
        """Every access token issued so far answers 401 from now on (as after an hour, or a revocation)."""
        self.state.access_tokens.clear()

    # -- the API --------------------------------------------------------------------------------

    def _app(self) -> Starlette:
        return Starlette(routes=[
            Route("/oauth2/v1/tokens/bearer", self._token, methods=["POST"]),
            Route("/v3/company/{realm:str}/query", self._endpoint(self._query), methods=["GET"]),
            Route("/v3/company/{realm:str}/{entity:str}", self._endpoint(self._create), methods=["POST"]),
        ])

    async def _token(self, request: Request) -> Response:
        header = request.headers.get("authorization", "")
        try:
            user, _, password = base64.b64decode(header.removeprefix("Basic "), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = password = ""
        if not header.startswith("Basic ") or (user, password) != (self.client_id, self.client_secret):
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        form = await request.form()
        with self._lock:
            if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != self.state.refresh_token:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            access, rotated = f"eyJ-sandbox-{secrets.token_hex(16)}", f"AB11-{secrets.token_hex(20)}"
            self.state.access_tokens.add(access)
            self.state.refresh_token = rotated
            self.state.refresh_tokens_issued.append(rotated)
        return JSONResponse({"token_type": "bearer", "access_token": access, "expires_in": 3600,
                             "refresh_token": rotated, "x_refresh_token_expires_in": 8726400})

    def _endpoint(self, handler):
        async def serve(request: Request) -> Response:
            query = dict(request.query_params)
            self.state.requests.append((request.method, request.url.path, query))
            delay = 0.0
            try:
                self._authorize(request)
                self._pace()
                version = query.get("minorversion", "")
                if not version.isdigit() or int(version) < MINOR_VERSION:
                    raise _validation("4000", "Invalid minorversion", f"send minorversion={MINOR_VERSION} or above "
                                      "(this sandbox refuses requests without it)", "minorversion")
                body = await request.body()
                data = json.loads(body) if body else {}
                if not isinstance(data, dict):
                    raise _validation("2500", "Invalid Reference Id", "the request body must be a JSON object")
                with self._lock:
                    status, answer = handler(request, query, data)
                    if handler == self._create:
                        delay, self.reply_delay_seconds = self.reply_delay_seconds, 0.0
            except _Fault as fault:
                return fault.response()
            except ValueError:
                return _validation("2020", "Required param missing", "the request body is not JSON").response()
            if delay:
                await asyncio.sleep(delay)  # committed already: only the answer is late
            return JSONResponse(answer, status_code=status)

        return serve

    def _authorize(self, request: Request) -> None:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token not in self.state.access_tokens:
            raise _Fault(401, "AuthenticationFault", "3200", "message=AuthenticationFailed; errorCode=003200; "
                         "statusCode=401", "Token expired or invalid")
        if request.path_params["realm"] != self.realm_id:
            raise _Fault(403, "AuthorizationFault", "3100", "message=ApplicationAuthorizationFailed; "
                         "errorCode=003100; statusCode=403", "the token is not for this company")

    def _pace(self) -> None:
        """Intuit's throttle: past the budget in the window, 429 ``ThrottleExceeded``."""
        now = time.monotonic()
        with self._lock:
            sent = self.state.sent
            while sent and sent[0] <= now - self.window_seconds:
                sent.popleft()
            over = len(sent) >= self.requests_per_minute
            if self.state.throttled > 0:
                self.state.throttled, over = self.state.throttled - 1, True
            else:
                sent.append(now)
        if over:
            retry = self.state.retry_after
            raise _Fault(429, "ThrottleExceeded", "3001", "message=ThrottleExceeded; errorCode=003001; "
                         "statusCode=429", "The request limit was reached.",
                         headers={"Retry-After": str(retry)} if retry is not None else None)

    def _query(self, request: Request, query: dict[str, str], data: dict[str, Any]):
        match = _QUERY.match(query.get("query", ""))
        if match is None or match.group(1) not in _QUERYABLE:
            raise _validation("4000", "Error parsing query", f"QueryParserError: {query.get('query', '')[:80]!r}")
        entity, where, start, most = match.groups()
        conditions: dict[str, str] = {}
        for part in re.split(r"\s+and\s+", where or "", flags=re.IGNORECASE) if where else []:
            found = _CONDITION.match(part)
            if found is None:
                raise _validation("4000", "Error parsing query", f"QueryParserError: unsupported condition {part!r}")
            conditions[found.group(1)] = re.sub(r"\\(.)", r"\1", found.group(2))
        rows = self._where(entity, conditions)
        first, count = max(1, int(start or 1)), min(1000, int(most or 100))
        page = rows[first - 1:first - 1 + count]
        answer: dict[str, Any] = {"QueryResponse": {entity: page, "startPosition": first, "maxResults": len(page)}
                                  if page else {}, "time": _time()}
        return 200, answer

    def _rows(self, entity: str) -> list[dict[str, Any]]:
        if entity == "Preferences":
            return [{"Id": "1", "SyncToken": "0", "SalesFormsPrefs": {"CustomTxnNumbers": self.custom_txn_numbers}}]
        return self.state.records[entity]

    def _where(self, entity: str, conditions: dict[str, str]) -> list[dict[str, Any]]:
        def value(record: dict[str, Any], name: str) -> str:
            found: Any = record
            for part in name.split("."):
                found = found.get(part) if isinstance(found, dict) else None
            if isinstance(found, dict):  # a reference (CustomerRef) compares by its value
                found = found.get("value")
            return "" if found is None else str(found)

        return [r for r in self._rows(entity) if all(value(r, k) == v for k, v in conditions.items())]

    def _create(self, request: Request, query: dict[str, str], data: dict[str, Any]):
        entity = _ENTITIES.get(request.path_params["entity"])
        if entity is None:
            raise _Fault(400, "ValidationFault", "500", "Unsupported Operation",
                         f"Operation create is not supported for {request.path_params['entity']}")
        request_id = query.get("requestid", "")
        if not 0 < len(request_id) <= MAX_REQUEST_ID:
            raise _validation("2020", "Required param missing", f"requestid of 1-{MAX_REQUEST_ID} characters "
                              "(this sandbox refuses writes without it)", "requestid")
        if request_id in self.state.answers:
            return self.state.answers[request_id]  # Intuit's replay: the first answer, nothing done again
        record = self._validated(entity, data)
        self.state.records[entity].append(record)
        answer = (200, {entity: record, "time": _time()})
        self.state.answers[request_id] = answer
        return answer

    def _validated(self, entity: str, data: dict[str, Any]) -> dict[str, Any]:
        customer = (data.get("CustomerRef") or {}).get("value")
        if not customer or not self._where("Customer", {"Id": str(customer)}):
            raise _validation("2500", "Invalid Reference Id", f"Invalid Reference Id : Customer {customer!r} "
                              "does not exist", "CustomerRef")
        doc_number = str(data.get("DocNumber") or "")
        if not self.custom_txn_numbers:  # QuickBooks numbers sales forms itself: a DocNumber sent is not kept
            doc_number = data["DocNumber"] = str(1000 + len(self.state.records[entity]) + 1)
        if len(doc_number) > MAX_DOC_NUMBER:
            raise _validation("6000", "A business validation error has occurred while processing your request",
                              f"Business Validation Error: DocNumber is longer than {MAX_DOC_NUMBER} characters",
                              "DocNumber")
        if doc_number and self._where(entity, {"DocNumber": doc_number}):
            raise _validation("6140", "Duplicate Document Number Error", "Duplicate Document Number Error : You must "
                              f"specify a different number. This number has already been used. DocNumber={doc_number}")
        lines, total = [], Decimal(0)
        for position, line in enumerate(data.get("Line") or [], start=1):
            detail = line.get("SalesItemLineDetail") if isinstance(line, dict) else None
            if line.get("DetailType") != "SalesItemLineDetail" or not isinstance(detail, dict):
                raise _validation("2020", "Required param missing, need to supply the required value for the API",
                                  "Required parameter Line.DetailType is missing in the request", "Line")
            item = (detail.get("ItemRef") or {}).get("value")
            if not item or not self._where("Item", {"Id": str(item)}):
                raise _validation("2500", "Invalid Reference Id", f"Invalid Reference Id : Item {item!r} does not "
                                  "exist", "Line.SalesItemLineDetail.ItemRef")
            try:
                qty, price = Decimal(str(detail["Qty"])), Decimal(str(detail["UnitPrice"]))
                amount = Decimal(str(line["Amount"]))
            except (KeyError, InvalidOperation):
                raise _validation("2020", "Required param missing", "Line needs Amount, Qty and UnitPrice",
                                  "Line") from None
            if (qty * price).quantize(_CENT) != amount.quantize(_CENT):
                raise _validation("6070", "Amount calculation incorrect in the request",
                                  f"Amount is not equal to Qty * UnitPrice. Supplied value:{amount}", "Line.Amount")
            total += amount
            lines.append({**line, "Id": str(position), "LineNum": position})
        if not lines:
            raise _validation("2020", "Required param missing, need to supply the required value for the API",
                              "Required parameter Line is missing in the request", "Line")
        today = dt.date.today().isoformat()
        return {**data, "Id": self._id(), "SyncToken": "0", "Line": lines, "TotalAmt": float(total),
                "Balance": float(total), "TxnDate": data.get("TxnDate") or today, "domain": "QBO",
                "MetaData": {"CreateTime": _time(), "LastUpdatedTime": _time()}}

    def _id(self) -> str:
        self.state.next_id += 1
        return str(self.state.next_id)


def quickbooks_for(partners: Any, skus: Sequence[str]) -> SandboxQuickBooks | None:
    """A sandbox company when a partner profile invoices in QuickBooks (``accounting: {kind: quickbooks}``), with
    those partners' customers and the catalog's items (and the profiles' item names) seeded; else None."""
    settings = [(profile, target.accounting) for profile in partners for target in profile.targets
                if target.accounting is not None and target.accounting.kind == "quickbooks"]
    if not settings:
        return None
    # A new first refresh token each start: the company is new too, and the store must not offer it the last one's.
    server = SandboxQuickBooks(refresh_token=f"AB11-sandbox-{secrets.token_hex(12)}")
    server.seed(customers=sorted({accounting.customer or profile.name for profile, accounting in settings}),
                items=sorted({*skus, *(name for _, accounting in settings for name in accounting.items.values())}))
    return server


def quickbooks_environment(server: SandboxQuickBooks) -> dict[str, str]:
    """The ``HUB_QBO_*`` variables that point the QuickBooks target at the started ``server``."""
    return {"HUB_QBO_REALM_ID": server.realm_id, "HUB_QBO_CLIENT_ID": server.client_id,
            "HUB_QBO_CLIENT_SECRET": server.client_secret, "HUB_QBO_REFRESH_TOKEN": server.refresh_token,
            "HUB_QBO_BASE_URL": server.base_url, "HUB_QBO_TOKEN_URL": server.token_url}


def main(argv: list[str] | None = None) -> None:
    """Serve the sandbox company in the foreground: ``python -m sandbox.quickbooks_server --port 8074``."""
    parser = argparse.ArgumentParser(description="sandbox QuickBooks Online (Accounting API v3) on loopback")
    parser.add_argument("--port", type=int, default=8074)
    args = parser.parse_args(argv)
    server = SandboxQuickBooks(port=args.port,
                               refresh_token=os.environ.get("SANDBOX_QBO_REFRESH_TOKEN") or "AB11-sandbox-refresh")
    server.seed(customers=["Acme Corporation"], items=["WID-100", "GAD-300"])
    serve_in_foreground(server, lambda: f"sandbox QuickBooks Online on {server.base_url}, realm {server.realm_id}, "
                                        f"token endpoint {server.token_url}")


if __name__ == "__main__":
    main()
