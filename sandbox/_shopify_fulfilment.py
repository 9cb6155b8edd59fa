"""The sandbox shop's fulfilment and inventory side (GraphQL Admin API 2026-10).

Served from the shop's GraphQL endpoint (``sandbox/shopify_server.py`` hands these documents over):
``order(id:) { fulfillmentOrders }`` (each order's line items split by assigned location, location 1 unless a
test assigns another), ``order(id:) { fulfillments }``, ``fulfillmentCreate`` (fulfillment orders of one
location only, quantities within what remains; ``userErrors`` otherwise), ``inventoryItems(query: "sku:...")``
with ``inventoryLevel(locationId:) { quantities(names: ["available"]) }`` and ``inventorySetQuantities``,
which demands ``@idempotent(key:)`` and a ``changeFromQuantity`` on every quantity (2026-04 and later):
a stale one is refused with ``CHANGE_FROM_QUANTITY_STALE``, a key seen before answers as the first time.
Costs go through the shop's bucket like every query (a mutation requests 10 points).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import JSONResponse, Response

DEFAULT_LOCATION = 1
MUTATION_COST = 10


@dataclass
class ShopFulfilments:
    """The shop's fulfilment and stock state (guarded by the shop's lock)."""

    locations: dict[int, dict[str, int]] = field(default_factory=dict)  # order -> line item id -> location
    fulfillments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # order -> created fulfillments
    inventory: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)  # (sku, location) -> item
    keys: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key -> the payload answered
    create_delays: list[float] = field(default_factory=list)  # seconds to hold the next answers (after creating)
    creates: int = 0
    next_id: int = 7_000_000_001


def fulfilments(sandbox: Any) -> ShopFulfilments:
    """The fulfilment state of a ``SandboxShopify`` (or of its inner shop)."""
    shop = getattr(sandbox, "_shop", sandbox)
    state = shop.__dict__.get("fulfilment")
    if state is None:
        state = shop.__dict__["fulfilment"] = ShopFulfilments()
    return state


def assign_location(sandbox: Any, order_id: int, line_item_id: int | str, location: int) -> None:
    """Assign one line item of an order to another location (a second fulfillment order)."""
    with sandbox._shop.lock:
        fulfilments(sandbox).locations.setdefault(order_id, {})[str(line_item_id)] = location


def stock(sandbox: Any, sku: str, available: int, *, location: int = DEFAULT_LOCATION) -> None:
    """Set (or create) the SKU's inventory item and its ``available`` quantity at a location."""
    with sandbox._shop.lock:
        state = fulfilments(sandbox)
        known = next((i["item"] for (s, _), i in state.inventory.items() if s == sku), None)
        if known is None:
            known = state.next_id
            state.next_id += 1
        state.inventory[(sku, location)] = {"item": known, "available": available}


def fulfillments_of(sandbox: Any, order_id: int) -> list[dict[str, Any]]:
    """The fulfillments the shop holds for an order (copies)."""
    with sandbox._shop.lock:
        return [dict(f) for f in fulfilments(sandbox).fulfillments.get(order_id, [])]


def hold_next_create(sandbox: Any, seconds: float) -> None:
    """The next fulfillmentCreate is carried out, then answered only after ``seconds`` (a client times out)."""
    with sandbox._shop.lock:
        fulfilments(sandbox).create_delays.append(seconds)


async def answer(api: Any, query: str, variables: dict[str, Any]) -> Response | None:
    """The answer to a fulfilment or inventory document, or None when the query is none of them."""
    if re.search(r"\bfulfillmentCreate\s*\(", query):
        return await _create(api, variables)
    if re.search(r"\binventorySetQuantities\s*\(", query):
        return _set_quantities(api, query, variables)
    if re.search(r"\binventoryItems\s*\(", query):
        return _inventory_items(api, variables)
    if re.search(r"\bfulfillmentOrders\s*\(", query):
        return _order_part(api, variables, _fulfillment_orders_of)
    if re.search(r"\bfulfillments\s*\(", query):
        return _order_part(api, variables, _fulfillments_node)
    return None


