"""A sandbox marketplace that speaks the SP-API Orders v0 contract (and Login with Amazon) on loopback.

It serves the LWA token endpoint (``POST /auth/o2/token``, refresh-token grant, expiring access
tokens), ``GET /orders/v0/orders`` (``MarketplaceIds``, ``LastUpdatedAfter``/``CreatedAfter``,
``LastUpdatedBefore``, ``MaxResultsPerPage``, ``NextToken``) and ``GET /orders/v0/orders/{id}/orderItems``
(``NextToken``), the Tokens API's ``POST /tokens/2021-03-01/restrictedDataToken`` (a Restricted Data
Token for getOrders: with it, orders show the buyer's name, street and phone; with the LWA token
only city, region, postal code and country), with SP-API's headers (``x-amzn-RequestId``,
``x-amzn-RateLimit-Limit``), error bodies (``{"errors": [{"code", "message", "details"}]}``), a token bucket
per operation answering 429 ``QuotaExceeded`` when empty, and 403 ``Unauthorized`` for a missing, unknown or
expired token.

    with SandboxAmazon(client_id="id", client_secret="secret", refresh_token="Atzr|demo") as market:
        market.seed_demo_orders()
        market.generate_orders(500)
        ...  # AmazonConfig(base_url=market.base_url, token_url=market.token_url, ...)

Run it on its own with ``python -m sandbox.amazon_server --port 8071 --orders 200``.
"""

from __future__ import annotations

import argparse
import base64
import copy
import dataclasses
import datetime as dt
import hashlib
import hmac
import json
import os
import random
import secrets
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox import _amazon_fulfilment
from sandbox._server import SandboxHttpServer, required_env, serve_in_foreground
from sandbox.erp_server import DEMO_PRODUCTS

MARKETPLACE_US = "ATVPDKIKX0DER"
GET_ORDERS = "getOrders"
GET_ORDER_ITEMS = "getOrderItems"
CREATE_RESTRICTED_DATA_TOKEN = "createRestrictedDataToken"
ORDERS_PATH = "/orders/v0/orders"
TOKENS_PATH = "/tokens/2021-03-01/restrictedDataToken"
# What getOrders accepts as dataElements in a restricted resource.
ORDERS_DATA_ELEMENTS = frozenset({"buyerInfo", "shippingAddress", "buyerTaxInformation"})
# The documented usage plans; tests pass faster ones.
DEFAULT_LIMITS: dict[str, tuple[float, int]] = {GET_ORDERS: (0.0167, 20), GET_ORDER_ITEMS: (0.5, 30),
                                                CREATE_RESTRICTED_DATA_TOKEN: (1.0, 10)}
_UNAUTHORIZED = "Access to requested resource is denied."
_CENT = Decimal("0.01")
_TAX_RATE = Decimal("0.08")
_MAX_CURSORS = 10_000


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(amount: Decimal, currency: str = "USD") -> dict[str, str]:
    return {"CurrencyCode": currency, "Amount": str(amount.quantize(_CENT))}


