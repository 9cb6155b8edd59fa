"""A sandbox Shopify store that speaks the GraphQL Admin API contract on loopback, and sends signed webhooks.

It serves ``POST /admin/api/<version>/graphql.json`` for the ``orders`` query (``first``,
``after``, ``query: "updated_at:>='...' AND updated_at:<='...'"``, sorted by ``UPDATED_AT`` then
id, ``pageInfo { hasNextPage endCursor }``) and the ``order(id:)`` query; it answers a fixed field
set and ignores the selection set (``sandbox/_shopify_graphql.py``). It checks
``X-Shopify-Access-Token`` and keeps a real cost bucket per shop (2,000 points restoring 100 per
second, as on standard plans; configurable) reported in ``extensions.cost``; a query whose
requested cost is not available is answered ``THROTTLED`` (HTTP 200), one over 1,000 points
``MAX_COST_EXCEEDED``. Orders are generated with stable ids and ``updated_at`` and can be edited,
refunded and cancelled (which bumps ``updated_at``); each change can be announced with a webhook
signed as Shopify signs them, whose body is the order JSON webhooks carry (REST-shaped, in the
shop's time zone) while queries render the same order as a GraphQL node.

    with SandboxShopify(access_token="shpat_demo", webhook_secret="whsec") as shop:
        shop.seed_orders(100)
        ...  # ShopifyConfig(shop_domain=shop.shop_domain, base_url=shop.base_url, access_token="shpat_demo")

Run it on its own with ``python -m sandbox.shopify_server --port 8081 --orders 200``.
"""

from __future__ import annotations

import argparse
import base64
import copy
import datetime as dt
import hashlib
import hmac
import json
import os
import random
import re
import threading
import time
import uuid
import zoneinfo
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox import _shopify_bulk, _shopify_fulfilment
from sandbox._server import SandboxHttpServer, required_env, serve_in_foreground
from sandbox._shopify_graphql import MAX_QUERY_COST, matches, order_node, parse_search, requested_cost

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
DEFAULT_API_VERSION = "2026-10"
_CATALOG = [  # (sku, title, variant, price): the demo ERP's products, so pushed orders resolve
    ("WID-100", "Widget", "Blue", "4.50"),
    ("WID-200", "Widget", "Red", "4.75"),
    ("GAD-300", "Gadget", "Large", "19.90"),
    ("GIZ-400", "Gizmo", None, "7.25"),
    ("BOX-500", "Shipping box", "10 pack", "12.00"),
]
_NAMES = [("Jane", "Doe"), ("Zoë", "Ångström"), ("José", "Núñez"), ("Li", "Lei 李雷"), ("Oliver", "O'Brien"),
          ("Émilie", "Côté-Tremblay"), ("Ada", "Lovelace"), ("Søren", "Kierkegaard")]
_CENT = Decimal("0.01")
_TAX_RATE = Decimal("0.08")


def _money(value: Decimal) -> str:
    return str(value.quantize(_CENT, rounding=ROUND_HALF_UP))


def _money_set(shop: Decimal, currency: str, presentment_currency: str, rate: Decimal) -> dict[str, Any]:
    return {"shop_money": {"amount": _money(shop), "currency_code": currency},
            "presentment_money": {"amount": _money(shop * rate), "currency_code": presentment_currency}}


