"""A sandbox Shopify store that speaks the Admin REST API contract on loopback, and sends signed webhooks.

It serves ``GET /admin/api/<version>/orders.json`` (``status``, ``updated_at_min``/``_max``,
``limit``; Link-header cursors with opaque ``page_info`` after which only ``limit`` and
``fields`` may be sent) and ``GET /admin/api/<version>/orders/<id>.json``, checks
``X-Shopify-Access-Token``, and keeps a real leaky bucket per shop (size and leak rate
configurable, 40 and 2/s by default) reported in ``X-Shopify-Shop-Api-Call-Limit``; a call that
would overflow it gets 429 with ``Retry-After``. Orders are generated with stable ids and
``updated_at`` and can be edited, refunded and cancelled (which bumps ``updated_at``); each change
can be announced with a webhook signed as Shopify signs them.

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
import threading
import time
import uuid
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox._server import SandboxHttpServer, required_env, serve_in_foreground

INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"
_THROTTLED = "Exceeded {rate:g} calls per second for api client. Reduce request rates to resume uninterrupted service."
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


def _iso(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="seconds")


class LeakyBucket:
    """Shopify's call limit: each call adds one; ``leak_rate`` per second drain; a full bucket refuses."""

    def __init__(self, size: int, leak_rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.size = size
        self.leak_rate = leak_rate
        self._clock = clock
        self._level = 0.0
        self._at = clock()

    def take(self) -> tuple[bool, int, float]:
        """(allowed, calls in the bucket now, seconds until one more call fits)."""
        now = self._clock()
        self._level = max(0.0, self._level - (now - self._at) * self.leak_rate)
        self._at = now
        if self._level + 1 > self.size + 1e-9:
            return False, int(self._level + 0.999), (self._level + 1 - self.size) / self.leak_rate
        self._level += 1
        return True, int(self._level + 0.999), 0.0


class _Shop:
    """The shop's state: orders by id, the bucket, counters. One lock guards it all."""

    def __init__(self, *, shop_domain: str, currency: str, bucket: LeakyBucket, now: Callable[[], dt.datetime]):
        self.shop_domain = shop_domain
        self.currency = currency
        self.bucket = bucket
        self.now = now
        self.lock = threading.Lock()
        self.orders: dict[int, dict[str, Any]] = {}
        self.next_id = 5_500_000_000_001
        self.next_number = 1001
        self.requests = 0
        self.responses_429 = 0
        self.faults: list[tuple[int, float | None]] = []
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
        created_text = _iso(created)
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

    def touch(self, order: dict[str, Any]) -> None:
        # Shopify timestamps have whole seconds; two changes in one second share an updated_at.
        order["updated_at"] = _iso(self.now())

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
    """The Admin REST endpoints over a :class:`_Shop`."""

    def __init__(self, shop: _Shop, *, access_token: str) -> None:
        self.shop = shop
        self.access_token = access_token

    def _limit_headers(self, used: int) -> dict[str, str]:
        return {"X-Shopify-Shop-Api-Call-Limit": f"{used}/{self.shop.bucket.size}",
                "X-Request-Id": str(uuid.uuid4())}

    def _gate(self, request: Request) -> Response | dict[str, str]:
        """Authenticate and take a slot in the bucket: the headers to answer with, or the refusal."""
        token = request.headers.get("x-shopify-access-token", "")
        if not hmac.compare_digest(token.encode(), self.access_token.encode()):
            return JSONResponse({"errors": INVALID_TOKEN}, status_code=401)
        with self.shop.lock:
            self.shop.requests += 1
            if self.shop.faults:
                status, retry_after = self.shop.faults.pop(0)
                headers = {"Retry-After": f"{retry_after:.1f}"} if retry_after is not None else {}
                if status == 429:
                    self.shop.responses_429 += 1
                return JSONResponse({"errors": _THROTTLED.format(rate=self.shop.bucket.leak_rate) if status == 429
                                     else "Internal Server Error"}, status_code=status, headers=headers)
            allowed, used, wait = self.shop.bucket.take()
            if not allowed:
                self.shop.responses_429 += 1
                return JSONResponse({"errors": _THROTTLED.format(rate=self.shop.bucket.leak_rate)}, status_code=429,
                                    headers={"Retry-After": f"{max(wait, 0.1):.1f}", **self._limit_headers(used)})
        return self._limit_headers(used)

    async def orders(self, request: Request) -> Response:
        gate = self._gate(request)
        if isinstance(gate, Response):
            return gate
        query = request.query_params
        page_info = query.get("page_info")
        if page_info is not None:
            extra = sorted(set(query.keys()) - {"page_info", "limit", "fields"})
            if extra:
                return JSONResponse({"errors": {"page_info": [
                    f"page_info cannot be passed with other parameters: {', '.join(extra)}"]}},
                    status_code=400, headers=gate)
            cursor = _cursor_decode(page_info)
            if cursor is None:
                return JSONResponse({"errors": {"page_info": ["Invalid value."]}}, status_code=400, headers=gate)
            filters, after = cursor.get("filters", {}), int(cursor.get("last_id", 0))
        else:
            filters = {key: query[key] for key in ("status", "updated_at_min", "updated_at_max") if key in query}
            after = 0
        try:
            limit = int(query.get("limit", "50"))
            if not 1 <= limit <= 250:
                raise ValueError
        except ValueError:
            return JSONResponse({"errors": {"limit": ["must be between 1 and 250"]}}, status_code=400, headers=gate)
        try:
            bounds = {key: dt.datetime.fromisoformat(filters[key]) for key in ("updated_at_min", "updated_at_max")
                      if key in filters}
        except ValueError:
            return JSONResponse({"errors": {"updated_at_min": ["is not a valid date"]}}, status_code=400,
                                headers=gate)
        status = filters.get("status", "open")
        with self.shop.lock:
            matching = sorted(
                order_id for order_id, order in self.shop.orders.items()
                if order_id > after and _matches(order, status, bounds)
            )
            page_ids = matching[:limit]
            page = [_Shop.public(self.shop.orders[i]) for i in page_ids]
            self.shop.served_order_ids.extend(page_ids)
        body = json.dumps({"orders": page}, ensure_ascii=False, separators=(",", ":")).encode()
        headers = dict(gate)
        links = []
        base = f"{request.url.scheme}://{request.url.netloc}{request.url.path}"
        if after:
            previous = _cursor_encode({"filters": filters, "last_id": after, "direction": "prev"})
            links.append(f'<{base}?limit={limit}&page_info={previous}>; rel="previous"')
        if len(matching) > limit:
            following = _cursor_encode({"filters": filters, "last_id": page_ids[-1], "direction": "next"})
            links.append(f'<{base}?limit={limit}&page_info={following}>; rel="next"')
        if links:
            headers["Link"] = ", ".join(links)
        with self.shop.lock:
            garbled = self.shop.garbled_pages.pop(0) if self.shop.garbled_pages else None
        if garbled is not None:
            # What a misbehaving proxy or CDN hands back: HTTP 200, the page's Link header, no JSON.
            return Response(garbled[0], media_type=garbled[1], headers=headers)
        return Response(body, media_type="application/json; charset=utf-8", headers=headers)

    async def order(self, request: Request) -> Response:
        gate = self._gate(request)
        if isinstance(gate, Response):
            return gate
        try:
            order_id = int(request.path_params["order_id"])
        except ValueError:
            return JSONResponse({"errors": "Not Found"}, status_code=404, headers=gate)
        with self.shop.lock:
            order = self.shop.orders.get(order_id)
            body = None if order is None else json.dumps({"order": _Shop.public(order)}, ensure_ascii=False).encode()
        if body is None:
            return JSONResponse({"errors": "Not Found"}, status_code=404, headers=gate)
        return Response(body, media_type="application/json; charset=utf-8", headers=gate)

    async def not_found(self, request: Request) -> Response:
        return JSONResponse({"errors": "Not Found"}, status_code=404)


def _matches(order: dict[str, Any], status: str, bounds: dict[str, dt.datetime]) -> bool:
    updated = dt.datetime.fromisoformat(order["updated_at"])
    if "updated_at_min" in bounds and updated < bounds["updated_at_min"]:
        return False
    if "updated_at_max" in bounds and updated > bounds["updated_at_max"]:
        return False
    if status == "any":
        return True
    cancelled = order["cancelled_at"] is not None
    if status == "cancelled":
        return cancelled
    if status == "closed":
        return order["closed_at"] is not None
    return not cancelled and order["closed_at"] is None  # open, Shopify's default


def create_app(api: _AdminApi) -> Starlette:
    """The Starlette application serving the Admin REST contract for ``api``."""
    return Starlette(routes=[
        Route("/admin/api/{version:str}/orders.json", api.orders, methods=["GET"]),
        Route("/admin/api/{version:str}/orders/{order_id:str}.json", api.order, methods=["GET"]),
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
        api_version: str = "2024-10",
        currency: str = "USD",
        bucket_size: int = 40,
        leak_rate: float = 2.0,
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
                           bucket=LeakyBucket(bucket_size, leak_rate, clock), now=self._now)
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
        """Answer the next ``times`` orders.json calls with HTTP 200 and ``body`` (the Link header kept)."""
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
            order["refunds"].append({"id": len(order["refunds"]) + 1, "created_at": _iso(self._now()),
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
            order["cancelled_at"] = _iso(self._now())
            order["cancel_reason"] = reason
            order["financial_status"] = "refunded"
            self._shop.recompute(order)
            self._shop.touch(order)
            return copy.deepcopy(_Shop.public(order))

    def inject_failures(self, status: int, *, times: int = 1, retry_after: float | None = None) -> None:
        """Answer the next ``times`` authenticated calls with ``status`` (e.g. 429 or 503)."""
        with self._shop.lock:
            self._shop.faults.extend((status, retry_after) for _ in range(times))

    @property
    def stats(self) -> dict[str, int]:
        """Authenticated calls and 429s answered so far."""
        with self._shop.lock:
            return {"requests": self._shop.requests, "responses_429": self._shop.responses_429}

    @property
    def served_order_ids(self) -> list[int]:
        """Every order id served in an orders.json page, in serving order (repeats included)."""
        with self._shop.lock:
            return list(self._shop.served_order_ids)

    def webhook_body(self, order_id: int) -> bytes:
        """The webhook payload for an order: the bare order object, as Shopify sends it."""
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
    parser.add_argument("--bucket-size", type=int, default=40)
    parser.add_argument("--leak-rate", type=float, default=2.0)
    args = parser.parse_args(argv)
    [token] = required_env(parser, "HUB_SANDBOX_SHOPIFY_TOKEN", meaning="to the access token clients must send")
    shop = SandboxShopify(access_token=token, webhook_secret=os.environ.get("HUB_SANDBOX_SHOPIFY_WEBHOOK_SECRET", ""),
                          bucket_size=args.bucket_size, leak_rate=args.leak_rate, port=args.port, host=args.host)
    shop.seed_orders(args.orders)
    serve_in_foreground(shop, lambda: f"sandbox Shopify ({shop.shop_domain}) on {shop.base_url}")


if __name__ == "__main__":
    main()