def _order_id(value: Any) -> int | None:
    match = re.fullmatch(r"gid://shopify/Order/(\d+)", str(value or ""))
    return int(match.group(1)) if match else None


def _fulfilled(state: ShopFulfilments, order_id: int) -> dict[str, int]:
    done: dict[str, int] = {}
    for fulfillment in state.fulfillments.get(order_id, []):
        for line_id, quantity in fulfillment["lines"].items():
            done[line_id] = done.get(line_id, 0) + quantity
    return done


def _fulfillment_orders(shop: Any, order_id: int) -> list[dict[str, Any]]:
    """The order's fulfillment orders: its line items grouped by location, what remains of each."""
    state = fulfilments(shop)
    order = shop.orders[order_id]
    assigned = state.locations.get(order_id, {})
    done = _fulfilled(state, order_id)
    by_location: dict[int, list[dict[str, Any]]] = {}
    for item in order.get("line_items") or []:
        line_id = str(item.get("id"))
        quantity = int(item.get("current_quantity", item.get("quantity")) or 0)
        by_location.setdefault(assigned.get(line_id, DEFAULT_LOCATION), []).append(
            {"id": f"gid://shopify/FulfillmentOrderLineItem/{line_id}", "sku": item.get("sku"),
             "remainingQuantity": max(0, quantity - done.get(line_id, 0)), "totalQuantity": quantity,
             "lineItem": {"id": f"gid://shopify/LineItem/{line_id}"}})
    orders = []
    for n, (location, lines) in enumerate(sorted(by_location.items()), start=1):
        remaining = sum(line["remainingQuantity"] for line in lines)
        total = sum(line["totalQuantity"] for line in lines)
        status = "CLOSED" if remaining == 0 else ("OPEN" if remaining == total else "IN_PROGRESS")
        if order.get("cancelled_at"):
            status = "CANCELLED"
        orders.append({"id": f"gid://shopify/FulfillmentOrder/{order_id}{n:02d}", "status": status,
                       "assignedLocation": {"name": f"Location {location}",
                                            "location": {"id": f"gid://shopify/Location/{location}"}},
                       "lineItems": {"nodes": lines}})
    return orders


def _fulfillment_orders_of(shop: Any, order_id: int, variables: dict[str, Any]) -> tuple[dict[str, Any], int]:
    first = int(variables.get("first") or 10)
    nodes = _fulfillment_orders(shop, order_id)[:first]
    return {"fulfillmentOrders": {"nodes": nodes}}, 3 + sum(3 + 2 * len(n["lineItems"]["nodes"]) for n in nodes)


def _fulfillments_node(shop: Any, order_id: int, variables: dict[str, Any]) -> tuple[dict[str, Any], int]:
    first = int(variables.get("first") or 10)
    found = [_public(f) for f in fulfilments(shop).fulfillments.get(order_id, [])][:first]
    return {"fulfillments": found}, 1 + 3 * len(found)


def _public(fulfillment: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fulfillment.items() if key != "lines"}


def _order_part(api: Any, variables: dict[str, Any], render: Any) -> Response:
    first = variables.get("first")
    if not isinstance(first, int) or isinstance(first, bool) or not 1 <= first <= 250:
        return _errors("Variable $first must be a whole number from 1 to 250", "argumentError")
    requested = 3 + first * 5
    charged = api._charge(requested)
    if isinstance(charged, Response):
        return charged
    order_id = _order_id(variables.get("id"))
    with api.shop.lock:  # rendered under the lock, answered after it (the answer takes it again)
        known = order_id is not None and order_id in api.shop.orders
        node, actual = render(api.shop, order_id, variables) if known else ({}, 1)
    if not known:
        return api._answer({"order": None}, requested, 1)
    return api._answer({"order": {"id": f"gid://shopify/Order/{order_id}", **node}}, requested, min(actual, requested))


