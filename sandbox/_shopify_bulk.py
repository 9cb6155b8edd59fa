"""The sandbox shop's bulk query operations (GraphQL Admin API 2026-10), for ``hub backfill shopify``.

Served from the shop's GraphQL endpoint (``sandbox/shopify_server.py`` hands the documents over):

- ``bulkOperationRunQuery(query:, groupObjects:)`` with an ``orders(query: "updated_at:>=...", sortKey:
  UPDATED_AT) { nodes {...} }`` query: the file is written at once (the shop's orders then), the
  operation answered ``CREATED``. Variables (``$``) and ``pageInfo`` are refused as Shopify refuses them
  in bulk queries (``INVALID``). Up to five operations may run at a time from 2026-01 (``LIMIT_REACHED``
  beyond), one before (``OPERATION_IN_PROGRESS``).
- ``bulkOperation(id:)`` (and the deprecated ``currentBulkOperation``): ``RUNNING`` until polled
  ``polls`` times, then ``COMPLETED`` with ``url`` on this server (``/_bulk/<id>.jsonl``), or
  ``FAILED`` with the ``errorCode`` a test asked for (:func:`fail_next`).
- ``shop { ianaTimezone }``.

The JSONL file is ungrouped (``groupObjects: false``, 2026-10's default): every order line first, then
their line items and shipping lines, each with ``__typename`` and ``__parentId``, so a client that
expects children right after their parent is caught out.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox._shopify_graphql import matches, order_node, parse_search

MUTATION_COST = 10
_RUNNING = ("CREATED", "RUNNING")
_ORDERS = re.compile(r'^\s*\{\s*orders\s*\(\s*query:\s*("(?:[^"\\]|\\.)*")\s*,\s*sortKey:\s*UPDATED_AT\s*\)\s*\{')
_SHOP_ZONE = re.compile(r"^\s*query\s*\w*\s*\{\s*shop\s*\{\s*ianaTimezone\s*\}\s*\}\s*$")


@dataclass
class ShopBulk:
    """The shop's bulk operations (guarded by the shop's lock)."""

    operations: dict[int, dict[str, Any]] = field(default_factory=dict)
    files: dict[int, bytes] = field(default_factory=dict)
    polls: int = 2  # status queries an operation stays CREATED/RUNNING for
    fail_with: list[str] = field(default_factory=list)  # errorCodes the next operations end FAILED with
    downloads: int = 0
    next_id: int = 4_100_000_001


def bulk(sandbox: Any) -> ShopBulk:
    """The bulk state of a ``SandboxShopify`` (or of its inner shop)."""
    shop = getattr(sandbox, "_shop", sandbox)
    state = shop.__dict__.get("bulk")
    if state is None:
        state = shop.__dict__["bulk"] = ShopBulk()
    return state


def fail_next(sandbox: Any, error_code: str = "INTERNAL_SERVER_ERROR") -> None:
    """The next bulk operation ends FAILED with ``error_code`` (and a partial file)."""
    with sandbox._shop.lock:
        bulk(sandbox).fail_with.append(error_code)


def routes(api: Any) -> list[Route]:
    """The download of finished files (Shopify's are on Google Cloud Storage; these on the sandbox)."""

    async def download(request: Request) -> Response:
        with api.shop.lock:
            state = bulk(api.shop)
            body = state.files.get(int(request.path_params["number"]))
            state.downloads += body is not None
        if body is None:
            return Response(b"<Error><Code>NoSuchKey</Code></Error>", status_code=404, media_type="application/xml")
        return Response(body, media_type="application/jsonl")

    return [Route("/_bulk/{number:int}.jsonl", download, methods=["GET"])]


async def answer(api: Any, request: Request, query: str, variables: dict[str, Any]) -> Response | None:
    """The answer to a bulk operation document or the shop's time zone, or None when the query is none of them."""
    if re.search(r"\bbulkOperationRunQuery\s*\(", query):
        return _run(api, request, variables)
    if re.search(r"\b(bulkOperation|currentBulkOperation)\s*\(", query):
        return _status(api, request, variables, current="currentBulkOperation" in query)
    if _SHOP_ZONE.match(query):
        charged = api._charge(1)
        if isinstance(charged, Response):
            return charged
        return api._answer({"shop": {"ianaTimezone": api.shop.timezone}}, 1, 1)
    return None


def _version(request: Request) -> str:
    return str(request.path_params.get("version", ""))


def _payload(api: Any, operation: dict[str, Any] | None, errors: list[dict[str, Any]]) -> Response:
    data = {"bulkOperationRunQuery": {"bulkOperation": operation, "userErrors": errors}}
    return api._answer(data, MUTATION_COST, MUTATION_COST)


def _run(api: Any, request: Request, variables: dict[str, Any]) -> Response:
    charged = api._charge(MUTATION_COST)
    if isinstance(charged, Response):
        return charged
    inner = variables.get("query")
    inner = inner if isinstance(inner, str) else ""
    match = _ORDERS.match(inner)
    if match is None or "$" in inner or "pageInfo" in inner:
        return _payload(api, None, [{"field": ["query"], "code": "INVALID", "message":
                                     "Invalid bulk query: the sandbox runs orders(query:, sortKey: UPDATED_AT) "
                                     "without variables or pageInfo"}])
    try:
        terms = parse_search(json.loads(match.group(1)))
    except ValueError as exc:
        return _payload(api, None, [{"field": ["query"], "code": "INVALID", "message": f"Invalid search: {exc}"}])
    limit = 5 if _version(request) >= "2026-01" else 1
    with api.shop.lock:
        state = bulk(api.shop)
        running = [op for op in state.operations.values() if op["status"] in _RUNNING]
        if len(running) >= limit:
            code = "LIMIT_REACHED" if limit > 1 else "OPERATION_IN_PROGRESS"
            message = (f"A bulk query operation for this app and shop is already in progress: {running[0]['id']}."
                       if limit == 1 else "Bulk operations limit reached. Please try again later.")
            errors = [{"field": None, "code": code, "message": message}]
            operation = None
        else:
            number = state.next_id
            state.next_id += 1
            body, objects = _file(api.shop, terms)
            state.files[number] = body
            operation = {"id": f"gid://shopify/BulkOperation/{number}", "status": "CREATED",
                         "polls_left": state.polls, "objects": objects, "number": number,
                         "fail": state.fail_with.pop(0) if state.fail_with else None,
                         "createdAt": _now(api.shop)}
            state.operations[number] = operation
            errors, operation = [], {"id": operation["id"], "status": "CREATED"}
    return _payload(api, operation, errors)


def _status(api: Any, request: Request, variables: dict[str, Any], *, current: bool) -> Response:
    charged = api._charge(1)
    if isinstance(charged, Response):
        return charged
    with api.shop.lock:
        state = bulk(api.shop)
        if current:
            operation = state.operations[max(state.operations)] if state.operations else None
        else:
            found = re.fullmatch(r"gid://shopify/BulkOperation/(\d+)", str(variables.get("id", "")))
            operation = state.operations.get(int(found.group(1))) if found else None
        if operation is not None and operation["status"] in _RUNNING:
            operation["polls_left"] -= 1
            operation["status"] = "RUNNING" if operation["polls_left"] > 0 else (
                "FAILED" if operation["fail"] else "COMPLETED")
            if operation["status"] != "RUNNING":
                operation["completedAt"] = _now(api.shop)
        node = _node(operation, str(request.base_url)) if operation is not None else None
    key = "currentBulkOperation" if current else "bulkOperation"
    return api._answer({key: node}, 1, 1)


def _node(operation: dict[str, Any], base_url: str) -> dict[str, Any]:
    status = operation["status"]
    link = f"{base_url.rstrip('/')}/_bulk/{operation['number']}.jsonl"
    done = status == "COMPLETED"
    return {"id": operation["id"], "status": status,
            "errorCode": operation["fail"] if status == "FAILED" else None,
            "objectCount": str(operation["objects"] if done else 0), "rootObjectCount": None,
            "fileSize": None, "createdAt": operation["createdAt"], "completedAt": operation.get("completedAt"),
            # No objects, no file: Shopify's url is null then.
            "url": link if done and operation["objects"] else None,
            "partialDataUrl": link if status == "FAILED" else None}


def _file(shop: Any, terms: list[tuple[str, dt.datetime]]) -> tuple[bytes, int]:
    """The JSONL file of the matching orders, ungrouped: orders first, then their children."""
    keyed = sorted((dt.datetime.fromisoformat(order["updated_at"]), order_id)
                   for order_id, order in shop.orders.items())
    parents, children = [], []
    for updated_at, order_id in keyed:
        if not matches(updated_at, terms):
            continue
        # A bulk operation reads nested connections whole.
        node, _ = order_node(shop.orders[order_id], line_items=10_000, shipping_lines=10_000)
        for connection, kind in (("lineItems", "LineItem"), ("shippingLines", "ShippingLine")):
            value = node.pop(connection, None)
            for child in (value or {}).get("nodes") or []:
                children.append({"__typename": kind, **child, "__parentId": node["id"]})
        parents.append(node)
    lines = [json.dumps(obj, ensure_ascii=False, separators=(",", ":")) for obj in [*parents, *children]]
    return "".join(line + "\n" for line in lines).encode(), len(lines)


def _now(shop: Any) -> str:
    return shop.now().astimezone(dt.UTC).isoformat().replace("+00:00", "Z")