class CostBucket:
    """Shopify's GraphQL rate limit: ``size`` points, ``restore_rate`` restored per second, queries take their cost."""

    def __init__(self, size: float, restore_rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.size = float(size)
        self.restore_rate = float(restore_rate)
        self._clock = clock
        self._available = float(size)
        self._at = clock()

    def available(self) -> float:
        """Points available now."""
        now = self._clock()
        self._available = min(self.size, self._available + (now - self._at) * self.restore_rate)
        self._at = now
        return self._available

    def take(self, cost: float) -> bool:
        """Take ``cost`` points if they are available."""
        if self.available() + 1e-9 < cost:
            return False
        self._available -= cost
        return True

    def refund(self, points: float) -> None:
        """Give back what a query requested but did not use."""
        self._available = min(self.size, self.available() + max(0.0, points))

    def status(self) -> dict[str, float]:
        """``throttleStatus`` as Shopify reports it."""
        return {"maximumAvailable": self.size, "currentlyAvailable": int(self.available()),
                "restoreRate": self.restore_rate}


class _Shop:
    """The shop's state: orders by id, the bucket, counters. One lock guards it all."""

    def __init__(self, *, shop_domain: str, currency: str, bucket: CostBucket, now: Callable[[], dt.datetime],
                 timezone: str = "UTC"):
        self.shop_domain = shop_domain
        self.currency = currency
        self.bucket = bucket
        self.timezone = timezone
        self.zone = zoneinfo.ZoneInfo(timezone)
        self.now = now
        self.lock = threading.Lock()
        self.orders: dict[int, dict[str, Any]] = {}
        self.next_id = 5_500_000_000_001
        self.next_number = 1001
        self.requests = 0
        self.responses_429 = 0  # THROTTLED answers (GraphQL's 429) and HTTP 429s
        self.points_used = 0  # actual query cost charged, summed
        self.faults: list[tuple[int, float | None]] = []
        self.throttle_next = 0
        self.garbled_pages: list[tuple[bytes, str]] = []  # (body, content type) served instead of a page
        self.served_order_ids: list[int] = []

    # -- generating realistic orders -------------------------------------------------------------

    def new_order(self, rng: random.Random, created: dt.datetime) -> dict[str, Any]:
        order_id, number = self.next_id, self.next_number
        self.next_id += 1
        self.next_number += 1
        cur = self.currency
        presentment, rate = (("EUR", Decimal("0.9160")) if rng.random() < 0.2 else (cur, Decimal(1)))
        first, last = rng.choice(_NAMES)
        address = {"first_name": first, "last_name": last, "name": f"{first} {last}", "company": None,
                   "address1": f"{rng.randint(1, 999)} Main Street", "address2": None, "city": "Springfield",
                   "province": "Illinois", "province_code": "IL", "zip": f"{rng.randint(60000, 62999)}",
                   "country": "United States", "country_code": "US", "phone": None}
        lines, subtotal, discounts, tax_total = [], Decimal(0), Decimal(0), Decimal(0)
        discounted = rng.random() < 0.3
        for n in range(rng.randint(1, 3)):
            sku, title, variant, price_text = _CATALOG[rng.randrange(len(_CATALOG))]
            price, qty = Decimal(price_text), rng.randint(1, 4)
            discount = (price * qty * Decimal("0.10")).quantize(_CENT) if discounted else Decimal(0)
            tax = ((price * qty - discount) * _TAX_RATE).quantize(_CENT, rounding=ROUND_HALF_UP)
            subtotal += price * qty
            discounts += discount
            tax_total += tax
            lines.append({
                "id": order_id * 10 + n, "admin_graphql_api_id": f"gid://shopify/LineItem/{order_id * 10 + n}",
                "variant_id": 9000 + n, "product_id": 8000 + n, "product_exists": True, "sku": sku, "title": title,
                "variant_title": variant, "name": f"{title} - {variant}" if variant else title, "vendor": "Acme",
                "quantity": qty, "current_quantity": qty, "fulfillable_quantity": qty, "fulfillment_status": None,
                "gift_card": False, "requires_shipping": True, "taxable": True, "grams": 250,
                "price": _money(price), "price_set": _money_set(price, cur, presentment, rate),
                "total_discount": "0.00", "total_discount_set": _money_set(Decimal(0), cur, presentment, rate),
                "discount_allocations": [{"amount": _money(discount), "discount_application_index": 0,
                                          "amount_set": _money_set(discount, cur, presentment, rate)}]
                if discount else [],
                "tax_lines": [{"title": "IL State Tax", "rate": 0.08, "channel_liable": False, "price": _money(tax),
                               "price_set": _money_set(tax, cur, presentment, rate)}],
                "properties": [], "duties": [],
            })
        shipping = Decimal("5.00") if rng.random() < 0.7 else Decimal(0)
        total = subtotal - discounts + shipping + tax_total
        created_text = self.iso(created)
        order = {
            "id": order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order_id}", "name": f"#{number}",
            "order_number": number, "number": number - 1000, "email": None, "contact_email": None,
            "created_at": created_text, "updated_at": created_text, "processed_at": created_text,
            "cancelled_at": None, "cancel_reason": None, "closed_at": None, "confirmed": True,
            "currency": cur, "presentment_currency": presentment, "taxes_included": False,
            "test": rng.random() < 0.02, "financial_status": "paid", "fulfillment_status": None,
            "source_name": "web", "tags": "", "note": None, "discount_codes":
                [{"code": "SAVE10", "amount": _money(discounts), "type": "percentage"}] if discounted else [],
            "customer": {"id": 7000 + rng.randint(1, 500), "first_name": first, "last_name": last, "email": None,
                         "state": "enabled", "currency": cur},
            "billing_address": address, "shipping_address": dict(address),
            "line_items": lines,
            "shipping_lines": [{"id": order_id * 10, "title": "Standard Shipping", "code": "Standard Shipping",
                                "source": "shopify", "price": _money(shipping),
                                "price_set": _money_set(shipping, cur, presentment, rate),
                                "discounted_price": _money(shipping),
                                "discounted_price_set": _money_set(shipping, cur, presentment, rate),
                                "discount_allocations": [], "tax_lines": []}] if shipping else [],
            "refunds": [], "fulfillments": [],
        }
        self._set_totals(order, subtotal, discounts, shipping, tax_total, total, rate, original=True)
        return order

    def _set_totals(self, order: dict[str, Any], subtotal: Decimal, discounts: Decimal, shipping: Decimal,
                    tax: Decimal, total: Decimal, rate: Decimal, *, original: bool) -> None:
        cur, presentment = order["currency"], order["presentment_currency"]
        fields = {"current_subtotal_price": subtotal - discounts, "current_total_discounts": discounts,
                  "current_total_tax": tax, "current_total_price": total}
        if original:
            fields |= {"subtotal_price": subtotal - discounts, "total_discounts": discounts, "total_tax": tax,
                       "total_price": total, "total_line_items_price": subtotal, "total_shipping_price": shipping}
        for key, value in fields.items():
            if key != "total_shipping_price":
                order[key] = _money(value)
            order[f"{key}_set"] = _money_set(value, cur, presentment, rate)
        order["_rate"] = str(rate)

    def iso(self, moment: dt.datetime) -> str:
        """A timestamp as webhooks carry it: whole seconds, the shop's offset."""
        return moment.astimezone(self.zone).isoformat(timespec="seconds")

    def touch(self, order: dict[str, Any]) -> None:
        # Shopify timestamps have whole seconds; two changes in one second share an updated_at.
        order["updated_at"] = self.iso(self.now())

    def recompute(self, order: dict[str, Any]) -> None:
        """Current totals after an edit or refund (line quantities decide, discounts and tax prorated)."""
        subtotal = discounts = tax = Decimal(0)
        for line in order["line_items"]:
            share = Decimal(line["current_quantity"]) / Decimal(line["quantity"])
            subtotal += Decimal(line["price"]) * line["current_quantity"]
            discounts += sum((Decimal(a["amount"]) for a in line["discount_allocations"]), Decimal(0)) * share
            tax += sum((Decimal(t["price"]) for t in line["tax_lines"]), Decimal(0)) * share
        discounts, tax = discounts.quantize(_CENT), tax.quantize(_CENT)
        shipping = sum((Decimal(s["price"]) for s in order["shipping_lines"]), Decimal(0))
        if not any(line["current_quantity"] for line in order["line_items"]):
            shipping = Decimal(0)
        total = subtotal - discounts + shipping + tax
        self._set_totals(order, subtotal, discounts, shipping, tax, total, Decimal(order["_rate"]), original=False)

    @staticmethod
    def public(order: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in order.items() if not k.startswith("_")}