class _Fault(Exception):
    """An SP-API error answer."""

    def __init__(self, status: int, code: str, message: str, details: str = "", headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details
        self.headers = headers or {}

    def response(self) -> JSONResponse:
        body = {"errors": [{"code": self.code, "message": self.message, "details": self.details}]}
        headers = {"x-amzn-RequestId": str(uuid.uuid4()), **self.headers}
        return JSONResponse(body, status_code=self.status, headers=headers)


class _Bucket:
    """A server-side token bucket: ``rate`` tokens restored per second up to ``burst``."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._tokens = float(burst)
        self._at = clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1:
            self._tokens -= 1
            return True
        return False


@dataclass
class _Cursor:
    """What a NextToken stands for: the matching ids (fixed at the first call) and how far we are."""

    operation: str
    ids: list[str]
    offset: int
    page_size: int
    key: str = ""  # getOrderItems: the order the token belongs to
    last_updated_before: str | None = None


@dataclass(frozen=True)
class _Grant:
    """What one Restricted Data Token allows: GET on a path, these data elements, until ``expires_at``."""

    method: str
    path: str
    data_elements: frozenset[str]
    expires_at: float


@dataclass
class _State:
    lock: threading.RLock = field(default_factory=threading.RLock)
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    access_tokens: dict[str, float] = field(default_factory=dict)  # token -> expires at (monotonic)
    restricted_tokens: dict[str, _Grant] = field(default_factory=dict)
    # order id -> the restricted part of its body (ShippingAddress / BuyerInfo fields), shown only with an RDT
    restricted: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    cursors: dict[str, _Cursor] = field(default_factory=dict)
    faults: list[tuple[int, str]] = field(default_factory=list)
    # bodies served (HTTP 200) instead of the next getOrders / getOrderItems page
    garbled_pages: dict[str, list[bytes]] = field(default_factory=lambda: {GET_ORDERS: [], GET_ORDER_ITEMS: []})
    calls: list[tuple[str, int]] = field(default_factory=list)  # (operation, HTTP status)
    tokens_issued: int = 0
    restricted_tokens_issued: int = 0


class _Api:
    """The request handlers, over one shared state."""

    def __init__(
        self,
        state: _State,
        *,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        limits: dict[str, tuple[float, int]],
        token_lifetime_seconds: int,
        restricted_token_lifetime_seconds: int,
        items_page_size: int,
        clock: Callable[[], float],
        now: Callable[[], dt.datetime],
    ) -> None:
        self.state = state
        self.client_id, self.client_secret, self.refresh_token = client_id, client_secret, refresh_token
        self.limits = limits
        self.buckets = {op: _Bucket(rate, burst, clock) for op, (rate, burst) in limits.items()}
        self.token_lifetime_seconds = token_lifetime_seconds
        self.restricted_token_lifetime_seconds = restricted_token_lifetime_seconds
        self.items_page_size = items_page_size
        self.clock = clock
        self.now = now

    # -- Login with Amazon -----------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        # Parsed by hand: Starlette's form parser needs python-multipart, which the hub does not ship.
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
            return JSONResponse({"error": "invalid_request", "error_description": "Expected a form body"}, 400)
        form = {k: v[0] for k, v in urllib.parse.parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "refresh_token":
            return JSONResponse({"error": "unsupported_grant_type",
                                 "error_description": "The authorization grant type is not supported"}, 400)
        if not (_same(form.get("client_id"), self.client_id) and _same(form.get("client_secret"), self.client_secret)):
            return JSONResponse({"error": "invalid_client", "error_description": "Client authentication failed"}, 401)
        if not _same(form.get("refresh_token"), self.refresh_token):
            description = "The request has an invalid grant parameter : refresh_token"
            return JSONResponse({"error": "invalid_grant", "error_description": description}, 400)
        access_token = "Atza|" + secrets.token_urlsafe(48)
        with self.state.lock:
            self.state.access_tokens[access_token] = self.clock() + self.token_lifetime_seconds
            self.state.tokens_issued += 1
        return JSONResponse({"access_token": access_token, "refresh_token": self.refresh_token,
                             "token_type": "bearer", "expires_in": self.token_lifetime_seconds})

    # -- Tokens API 2021-03-01 ---------------------------------------------------------------------

    async def create_restricted_data_token(self, request: Request) -> Response:
        body = await request.body()
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        return self._serve(CREATE_RESTRICTED_DATA_TOKEN, request,
                           lambda _request, _grant: self._restricted_data_token(content_type, body), wrap=False)

    def _restricted_data_token(self, content_type: str, body: bytes) -> dict[str, Any]:
        if content_type != "application/json":
            raise _Fault(415, "UnsupportedMediaType", "The request body must be application/json")
        try:
            document = json.loads(body)
        except ValueError:
            raise _Fault(400, "InvalidInput", "The request body is not valid JSON") from None
        resources = document.get("restrictedResources") if isinstance(document, dict) else None
        if not isinstance(resources, list) or not resources:
            raise _Fault(400, "InvalidInput", "restrictedResources is required and must not be empty")
        if len(resources) != 1:
            # One resource is all the sandbox grants; a token for several would need several grants.
            raise _Fault(400, "InvalidInput", "The sandbox grants one restricted resource per token")
        resource = resources[0]
        if not isinstance(resource, dict):
            raise _Fault(400, "InvalidInput", "A restricted resource must be an object")
        method, path, elements = resource.get("method"), resource.get("path"), resource.get("dataElements")
        if method not in ("GET", "PUT", "POST", "DELETE") or not isinstance(path, str) or not path.startswith("/"):
            raise _Fault(
                400, "InvalidInput", "A restricted resource needs a method (GET, PUT, POST, DELETE) and a path"
            )
        if (method, path) != ("GET", ORDERS_PATH):
            raise _Fault(400, "InvalidInput", f"{method} {path[:100]} is not a restricted resource of this sandbox")
        if (not isinstance(elements, list) or not elements
                or not all(isinstance(e, str) and e in ORDERS_DATA_ELEMENTS for e in elements)):
            raise _Fault(400, "InvalidInput", "dataElements must list one or more of: "
                         + ", ".join(sorted(ORDERS_DATA_ELEMENTS)))
        token = "Atz.sprdt|" + secrets.token_urlsafe(48)
        self.state.restricted_tokens[token] = _Grant(
            method, path, frozenset(elements), self.clock() + self.restricted_token_lifetime_seconds)
        self.state.restricted_tokens_issued += 1
        return {"restrictedDataToken": token, "expiresIn": self.restricted_token_lifetime_seconds}

    # -- Orders v0 ---------------------------------------------------------------------------------

    async def get_orders(self, request: Request) -> Response:
        return self._garbled(GET_ORDERS, self._serve(GET_ORDERS, request, self._orders_page))

    async def get_order_items(self, request: Request) -> Response:
        return self._garbled(GET_ORDER_ITEMS, self._serve(GET_ORDER_ITEMS, request, self._items_page))

    def _garbled(self, operation: str, response: Response) -> Response:
        """What a misbehaving proxy hands back when a fault is queued: HTTP 200 and no JSON (no NextToken either)."""
        with self.state.lock:
            queued = self.state.garbled_pages[operation]
            if response.status_code == 200 and queued:
                return Response(queued.pop(0), media_type="text/html")
        return response

    def _serve(
        self,
        operation: str,
        request: Request,
        handler: Callable[[Request, _Grant | None], dict[str, Any]],
        *,
        wrap: bool = True,
    ) -> Response:
        rate = self.limits[operation][0]
        limit_header = {"x-amzn-RateLimit-Limit": f"{rate:g}"}
        with self.state.lock:
            try:
                grant = self._authenticate(request, operation)
                if self.state.faults:
                    status, code = self.state.faults.pop(0)
                    raise _Fault(status, code, "Injected failure", headers=limit_header if status == 429 else {})
                if not self.buckets[operation].take():
                    raise _Fault(429, "QuotaExceeded", "You exceeded your quota for the requested resource.",
                                 headers=limit_header)
                payload = handler(request, grant)
            except _Fault as fault:
                self.state.calls.append((operation, fault.status))
                return fault.response()
            self.state.calls.append((operation, 200))
        body = {"payload": payload} if wrap else payload
        return JSONResponse(body, headers={"x-amzn-RequestId": str(uuid.uuid4()), **limit_header})

    def _authenticate(self, request: Request, operation: str) -> _Grant | None:
        """The RDT's grant when the call carries one, None for an LWA token; a 403 for anything else."""
        token = request.headers.get("x-amz-access-token") or ""
        grant = self.state.restricted_tokens.get(token)
        if grant is not None:
            # An RDT authorizes exactly the restricted resource it was created for, nothing else.
            if operation == CREATE_RESTRICTED_DATA_TOKEN or (request.method, request.url.path) != (
                    grant.method, grant.path):
                raise _Fault(403, "Unauthorized", _UNAUTHORIZED,
                             "The access token you provided is not valid for this resource.")
            expires_at = grant.expires_at
        else:
            token_expires_at = self.state.access_tokens.get(token)
            if not token or token_expires_at is None:
                raise _Fault(403, "Unauthorized", _UNAUTHORIZED,
                             "The access token you provided is revoked, malformed or invalid.")
            expires_at = token_expires_at
        if self.clock() >= expires_at:
            raise _Fault(403, "Unauthorized", _UNAUTHORIZED, "The access token you provided has expired.")
        return grant

    def _orders_page(self, request: Request, grant: _Grant | None) -> dict[str, Any]:
        query = request.query_params
        marketplaces = [m for m in (query.get("MarketplaceIds") or "").split(",") if m]
        if not marketplaces:
            raise _Fault(400, "InvalidInput", "Missing required parameter MarketplaceIds")
        next_token = query.get("NextToken")
        if next_token:
            # The token stands for the whole query; other criteria are ignored, as the API documents.
            cursor = self._cursor(next_token, GET_ORDERS)
        else:
            cursor = self._new_orders_cursor(query, marketplaces)
        page_ids = cursor.ids[cursor.offset: cursor.offset + cursor.page_size]
        payload: dict[str, Any] = {"Orders": [self._shown(i, grant) for i in page_ids]}
        following = cursor.offset + cursor.page_size
        if following < len(cursor.ids):
            payload["NextToken"] = self._issue(_Cursor(GET_ORDERS, cursor.ids, following, cursor.page_size,
                                                       last_updated_before=cursor.last_updated_before))
        if cursor.last_updated_before:
            payload["LastUpdatedBefore"] = cursor.last_updated_before
        return payload

    def _shown(self, order_id: str, grant: _Grant | None) -> dict[str, Any]:
        """The order as this caller may see it: the restricted fields only for the data elements its RDT covers."""
        order = copy.deepcopy(self.state.orders[order_id])
        hidden = self.state.restricted.get(order_id, {})
        elements = grant.data_elements if grant is not None else frozenset()
        for element, key in (("shippingAddress", "ShippingAddress"), ("buyerInfo", "BuyerInfo")):
            if element in elements and key in order and key in hidden:
                order[key].update(hidden[key])
        return order

    def _new_orders_cursor(self, query: Any, marketplaces: list[str]) -> _Cursor:
        updated_after = _parse_time(query.get("LastUpdatedAfter"), "LastUpdatedAfter")
        created_after = _parse_time(query.get("CreatedAfter"), "CreatedAfter")
        if (updated_after is None) == (created_after is None):
            raise _Fault(400, "InvalidInput", "Exactly one of CreatedAfter and LastUpdatedAfter is required")
        updated_before = _parse_time(query.get("LastUpdatedBefore"), "LastUpdatedBefore")
        try:
            page_size = int(query.get("MaxResultsPerPage") or 100)
        except ValueError:
            page_size = 0
        if not 1 <= page_size <= 100:
            raise _Fault(400, "InvalidInput", "MaxResultsPerPage must be between 1 and 100")
        before = updated_before or self.now()
        matching = []
        for order in self.state.orders.values():
            if order["MarketplaceId"] not in marketplaces:
                continue
            updated = dt.datetime.fromisoformat(order["LastUpdateDate"])
            created = dt.datetime.fromisoformat(order["PurchaseDate"])
            if updated_after is not None and not (updated_after <= updated <= before):
                continue
            if created_after is not None and created < created_after:
                continue
            matching.append(order)
        matching.sort(key=lambda o: (o["LastUpdateDate"], o["AmazonOrderId"]))
        return _Cursor(GET_ORDERS, [o["AmazonOrderId"] for o in matching], 0, page_size,
                       last_updated_before=_iso(before) if updated_after is not None else None)

    def _items_page(self, request: Request, grant: _Grant | None) -> dict[str, Any]:
        order_id = request.path_params["order_id"]
        if order_id not in self.state.items:
            raise _Fault(404, "NotFound", "Order not found", f"No order with id {order_id}")
        next_token = request.query_params.get("NextToken")
        if next_token:
            cursor = self._cursor(next_token, GET_ORDER_ITEMS)
            if cursor.key != order_id:
                raise _Fault(400, "InvalidInput", "Invalid NextToken for this order")
        else:
            ids = [str(n) for n in range(len(self.state.items[order_id]))]
            cursor = _Cursor(GET_ORDER_ITEMS, ids, 0, self.items_page_size, key=order_id)
        items = self.state.items[order_id]
        page = [copy.deepcopy(items[int(n)]) for n in cursor.ids[cursor.offset: cursor.offset + cursor.page_size]]
        payload: dict[str, Any] = {"OrderItems": page}
        following = cursor.offset + cursor.page_size
        if following < len(cursor.ids):
            payload["NextToken"] = self._issue(_Cursor(GET_ORDER_ITEMS, cursor.ids, following, cursor.page_size,
                                                       key=order_id))
        payload["AmazonOrderId"] = order_id
        return payload

    def _cursor(self, token: str, operation: str) -> _Cursor:
        cursor = self.state.cursors.get(token)
        if cursor is None or cursor.operation != operation:
            raise _Fault(400, "InvalidInput", "Invalid NextToken")
        return cursor

    def _issue(self, cursor: _Cursor) -> str:
        # 17 random bytes: base64 with '+', '/' and '=' in it, so clients must encode the token properly.
        token = base64.b64encode(os.urandom(17)).decode()
        self.state.cursors[token] = cursor
        if len(self.state.cursors) > _MAX_CURSORS:
            # Like the real API, old tokens stop working: the oldest one is forgotten.
            del self.state.cursors[next(iter(self.state.cursors))]
        return token


def _same(given: Any, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


def _parse_time(value: str | None, name: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise _Fault(400, "InvalidInput", f"{name} is not a valid ISO 8601 date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def create_app(api: _Api) -> Starlette:
    """The Starlette application serving LWA, the Tokens API and Orders v0 for ``api``."""
    return Starlette(
        routes=[
            Route("/auth/o2/token", api.token, methods=["POST"]),
            Route("/orders/v0/orders", api.get_orders, methods=["GET"]),
            Route("/orders/v0/orders/{order_id}/orderItems", api.get_order_items, methods=["GET"]),
            Route(TOKENS_PATH, api.create_restricted_data_token, methods=["POST"]),
            *_amazon_fulfilment.routes(api),  # confirmShipment, getOrder, patchListingsItem
        ]
    )


# -- orders the sandbox sells --------------------------------------------------------------------


@dataclass(frozen=True)
class SandboxItem:
    """One item to put on a sandbox order."""

    sku: str
    quantity: int
    unit_price: Decimal
    title: str = ""
    shipping: Decimal = Decimal(0)
    promotion: Decimal = Decimal(0)


def _item_body(order_id: str, index: int, item: SandboxItem, *, priced: bool, cancelled: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ASIN": "B0" + item.sku.replace("-", "").ljust(8, "0")[:8],
        "SellerSKU": item.sku,
        "OrderItemId": f"{int(hashlib.sha256(f'{order_id}/{index}'.encode()).hexdigest()[:12], 16) % 10**14:014d}",
        "Title": item.title or item.sku,
        "QuantityOrdered": 0 if cancelled else item.quantity,
        "QuantityShipped": 0,
        "ProductInfo": {"NumberOfItems": "1"},
        "IsGift": "false",
        "ConditionId": "New",
        "IsTransparency": False,
    }
    if priced and not cancelled:
        price = (item.unit_price * item.quantity).quantize(_CENT)
        body.update(
            ItemPrice=_money(price),
            ItemTax=_money(price * _TAX_RATE),
            ShippingPrice=_money(item.shipping),
            ShippingTax=_money(item.shipping * _TAX_RATE),
            PromotionDiscount=_money(item.promotion),
            PromotionDiscountTax=_money(item.promotion * _TAX_RATE),
        )
        if item.promotion:
            body["PromotionIds"] = ["SANDBOX-PROMO"]
    return body


_NAMES = ("Jane Doe", "John Smith", "Maria Garcia", "Wei Chen", "Aisha Khan", "Lukas Weber", "Ana Souza")
_STREETS = ("Elm St", "Oak Ave", "Maple Dr", "Cedar Ln", "Pine Rd", "Birch Blvd", "Lake Shore Dr")


def _restricted_fields(order_id: str, *, business: bool) -> dict[str, dict[str, str]]:
    """The name, street, phone and buyer e-mail SP-API shows only with an RDT (made up, stable per order id)."""
    digest = hashlib.sha256(order_id.encode()).digest()
    name = _NAMES[digest[0] % len(_NAMES)]
    address = {
        "Name": name,
        "AddressLine1": f"{100 + int.from_bytes(digest[1:3], 'big') % 9800} {_STREETS[digest[3] % len(_STREETS)]}",
        # 555-01xx numbers are reserved for fiction.
        "Phone": f"+1 734-555-01{digest[4] % 100:02d}",
        "AddressType": "Commercial" if business else "Residential",
    }
    if digest[5] % 3 == 0:
        address["AddressLine2"] = f"Apt {1 + digest[6] % 20}{'ABCD'[digest[7] % 4]}"
    # SP-API hands out an anonymized relay address, never the buyer's own.
    buyer = {"BuyerEmail": f"{digest[8:16].hex()}@marketplace.amazon.com", "BuyerName": name}
    return {"ShippingAddress": address, "BuyerInfo": buyer}


def _total(items: list[dict[str, Any]]) -> Decimal:
    total = Decimal(0)
    for item in items:
        for key, sign in (("ItemPrice", 1), ("ItemTax", 1), ("ShippingPrice", 1), ("ShippingTax", 1),
                          ("PromotionDiscount", -1), ("PromotionDiscountTax", -1)):
            if key in item:
                total += sign * Decimal(item[key]["Amount"])
    return total


class SandboxAmazon(SandboxHttpServer):
    """A sandbox marketplace on 127.0.0.1, served by uvicorn in a daemon thread; a context manager.

    ``limits`` maps ``getOrders``/``getOrderItems`` to (rate per second, burst); the defaults are
    the documented usage plans, tests pass fast ones. ``now`` gives the marketplace's wall clock
    (order timestamps), ``clock`` the monotonic one (token expiry, buckets).
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        marketplace_id: str = MARKETPLACE_US,
        limits: dict[str, tuple[float, int]] | None = None,
        token_lifetime_seconds: int = 3600,
        restricted_token_lifetime_seconds: int = 3600,
        items_page_size: int = 5,
        port: int = 0,
        host: str = "127.0.0.1",
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        if not (client_id and client_secret and refresh_token):
            raise ValueError("the sandbox marketplace needs a client id, a client secret and a refresh token")
        self.marketplace_id = marketplace_id
        self.host = host
        self._now = now or (lambda: dt.datetime.now(dt.UTC).replace(microsecond=0))
        self._state = _State()
        self._api = _Api(
            self._state,
            client_id=client_id,
            client_secret=client_secret,
            refresh_token=refresh_token,
            limits={**DEFAULT_LIMITS, **(limits or {})},
            token_lifetime_seconds=token_lifetime_seconds,
            restricted_token_lifetime_seconds=restricted_token_lifetime_seconds,
            items_page_size=items_page_size,
            clock=clock,
            now=self._now,
        )
        self.app = create_app(self._api)
        self._serve_app(self.app, host=host, port=port, name="sandbox marketplace")

    @property
    def token_url(self) -> str:
        """The LWA token endpoint on this server."""
        return f"{self.base_url}/auth/o2/token"

    # -- orders (helpers for tests and the demo; they bypass the API) ------------------------------

    def add_order(
        self,
        order_id: str,
        items: Iterable[SandboxItem],
        *,
        status: str = "Unshipped",
        fulfillment: str = "MFN",
        purchased_at: dt.datetime | None = None,
        updated_at: dt.datetime | None = None,
        business_po: str | None = None,
        prime: bool = False,
        city: tuple[str, str, str] = ("Canton", "MI", "48187"),
    ) -> dict[str, Any]:
        """Put an order (and its items) in the marketplace as SP-API would show it; returns the order body."""
        items = list(items)
        if not items:
            raise ValueError("an order needs at least one item")
        purchased_at = purchased_at or self._now()
        updated_at = updated_at or purchased_at
        pending = status in ("Pending", "PendingAvailability")
        cancelled = status == "Canceled"
        item_bodies = [_item_body(order_id, n, item, priced=not pending, cancelled=cancelled)
                       for n, item in enumerate(items)]
        order: dict[str, Any] = {
            "AmazonOrderId": order_id,
            "PurchaseDate": _iso(purchased_at),
            "LastUpdateDate": _iso(updated_at),
            "OrderStatus": status,
            "FulfillmentChannel": fulfillment,
            "SalesChannel": "Amazon.com",
            "ShipServiceLevel": "Std US D2D Dom",
            "NumberOfItemsShipped": sum(i.quantity for i in items) if status == "Shipped" else 0,
            "NumberOfItemsUnshipped": 0 if status in ("Shipped", "Canceled") else sum(i.quantity for i in items),
            "PaymentMethodDetails": ["Invoice" if business_po else "Standard"],
            "IsReplacementOrder": False,
            "MarketplaceId": self.marketplace_id,
            "ShipmentServiceLevelCategory": "Standard",
            "OrderType": "StandardOrder",
            "IsBusinessOrder": business_po is not None,
            "IsPrime": prime,
            "IsGlobalExpressEnabled": False,
            "IsPremiumOrder": False,
            "IsSoldByAB": False,
            "IsIBA": False,
            "IsISPU": False,
            "IsAccessPointOrder": False,
        }
        if not pending and not cancelled:
            order["OrderTotal"] = _money(_total(item_bodies))
            order["PaymentMethod"] = "Other"
            # Without a Restricted Data Token, SP-API shows no name, street or phone (see _restricted_fields).
            order["ShippingAddress"] = {"City": city[0], "StateOrRegion": city[1], "PostalCode": city[2],
                                        "CountryCode": "US"}
            order["BuyerInfo"] = {"PurchaseOrderNumber": business_po} if business_po else {}
        if fulfillment == "MFN" and not cancelled:
            order["EarliestShipDate"] = _iso(purchased_at + dt.timedelta(hours=8))
            order["LatestShipDate"] = _iso(purchased_at + dt.timedelta(days=2))
        with self._state.lock:
            self._state.orders[order_id] = order
            self._state.items[order_id] = item_bodies
            self._state.restricted[order_id] = _restricted_fields(order_id, business=business_po is not None)
        return copy.deepcopy(order)

    def update_order(
        self, order_id: str, *, status: str | None = None, at: dt.datetime | None = None
    ) -> dict[str, Any]:
        """Change an order as the marketplace would (a Pending order gets prices and an address once
        Unshipped; a cancelled one loses its quantities); ``LastUpdateDate`` moves to ``at`` (default now)."""
        with self._state.lock:
            order = self._state.orders[order_id]
            previous = dt.datetime.fromisoformat(order["LastUpdateDate"])
            old_status = order["OrderStatus"]
            new_status = status or old_status
            if new_status != old_status:
                items = [
                    SandboxItem(sku=i["SellerSKU"], quantity=i["QuantityOrdered"] or 1,
                                unit_price=Decimal(i["ItemPrice"]["Amount"]) / max(i["QuantityOrdered"], 1)
                                if "ItemPrice" in i else self._catalog_price(i["SellerSKU"]),
                                title=i["Title"])
                    for i in self._state.items[order_id]
                ]
                business_po = (order.get("BuyerInfo") or {}).get("PurchaseOrderNumber")
                city = order.get("ShippingAddress") or {}
                self.add_order(
                    order_id, items, status=new_status, fulfillment=order["FulfillmentChannel"],
                    purchased_at=dt.datetime.fromisoformat(order["PurchaseDate"]), business_po=business_po,
                    prime=order["IsPrime"],
                    city=(city.get("City", "Canton"), city.get("StateOrRegion", "MI"), city.get("PostalCode", "48187")),
                )
                order = self._state.orders[order_id]
            moment = at or self._now()
            order["LastUpdateDate"] = _iso(max(moment, previous))
            return copy.deepcopy(order)

    def order(self, order_id: str, *, data_elements: Iterable[str] = ()) -> dict[str, Any]:
        """An order as getOrders shows it now (with an RDT for ``data_elements``, if any)."""
        grant = _Grant("GET", ORDERS_PATH, frozenset(data_elements), float("inf")) if data_elements else None
        with self._state.lock:
            return self._api._shown(order_id, grant)

    def order_ids(self) -> list[str]:
        """Every order id, in the order they were added."""
        with self._state.lock:
            return list(self._state.orders)

    def seed_demo_orders(self, *, at: dt.datetime | None = None) -> list[str]:
        """A small realistic set: MFN and AFN, Pending, Canceled, Shipped, a promotion, multi-item, a business order."""
        at = at or self._now() - dt.timedelta(hours=1)
        p = {sku: (Decimal(str(price)), name) for sku, name, price, _ in DEMO_PRODUCTS}

        def item(sku: str, quantity: int, **kw: Any) -> SandboxItem:
            return SandboxItem(sku, quantity, p[sku][0], p[sku][1], **kw)

        specs: list[tuple[str, list[SandboxItem], dict[str, Any]]] = [
            ("113-1000001-0000001", [item("WID-100", 2, shipping=Decimal("5.99"), promotion=Decimal("1.00")),
                                     item("GAD-300", 1)], {"prime": True}),
            ("113-1000002-0000002", [item("GIZ-400", 3)], {"fulfillment": "AFN", "status": "Shipped"}),
            ("113-1000003-0000003", [item("WID-200", 1)], {"status": "Pending"}),
            ("113-1000004-0000004", [item("WID-100", 4)], {"status": "Canceled"}),
            ("113-1000005-0000005", [item("BOX-500", 3, shipping=Decimal("4.00"))],
             {"business_po": "PO-77881", "city": ("Chicago", "IL", "60601")}),
            ("113-1000006-0000006", [item("GAD-300", 1), item("GIZ-400", 2), item("WID-100", 1),
                                     item("WID-200", 5), item("BOX-500", 1), item("GIZ-400", 1)],
             {"status": "Shipped", "city": ("Austin", "TX", "78701")}),
        ]
        for n, (order_id, items, kw) in enumerate(specs):
            self.add_order(order_id, items, purchased_at=at + dt.timedelta(minutes=n), **kw)
        return [s[0] for s in specs]

    def generate_orders(
        self, count: int, *, seed: int = 1, start: dt.datetime | None = None, per_second: int = 3
    ) -> list[str]:
        """Add ``count`` varied orders (several per second of ``LastUpdateDate``, as busy accounts have)."""
        rng = random.Random(seed)
        start = start or self._now() - dt.timedelta(seconds=count // max(per_second, 1) + 600)
        catalog = [(sku, Decimal(str(price)), name) for sku, name, price, _ in DEMO_PRODUCTS]
        ids = []
        with self._state.lock:
            first = len(self._state.orders)
        for n in range(count):
            order_id = f"{rng.choice(('111', '113', '114'))}-{first + n:07d}-{rng.randrange(10**7):07d}"
            roll = rng.random()
            status, fulfillment = (("Shipped", "AFN") if roll < 0.12 else ("Pending", "MFN") if roll < 0.20
                                   else ("Canceled", "MFN") if roll < 0.25 else ("Shipped", "MFN") if roll < 0.32
                                   else ("Unshipped", "MFN"))
            items: list[SandboxItem] = []
            for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
                sku, price, name = rng.choice(catalog)
                quantity = rng.choice((1, 1, 2, 3))
                promotion = Decimal("1.00") if rng.random() < 0.2 else Decimal(0)
                shipping = Decimal("4.99") if not items and rng.random() < 0.5 else Decimal(0)
                items.append(SandboxItem(sku, quantity, price, name, shipping=shipping, promotion=promotion))
            moment = start + dt.timedelta(seconds=n // max(per_second, 1))
            business = f"PO-{rng.randrange(10**6):06d}" if rng.random() < 0.1 else None
            self.add_order(order_id, items, status=status, fulfillment=fulfillment, purchased_at=moment,
                           business_po=business, prime=rng.random() < 0.3)
            ids.append(order_id)
        return ids

    def edit_wire(
        self, order_id: str, *, order: Callable[[dict[str, Any]], None] | None = None,
        items: Callable[[list[dict[str, Any]]], None] | None = None, at: dt.datetime | None = None,
    ) -> dict[str, Any]:
        """Change the order's and its items' JSON exactly as given, nothing recomputed; ``LastUpdateDate`` moves on.

        For what the marketplace really serves when a listing holds odd data: a 300-character
        SellerSKU, a quantity sent as text, an amount with 30 decimals, a field missing.
        """
        with self._state.lock:
            body = self._state.orders[order_id]
            if order is not None:
                order(body)
            if items is not None:
                items(self._state.items[order_id])
            previous = dt.datetime.fromisoformat(body["LastUpdateDate"])
            body["LastUpdateDate"] = _iso(max(at or self._now(), previous))
            return copy.deepcopy(body)

    def serve_garbled_page(self, body: bytes = b"<html><body>502 Bad Gateway</body></html>", *,
                           times: int = 1, operation: str = GET_ORDERS) -> None:
        """Answer the next ``times`` successful ``operation`` calls with HTTP 200 and ``body`` instead of the page."""
        with self._state.lock:
            self._state.garbled_pages[operation].extend(body for _ in range(times))

    def _catalog_price(self, sku: str) -> Decimal:
        return next((Decimal(str(price)) for code, _, price, _ in DEMO_PRODUCTS if code == sku), Decimal("1.00"))

    # -- faults and inspection ------------------------------------------------------------------

    def inject_failures(self, status: int, *, times: int = 1, code: str | None = None) -> None:
        """Answer the next ``times`` API calls with ``status`` (429 -> QuotaExceeded, 503 -> ServiceUnavailable...)."""
        code = code or {429: "QuotaExceeded", 500: "InternalFailure", 503: "ServiceUnavailable"}.get(status, "Failure")
        with self._state.lock:
            self._state.faults.extend((status, code) for _ in range(times))

    def expire_access_tokens(self) -> None:
        """Make every access token handed out so far expired (as if an hour had passed)."""
        with self._state.lock:
            for token in self._state.access_tokens:
                self._state.access_tokens[token] = float("-inf")

    def expire_restricted_data_tokens(self) -> None:
        """Make every Restricted Data Token handed out so far expired (LWA tokens stay valid)."""
        with self._state.lock:
            for token, grant in self._state.restricted_tokens.items():
                self._state.restricted_tokens[token] = dataclasses.replace(grant, expires_at=float("-inf"))

    @property
    def calls(self) -> list[tuple[str, int]]:
        """(operation, HTTP status) of every authenticated-or-refused API call so far, oldest first."""
        with self._state.lock:
            return list(self._state.calls)

    @property
    def tokens_issued(self) -> int:
        """How many access tokens the LWA endpoint handed out."""
        with self._state.lock:
            return self._state.tokens_issued

    @property
    def restricted_tokens_issued(self) -> int:
        """How many Restricted Data Tokens the Tokens API handed out."""
        with self._state.lock:
            return self._state.restricted_tokens_issued


def main(argv: list[str] | None = None) -> None:
    """Serve a sandbox marketplace in the foreground (for the demo)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8071)
    parser.add_argument("--orders", type=int, default=0, help="generate this many orders besides the demo set")
    args = parser.parse_args(argv)
    client_id, client_secret, refresh_token = required_env(
        parser, "HUB_SANDBOX_AMAZON_CLIENT_ID", "HUB_SANDBOX_AMAZON_CLIENT_SECRET", "HUB_SANDBOX_AMAZON_REFRESH_TOKEN")
    market = SandboxAmazon(client_id=client_id, client_secret=client_secret, refresh_token=refresh_token,
                           port=args.port, host=args.host)
    market.seed_demo_orders()
    if args.orders:
        market.generate_orders(args.orders)
    serve_in_foreground(market, lambda: f"sandbox marketplace (SP-API Orders v0, Tokens API + LWA) on "
                                        f"{market.base_url}")


if __name__ == "__main__":
    main()