async def _create(api: Any, variables: dict[str, Any]) -> Response:
    charged = api._charge(MUTATION_COST)
    if isinstance(charged, Response):
        return charged
    with api.shop.lock:
        payload = _create_locked(api.shop, variables.get("fulfillment"))
        delays = fulfilments(api.shop).create_delays
        delay = delays.pop(0) if delays and payload.get("fulfillment") else 0.0
    if delay:
        await asyncio.sleep(delay)  # created already; the answer is what gets lost
    return api._answer({"fulfillmentCreate": payload}, MUTATION_COST, MUTATION_COST)


def _user_error(message: str, *path: str) -> dict[str, Any]:
    return {"fulfillment": None, "userErrors": [{"field": ["fulfillment", *path], "message": message}]}


def _create_locked(shop: Any, given: Any) -> dict[str, Any]:
    if not isinstance(given, dict) or not isinstance(given.get("lineItemsByFulfillmentOrder"), list) \
            or not given["lineItemsByFulfillmentOrder"]:
        return _user_error("lineItemsByFulfillmentOrder must list at least one fulfillment order",
                           "lineItemsByFulfillmentOrder")
    state = fulfilments(shop)
    found: dict[str, tuple[int, dict[str, Any]]] = {}
    for order_id in shop.orders:
        for fulfillment_order in _fulfillment_orders(shop, order_id):
            found[fulfillment_order["id"]] = (order_id, fulfillment_order)
    lines: dict[str, int] = {}
    owners: set[int] = set()
    locations: set[str] = set()
    for n, entry in enumerate(given["lineItemsByFulfillmentOrder"]):
        match = found.get(str(entry.get("fulfillmentOrderId"))) if isinstance(entry, dict) else None
        if match is None:
            return _user_error("Fulfillment order does not exist.", "lineItemsByFulfillmentOrder", str(n))
        order_id, fulfillment_order = match
        if fulfillment_order["status"] not in ("OPEN", "IN_PROGRESS"):
            return _user_error(f"Fulfillment order {fulfillment_order['id']} is {fulfillment_order['status']}.",
                               "lineItemsByFulfillmentOrder", str(n))
        owners.add(order_id)
        locations.add(fulfillment_order["assignedLocation"]["location"]["id"])
        remaining = {line["id"]: line for line in fulfillment_order["lineItems"]["nodes"]}
        wanted = entry.get("fulfillmentOrderLineItems") or [
            {"id": line_id, "quantity": line["remainingQuantity"]} for line_id, line in remaining.items()]
        for line in wanted:
            known = remaining.get(str(line.get("id")))
            quantity = line.get("quantity")
            if known is None or not isinstance(quantity, int) or not 0 < quantity <= known["remainingQuantity"]:
                return _user_error("Invalid fulfillment order line item quantity requested.",
                                   "lineItemsByFulfillmentOrder", str(n), "fulfillmentOrderLineItems")
            line_id = known["lineItem"]["id"].rsplit("/", 1)[-1]
            lines[line_id] = lines.get(line_id, 0) + quantity
    if len(owners) > 1 or len(locations) > 1:
        return _user_error("All fulfillment orders must belong to the same order and be assigned to the same "
                           "location.", "lineItemsByFulfillmentOrder")
    tracking = given.get("trackingInfo") or {}
    order_id = owners.pop()
    fulfillment = {"id": f"gid://shopify/Fulfillment/{state.next_id}", "status": "SUCCESS",
                   "createdAt": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                   "location": {"id": locations.pop()},
                   "trackingInfo": [{"company": tracking.get("company"), "number": tracking.get("number"),
                                     "url": tracking.get("url")}] if tracking.get("number") else [],
                   "notifyCustomer": bool(given.get("notifyCustomer")), "lines": lines}
    state.next_id += 1
    state.creates += 1
    state.fulfillments.setdefault(order_id, []).append(fulfillment)
    order = shop.orders[order_id]
    still_open = any(fo["status"] in ("OPEN", "IN_PROGRESS") for fo in _fulfillment_orders(shop, order_id))
    order["fulfillment_status"] = "partial" if still_open else "fulfilled"
    shop.touch(order)
    return {"fulfillment": _public(fulfillment), "userErrors": []}


