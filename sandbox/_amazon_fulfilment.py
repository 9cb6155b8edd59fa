"""The sandbox marketplace's write side: confirmShipment, getOrder (Orders v0) and patchListingsItem (2021-08-01).

``POST /orders/v0/orders/{orderId}/shipmentConfirmation`` takes ``marketplaceId`` and ``packageDetail``
(``packageReferenceId`` a string of digits, ``carrierCode``, ``trackingNumber``, ``shipDate``, ``orderItems``
with quantities within what was ordered) and answers 204; the same ``packageReferenceId`` again edits
that package. Once every item is in a package the order is ``Shipped`` (``PartiallyShipped`` before),
which ``GET /orders/v0/orders/{orderId}`` shows. ``PATCH /listings/2021-08-01/items/{sellerId}/{sku}``
takes a JSON Patch on ``/attributes/fulfillment_availability`` and answers the submission
(``ACCEPTED``). Each operation has its own bucket (429 ``QuotaExceeded`` with ``x-amzn-RateLimit-Limit``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

CONFIRM_SHIPMENT = "confirmShipment"
GET_ORDER = "getOrder"
PATCH_LISTINGS_ITEM = "patchListingsItem"
LIMITS: dict[str, tuple[float, int]] = {CONFIRM_SHIPMENT: (2.0, 10), GET_ORDER: (0.5, 30),
                                        PATCH_LISTINGS_ITEM: (5.0, 5)}
CARRIER_CODES = frozenset({"USPS", "UPS", "FedEx", "DHL", "OnTrac", "Canada Post", "Other"})


@dataclass
class MarketFulfilments:
    """Confirmed packages per order, listing quantities per SKU, answers to hold back."""

    packages: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # order -> reference -> detail
    listings: dict[str, int] = field(default_factory=dict)
    confirm_delays: list[float] = field(default_factory=list)
    confirmations: int = 0


def fulfilments(sandbox: Any) -> MarketFulfilments:
    """The write-side state of a ``SandboxAmazon`` (or of its API or state object)."""
    state = sandbox._state if hasattr(sandbox, "_state") else getattr(sandbox, "state", sandbox)
    found = state.__dict__.get("fulfilment")
    if found is None:
        found = state.__dict__["fulfilment"] = MarketFulfilments()
    return found


def hold_next_confirmation(sandbox: Any, seconds: float) -> None:
    """The next confirmation is taken, then answered only after ``seconds`` (a client times out)."""
    fulfilments(sandbox).confirm_delays.append(seconds)


def routes(api: Any) -> list[Route]:
    """The routes to add to the marketplace app (its buckets get the documented usage plans unless set)."""
    from sandbox.amazon_server import _Bucket  # the server's own bucket class, imported late (no cycle)

    for operation, (rate, burst) in LIMITS.items():
        api.limits.setdefault(operation, (rate, burst))
        limit_rate, limit_burst = api.limits[operation]
        api.buckets.setdefault(operation, _Bucket(limit_rate, limit_burst, api.clock))

    async def confirm(request: Request) -> Response:
        body = await request.body()
        response = api._serve(CONFIRM_SHIPMENT, request, lambda req, _grant: _confirm(api, req, body), wrap=False)
        if response.status_code != 200:
            return response
        delays = fulfilments(api.state).confirm_delays
        if delays:
            await asyncio.sleep(delays.pop(0))  # taken already; the answer is what gets lost
        return Response(status_code=204, headers={k: v for k, v in response.headers.items()
                                                  if k.lower().startswith("x-amzn")})

    async def get_order(request: Request) -> Response:
        return api._serve(GET_ORDER, request, lambda req, _grant: _order(api, req))

    async def patch_listing(request: Request) -> Response:
        body = await request.body()
        return api._serve(PATCH_LISTINGS_ITEM, request, lambda req, _grant: _patch(api, req, body), wrap=False)

    return [Route("/orders/v0/orders/{order_id}/shipmentConfirmation", confirm, methods=["POST"]),
            Route("/orders/v0/orders/{order_id}", get_order, methods=["GET"]),
            Route("/listings/2021-08-01/items/{seller_id}/{sku:path}", patch_listing, methods=["PATCH"])]


def _fault(status: int, code: str, message: str) -> Exception:
    from sandbox.amazon_server import _Fault

    return _Fault(status, code, message)


def _document(body: bytes) -> dict[str, Any]:
    try:
        document = json.loads(body)
    except ValueError:
        raise _fault(400, "InvalidInput", "The request body is not valid JSON") from None
    if not isinstance(document, dict):
        raise _fault(400, "InvalidInput", "The request body must be an object")
    return document


def _order(api: Any, request: Request) -> dict[str, Any]:
    order_id = request.path_params["order_id"]
    if order_id not in api.state.orders:
        raise _fault(404, "NotFound", f"No order with id {order_id}")
    return api._shown(order_id, None)


def _confirm(api: Any, request: Request, body: bytes) -> dict[str, Any]:
    order_id = request.path_params["order_id"]
    order = api.state.orders.get(order_id)
    if order is None:
        raise _fault(404, "NotFound", f"No order with id {order_id}")
    document = _document(body)
    if document.get("marketplaceId") != order["MarketplaceId"]:
        raise _fault(400, "InvalidInput", "marketplaceId does not match the order's marketplace")
    package = document.get("packageDetail")
    if not isinstance(package, dict):
        raise _fault(400, "InvalidInput", "packageDetail is required")
    reference = package.get("packageReferenceId")
    if not isinstance(reference, str) or not reference.isdigit() or int(reference) <= 0:
        raise _fault(400, "InvalidInput", "packageReferenceId must be a string holding a positive number")
    if package.get("carrierCode") not in CARRIER_CODES or not package.get("trackingNumber"):
        raise _fault(400, "InvalidInput", "carrierCode (a known code) and trackingNumber are required")
    if package["carrierCode"] == "Other" and not package.get("carrierName"):
        raise _fault(400, "InvalidInput", "carrierName is required when carrierCode is Other")
    try:
        dt.datetime.fromisoformat(str(package.get("shipDate")))
    except ValueError:
        raise _fault(400, "InvalidInput", "shipDate must be an ISO 8601 date-time") from None
    ordered = {str(item["OrderItemId"]): int(item.get("QuantityOrdered") or 0)
               for item in api.state.items.get(order_id, [])}
    state = fulfilments(api.state)
    packages = state.packages.setdefault(order_id, {})
    others = [p for ref, p in packages.items() if ref != reference]  # the same reference edits its package
    for item in package.get("orderItems") or []:
        item_id = str(item.get("orderItemId")) if isinstance(item, dict) else ""
        quantity = item.get("quantity") if isinstance(item, dict) else None
        shipped = sum(i["quantity"] for p in others for i in p["orderItems"] if i["orderItemId"] == item_id)
        if item_id not in ordered or not isinstance(quantity, int) or not 0 < quantity <= ordered[item_id] - shipped:
            raise _fault(400, "InvalidInput", f"Invalid orderItemId or quantity: {item_id[:40]}")
    packages[reference] = package
    state.confirmations += 1
    confirmed = {item_id: 0 for item_id in ordered}
    for confirmed_package in packages.values():
        for item in confirmed_package["orderItems"]:
            confirmed[str(item["orderItemId"])] += item["quantity"]
    done = all(confirmed[item_id] >= quantity for item_id, quantity in ordered.items())
    order["OrderStatus"] = "Shipped" if done else "PartiallyShipped"
    order["LastUpdateDate"] = api.now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {}


def _patch(api: Any, request: Request, body: bytes) -> dict[str, Any]:
    sku = request.path_params["sku"]
    document = _document(body)
    patches = document.get("patches")
    if not document.get("productType") or not isinstance(patches, list) or not patches:
        raise _fault(400, "InvalidInput", "productType and patches are required")
    quantity = None
    for patch in patches:
        if not isinstance(patch, dict) or patch.get("op") not in ("add", "replace", "merge", "delete"):
            raise _fault(400, "InvalidInput", "each patch needs an op: add, replace, merge or delete")
        if patch.get("path") == "/attributes/fulfillment_availability":
            for value in patch.get("value") or []:
                if isinstance(value, dict) and value.get("fulfillment_channel_code") == "DEFAULT":
                    quantity = value.get("quantity")
    if not isinstance(quantity, int) or quantity < 0:
        return {"sku": sku, "status": "INVALID", "submissionId": "sandbox", "issues": [
            {"code": "90220", "message": "fulfillment_availability needs a DEFAULT quantity of 0 or more",
             "severity": "ERROR"}]}
    fulfilments(api.state).listings[sku] = quantity
    return {"sku": sku, "status": "ACCEPTED", "submissionId": f"sandbox-{len(fulfilments(api.state).listings)}",
            "issues": []}