def _cursor_encode(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode().rstrip("=")


def _cursor_decode(text: str) -> dict[str, Any] | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


class _AdminApi:
    """The GraphQL Admin endpoint over a :class:`_Shop`."""

    def __init__(self, shop: _Shop, *, access_token: str) -> None:
        self.shop = shop
        self.access_token = access_token

    def _refusal(self, request: Request) -> Response | None:
        """The answer to a call that is not let through (bad token, injected fault), or None."""
        token = request.headers.get("x-shopify-access-token", "")
        if not hmac.compare_digest(token.encode(), self.access_token.encode()):
            return JSONResponse({"errors": INVALID_TOKEN}, status_code=401)
        with self.shop.lock:
            self.shop.requests += 1
            if not self.shop.faults:
                return None
            status, retry_after = self.shop.faults.pop(0)
            if status == 429:
                self.shop.responses_429 += 1
        headers = {"Retry-After": f"{retry_after:.1f}"} if retry_after is not None else {}
        message = {429: "Throttled", 402: "Unavailable Shop", 423: "Locked"}.get(status, "Internal Server Error")
        return JSONResponse({"errors": message}, status_code=status, headers=headers)

    async def graphql(self, request: Request) -> Response:
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        try:
            payload = json.loads(await request.body())
        except ValueError:
            return JSONResponse({"errors": "Bad Request: the body is not JSON"}, status_code=400)
        query = payload.get("query") if isinstance(payload, dict) else None
        variables = payload.get("variables") or {} if isinstance(payload, dict) else {}
        if not isinstance(query, str) or not isinstance(variables, dict):
            return JSONResponse({"errors": "Bad Request: query and variables expected"}, status_code=400)
        answered = await _shopify_fulfilment.answer(self, query, variables)  # fulfilments and stock
        if answered is None:
            answered = await _shopify_bulk.answer(self, request, query, variables)  # bulk operations
        if answered is not None:
            return answered
        if re.search(r"\borders\s*\(", query):
            return self._orders(variables, query)
        if re.search(r"\border\s*\(", query):
            return self._order(variables)
        return _graphql_errors("the sandbox answers only the orders and order queries", "undefinedField")

    def _variables(self, variables: dict[str, Any], *names: str) -> dict[str, int] | Response:
        sizes = {}
        for name in names:
            value = variables.get(name, 10 if name != "first" else None)
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 250:
                return _graphql_errors(f"Variable ${name} must be a whole number from 1 to 250", "argumentError")
            sizes[name] = value
        return sizes

    def _charge(self, requested: int) -> dict[str, Any] | Response:
        """Take the requested cost from the bucket: the cost report to answer with, or the refusal."""
        with self.shop.lock:
            if requested > MAX_QUERY_COST:
                return _graphql_errors(f"Query cost is {requested}, which exceeds the single query max cost limit "
                                       f"({MAX_QUERY_COST}).", "MAX_COST_EXCEEDED",
                                       cost=self._cost(requested, None))
            throttle = self.shop.throttle_next > 0
            if throttle:
                self.shop.throttle_next -= 1
            if throttle or not self.shop.bucket.take(requested):
                self.shop.responses_429 += 1
                return _graphql_errors("Throttled", "THROTTLED", cost=self._cost(requested, None))
        return {"requestedQueryCost": requested}

    def _cost(self, requested: int, actual: int | None) -> dict[str, Any]:
        return {"requestedQueryCost": requested, "actualQueryCost": actual, "throttleStatus": self.shop.bucket.status()}

    def _answer(self, data: dict[str, Any], requested: int, actual: int) -> Response:
        with self.shop.lock:
            self.shop.bucket.refund(requested - actual)
            self.shop.points_used += actual
            cost = self._cost(requested, actual)
            garbled = self.shop.garbled_pages.pop(0) if self.shop.garbled_pages else None
        if garbled is not None:
            # What a misbehaving proxy or CDN hands back: HTTP 200, no JSON.
            return Response(garbled[0], media_type=garbled[1])
        body = json.dumps({"data": data, "extensions": {"cost": cost}}, ensure_ascii=False, separators=(",", ":"))
        return Response(body.encode(), media_type="application/json; charset=utf-8",
                        headers={"X-Request-Id": str(uuid.uuid4())})

    def _orders(self, variables: dict[str, Any], query: str) -> Response:
        sizes = self._variables(variables, "first", "lineItems", "shippingLines")
        if isinstance(sizes, Response):
            return sizes
        if "UPDATED_AT" not in query:
            # Only the sort the connector uses is served: say so rather than answer in another order.
            return _graphql_errors("the sandbox sorts orders only by UPDATED_AT", "argumentError")
        try:
            terms = parse_search(variables.get("query"))
        except ValueError as exc:
            return _graphql_errors(f"Invalid search query: {exc}", "argumentError")
        after = variables.get("after")
        position: tuple[dt.datetime, int] | None = None
        if after is not None:
            cursor = _cursor_decode(after) if isinstance(after, str) else None
            try:
                position = (dt.datetime.fromisoformat(cursor["updated_at"]), int(cursor["id"])) if cursor else None
            except (KeyError, TypeError, ValueError):
                position = None
            if position is None:
                return _graphql_errors("Invalid cursor for current pagination sort.", "argumentError")
        first, lines, shipping = sizes["first"], sizes["lineItems"], sizes["shippingLines"]
        requested = requested_cost(first, lines, shipping)
        charged = self._charge(requested)
        if isinstance(charged, Response):
            return charged
        with self.shop.lock:
            keyed = sorted((dt.datetime.fromisoformat(order["updated_at"]), order_id)
                           for order_id, order in self.shop.orders.items())
            matching = [key for key in keyed if matches(key[0], terms) and (position is None or key > position)]
            page = matching[:first]
            rendered = [order_node(self.shop.orders[order_id], line_items=lines, shipping_lines=shipping)
                        for _, order_id in page]
            self.shop.served_order_ids.extend(order_id for _, order_id in page)
        end = _cursor_encode({"updated_at": page[-1][0].isoformat(), "id": page[-1][1]}) if page else None
        data = {"shop": {"ianaTimezone": self.shop.timezone},
                "orders": {"nodes": [node for node, _ in rendered],
                           "pageInfo": {"hasNextPage": len(matching) > first, "endCursor": end,
                                        "hasPreviousPage": position is not None}}}
        return self._answer(data, requested, 1 + 2 + sum(cost for _, cost in rendered))

    def _order(self, variables: dict[str, Any]) -> Response:
        sizes = self._variables(variables, "lineItems", "shippingLines")
        if isinstance(sizes, Response):
            return sizes
        requested = 1 + requested_cost(1, sizes["lineItems"], sizes["shippingLines"]) - 3
        charged = self._charge(requested)
        if isinstance(charged, Response):
            return charged
        match = re.fullmatch(r"gid://shopify/Order/(\d+)", str(variables.get("id", "")))
        with self.shop.lock:
            order = self.shop.orders.get(int(match.group(1))) if match else None
            rendered = order_node(order, line_items=sizes["lineItems"], shipping_lines=sizes["shippingLines"]) \
                if order is not None else None
        data = {"shop": {"ianaTimezone": self.shop.timezone}, "order": rendered[0] if rendered else None}
        return self._answer(data, requested, 1 + (rendered[1] if rendered else 0))

    async def not_found(self, request: Request) -> Response:
        return JSONResponse({"errors": "Not Found"}, status_code=404)


def _graphql_errors(message: str, code: str, *, cost: dict[str, Any] | None = None) -> Response:
    """HTTP 200 with top-level ``errors``, as Shopify answers query-level failures."""
    body: dict[str, Any] = {"errors": [{"message": message, "extensions": {"code": code}}]}
    if cost is not None:
        body["extensions"] = {"cost": cost}
    return JSONResponse(body)


def create_app(api: _AdminApi) -> Starlette:
    """The Starlette application serving the GraphQL Admin contract for ``api``."""
    return Starlette(routes=[
        Route("/admin/api/{version:str}/graphql.json", api.graphql, methods=["POST"]),
        *_shopify_bulk.routes(api),
        Route("/{path:path}", api.not_found, methods=["GET", "POST", "PUT", "DELETE"]),
    ])


def sign_webhook(body: bytes, secret: str) -> str:
    """``X-Shopify-Hmac-Sha256``: base64 of the HMAC-SHA256 of the raw body with the app's secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class SandboxShopify(SandboxHttpServer):
    """A sandbox Shopify store on 127.0.0.1, served by uvicorn in a daemon thread; a context manager."""

    def __init__(
        self,
        *,
        access_token: str,
        webhook_secret: str = "",
        shop_domain: str = "sandbox-shop.myshopify.com",
        api_version: str = DEFAULT_API_VERSION,
        currency: str = "USD",
        bucket_size: float = 2000,
        restore_rate: float = 100,
        timezone: str = "UTC",
        port: int = 0,
        host: str = "127.0.0.1",
        now: Callable[[], dt.datetime] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not access_token:
            raise ValueError("the sandbox shop needs an access token")
        self.shop_domain = shop_domain
        self.api_version = api_version
        self.webhook_secret = webhook_secret
        self.host = host
        self._now = now or (lambda: dt.datetime.now(dt.UTC).replace(microsecond=0))
        self._shop = _Shop(shop_domain=shop_domain, currency=currency,
                           bucket=CostBucket(bucket_size, restore_rate, clock), now=self._now,
                           timezone=timezone)
        self.app = create_app(_AdminApi(self._shop, access_token=access_token))
        self._serve_app(self.app, host=host, port=port, name="sandbox shop")

    # -- helpers for tests and the demo (they bypass the API and its limits) --

    def seed_orders(self, count: int, *, seed: int = 42, start: dt.datetime | None = None,
                    spacing: dt.timedelta = dt.timedelta(seconds=37)) -> list[int]:
        """Add ``count`` generated orders (stable for a seed) created ``spacing`` apart from ``start``."""
        rng = random.Random(seed)
        start = start or (self._now() - spacing * count)
        ids = []
        with self._shop.lock:
            for n in range(count):
                order = self._shop.new_order(rng, start + spacing * n)
                self._shop.orders[order["id"]] = order
                ids.append(order["id"])
        return ids

    def order(self, order_id: int) -> dict[str, Any]:
        """A copy of an order as the API shows it."""
        with self._shop.lock:
            return copy.deepcopy(_Shop.public(self._shop.orders[order_id]))

    def order_ids(self) -> list[int]:
        """Every order id, ascending."""
        with self._shop.lock:
            return sorted(self._shop.orders)

    def update_order(self, order_id: int, **fields: Any) -> dict[str, Any]:
        """Change top-level fields (e.g. ``note``, ``tags``); bumps ``updated_at``."""
        with self._shop.lock:
            order = self._shop.orders[order_id]
            order.update(fields)
            self._shop.touch(order)
            return copy.deepcopy(_Shop.public(order))

    def edit_wire(self, order_id: int, edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """Change the order's JSON exactly as ``edit`` says, nothing recomputed; bumps ``updated_at``.

        For the shapes Shopify really serves when an app or an import wrote odd data: a 300-character
        SKU, a negative discount allocation, a price with 30 decimals, a field missing.
        """
        with self._shop.lock:
            order = self._shop.orders[order_id]
            edit(order)
            self._shop.touch(order)
            return copy.deepcopy(_Shop.public(order))

    def serve_garbled_page(self, body: bytes = b"<html><body>502 Bad Gateway</body></html>", *,
                           content_type: str = "text/html", times: int = 1) -> None:
        """Answer the next ``times`` queries (after charging their cost) with HTTP 200 and ``body`` instead of JSON."""
        with self._shop.lock:
            self._shop.garbled_pages.extend((body, content_type) for _ in range(times))

    def refund_line(self, order_id: int, line_index: int, quantity: int) -> dict[str, Any]:
        """Refund ``quantity`` units of a line: its ``current_quantity`` drops and the totals follow."""
        with self._shop.lock:
            order = self._shop.orders[order_id]
            line = order["line_items"][line_index]
            if not 0 < quantity <= line["current_quantity"]:
                raise ValueError("cannot refund more than is left on the line")
            line["current_quantity"] -= quantity
            line["fulfillable_quantity"] = line["current_quantity"]
            order["refunds"].append({"id": len(order["refunds"]) + 1, "created_at": self._shop.iso(self._now()),
                                     "refund_line_items": [{"line_item_id": line["id"], "quantity": quantity}],
                                     "order_adjustments": []})
            order["financial_status"] = "partially_refunded"
            self._shop.recompute(order)
            self._shop.touch(order)
            return copy.deepcopy(_Shop.public(order))

    def cancel_order(self, order_id: int, reason: str = "customer") -> dict[str, Any]:
        """Cancel and refund the order: every line's current quantity goes to 0."""
        with self._shop.lock:
            order = self._shop.orders[order_id]
            for line in order["line_items"]:
                line["current_quantity"] = line["fulfillable_quantity"] = 0
            order["cancelled_at"] = self._shop.iso(self._now())
            order["cancel_reason"] = reason
            order["financial_status"] = "refunded"
            self._shop.recompute(order)
            self._shop.touch(order)
            return copy.deepcopy(_Shop.public(order))

    def inject_failures(self, status: int, *, times: int = 1, retry_after: float | None = None) -> None:
        """Answer the next ``times`` authenticated calls with HTTP ``status`` (e.g. 503, 402, 423)."""
        with self._shop.lock:
            self._shop.faults.extend((status, retry_after) for _ in range(times))

    def inject_throttled(self, *, times: int = 1) -> None:
        """Answer the next ``times`` queries ``THROTTLED`` whatever the bucket holds (another app drained it)."""
        with self._shop.lock:
            self._shop.throttle_next += times

    @property
    def bucket(self) -> CostBucket:
        """The shop's cost bucket (read it under no lock only in tests that wait for nothing else)."""
        return self._shop.bucket

    @property
    def stats(self) -> dict[str, int]:
        """Authenticated calls, refusals for rate (THROTTLED answers and HTTP 429s) and points charged so far."""
        with self._shop.lock:
            return {"requests": self._shop.requests, "responses_429": self._shop.responses_429,
                    "points_used": self._shop.points_used}

    @property
    def served_order_ids(self) -> list[int]:
        """Every order id served in an ``orders`` answer, in serving order (repeats included)."""
        with self._shop.lock:
            return list(self._shop.served_order_ids)

    def webhook_body(self, order_id: int) -> bytes:
        """The webhook payload for an order: the bare order object, as Shopify sends it (REST-shaped, shop's offset)."""
        return json.dumps(self.order(order_id), ensure_ascii=False, separators=(",", ":")).encode()

    def send_webhook(self, url: str, topic: str, order_id: int, *, webhook_id: str | None = None,
                     secret: str | None = None, body: bytes | None = None) -> httpx.Response:
        """POST a signed webhook (``orders/create``, ``orders/updated``, ``orders/cancelled``) to ``url``."""
        body = self.webhook_body(order_id) if body is None else body
        key = self.webhook_secret if secret is None else secret
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": sign_webhook(body, key),
            "X-Shopify-Shop-Domain": self.shop_domain,
            "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
            "X-Shopify-API-Version": self.api_version,
            "X-Shopify-Triggered-At": self._now().isoformat(),
            "X-Shopify-Event-Id": str(uuid.uuid4()),
        }
        with httpx.Client(timeout=10) as client:
            return client.post(url, content=body, headers=headers)


def main(argv: list[str] | None = None) -> None:
    """Serve a sandbox shop in the foreground (for the demo)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--orders", type=int, default=50, help="generated orders to start with")
    parser.add_argument("--bucket-size", type=float, default=2000, help="cost bucket in points")
    parser.add_argument("--restore-rate", type=float, default=100, help="points restored per second")
    parser.add_argument("--timezone", default="UTC", help="the shop's IANA time zone")
    args = parser.parse_args(argv)
    [token] = required_env(parser, "HUB_SANDBOX_SHOPIFY_TOKEN", meaning="to the access token clients must send")
    shop = SandboxShopify(access_token=token, webhook_secret=os.environ.get("HUB_SANDBOX_SHOPIFY_WEBHOOK_SECRET", ""),
                          bucket_size=args.bucket_size, restore_rate=args.restore_rate, port=args.port,
                          host=args.host, timezone=args.timezone)
    shop.seed_orders(args.orders)
    serve_in_foreground(shop, lambda: f"sandbox Shopify ({shop.shop_domain}) on {shop.base_url}")


if __name__ == "__main__":
    main()