def _inventory_items(api: Any, variables: dict[str, Any]) -> Response:
    match = re.fullmatch(r'sku:"?(.*?)"?', str(variables.get("query") or ""))
    location = re.fullmatch(r"gid://shopify/Location/(\d+)", str(variables.get("location") or ""))
    if match is None or location is None:
        return _errors("the sandbox searches inventory items by sku:\"...\" at one location", "argumentError")
    requested = 3 + 5 * 4
    charged = api._charge(requested)
    if isinstance(charged, Response):
        return charged
    with api.shop.lock:
        state = fulfilments(api.shop)
        nodes = []
        for (sku, at), item in sorted(state.inventory.items()):
            if sku.startswith(match.group(1)) and at == int(location.group(1)):
                nodes.append({"id": f"gid://shopify/InventoryItem/{item['item']}", "sku": sku, "inventoryLevel": {
                    "quantities": [{"name": "available", "quantity": item["available"]}]}})
    return api._answer({"inventoryItems": {"nodes": nodes[:5]}}, requested, 3 + 4 * len(nodes[:5]))


def _set_quantities(api: Any, query: str, variables: dict[str, Any]) -> Response:
    key = variables.get("key")
    if not re.search(r"@idempotent\s*\(\s*key\s*:", query) or not isinstance(key, str) or not key:
        return _errors("inventorySetQuantities requires the @idempotent directive with a key", "BAD_REQUEST")
    charged = api._charge(MUTATION_COST)
    if isinstance(charged, Response):
        return charged
    with api.shop.lock:
        state = fulfilments(api.shop)
        payload = state.keys.get(key)
        if payload is None:
            payload = _set_locked(state, variables.get("input") or {})
            state.keys[key] = payload
    return api._answer({"inventorySetQuantities": payload}, MUTATION_COST, MUTATION_COST)


def _set_locked(state: ShopFulfilments, given: dict[str, Any]) -> dict[str, Any]:
    def refused(code: str, message: str, n: int) -> dict[str, Any]:
        return {"inventoryAdjustmentGroup": None,
                "userErrors": [{"code": code, "field": ["input", "quantities", str(n)], "message": message}]}

    targets = []
    for n, quantity in enumerate(given.get("quantities") or []):
        item = re.fullmatch(r"gid://shopify/InventoryItem/(\d+)", str(quantity.get("inventoryItemId")))
        location = re.fullmatch(r"gid://shopify/Location/(\d+)", str(quantity.get("locationId")))
        found = next(((sku, at) for (sku, at), entry in state.inventory.items()
                      if item and location and entry["item"] == int(item.group(1)) and at == int(location.group(1))),
                     None)
        if found is None:
            return refused("ITEM_NOT_STOCKED_AT_LOCATION", "The item is not stocked at the location.", n)
        if "changeFromQuantity" not in quantity:
            return refused("INVALID_INPUT", "changeFromQuantity is required (pass null to skip the check).", n)
        current = state.inventory[found]["available"]
        if quantity["changeFromQuantity"] is not None and quantity["changeFromQuantity"] != current:
            return refused("CHANGE_FROM_QUANTITY_STALE",
                           "The specified changeFromQuantity does not match the current quantity.", n)
        targets.append((found, int(quantity["quantity"]), current))
    changes = []
    for found, value, current in targets:
        state.inventory[found]["available"] = value
        changes.append({"name": "available", "delta": value - current, "quantityAfterChange": value})
    group = {"id": f"gid://shopify/InventoryAdjustmentGroup/{state.next_id}", "reason": given.get("reason"),
             "changes": changes}
    state.next_id += 1
    return {"inventoryAdjustmentGroup": group, "userErrors": []}


def _errors(message: str, code: str) -> Response:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]})
