"""Saved Shopify API bodies -> canonical orders (``hub map --source shopify FILE...`` and the intake).

The shapes understood, exactly as Shopify sends them: a GraphQL Admin API ``orders`` answer
(``{"data": {"shop": {...}, "orders": {"nodes": [...]}}}``) or ``order`` answer
(``{"data": {"order": {...}}}``), a webhook body (the bare order), and the legacy REST Admin API
bodies archived before the move to GraphQL (``{"orders": [...]}``, ``{"order": {...}}``).
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal
from typing import Any

from canonical.errors import RejectedDocument
from canonical.outcomes import DocumentOutcome, ReceiptOutcome
from mappings._channel import DocumentResult as ShopifyDocumentResult
from mappings._channel import MapResult as ShopifyMapResult
from mappings.profiles import PartnerProfile
from mappings.shopify._graphql import is_graphql_order, shop_timezone, webhook_shape
from mappings.shopify._order import REJECTED, MappedOrder, map_shopify_order

FILE_OUTCOMES = (ReceiptOutcome.ACCEPTED, ReceiptOutcome.ACCEPTED_WITH_WARNINGS, ReceiptOutcome.PARTIALLY_ACCEPTED,
                 ReceiptOutcome.REJECTED, ReceiptOutcome.NOT_SHOPIFY)
DOCUMENT_OUTCOMES = (DocumentOutcome.ACCEPTED, DocumentOutcome.ACCEPTED_WITH_WARNINGS, DocumentOutcome.REJECTED)


def order_objects(body: Any) -> list[tuple[str, Any]] | None:
    """The (JSON path, order object) pairs of a parsed body, or None when it is no Shopify order body.

    GraphQL nodes come back in the webhook's shape, their timestamps in the shop's zone (``data.shop.ianaTimezone``).
    """
    data = body.get("data") if isinstance(body, dict) else None
    if isinstance(data, dict):
        shop = data.get("shop")
        zone = shop_timezone(shop.get("ianaTimezone")) if isinstance(shop, dict) else None
        orders = data.get("orders")
        if isinstance(orders, dict) and isinstance(orders.get("nodes"), list):
            return [(f"data.orders.nodes[{i}]", _shaped(node, zone)) for i, node in enumerate(orders["nodes"])]
        if isinstance(data.get("order"), dict):
            return [("data.order", _shaped(data["order"], zone))]
    if isinstance(body, dict) and isinstance(body.get("orders"), list):
        return [(f"orders[{i}]", order) for i, order in enumerate(body["orders"])]
    if isinstance(body, dict) and isinstance(body.get("order"), dict):
        return [("order", body["order"])]
    if isinstance(body, dict) and "id" in body and "line_items" in body:
        return [("$", body)]  # a webhook delivers the bare order
    return None


def _shaped(node: Any, zone: Any) -> Any:
    return webhook_shape(node, timezone=zone) if is_graphql_order(node) else node


def parse_body(data: bytes) -> Any:
    """JSON with decimals kept exact (never through float); ValueError for anything that is not JSON."""
    try:
        return json.loads(data, parse_float=Decimal)
    except RecursionError:
        raise ValueError("nested too deeply") from None


def map_shopify_orders(data: bytes, *, profile: PartnerProfile, raw_document_id: str | None = None,
                       body: Any = None) -> list[MappedOrder]:
    """Every order of a raw body, mapped (for the intake: ``raw_document_id`` is the archived body's sha256).

    A body that is no Shopify order body is a :class:`~canonical.errors.RejectedDocument`. Pass an already
    parsed ``body`` to skip parsing again.
    """
    if body is None:
        try:
            body = parse_body(data)
        except ValueError as exc:
            raise RejectedDocument(f"not JSON: {exc}", location="$") from exc
    objects = order_objects(body)
    if objects is None:
        raise RejectedDocument("not a Shopify orders answer, order or webhook body", location="$")
    sha = raw_document_id or hashlib.sha256(data).hexdigest()
    return [map_shopify_order(order if isinstance(order, dict) else {}, profile=profile, raw_document_id=sha,
                              document_ref=ref) for ref, order in objects]


def map_shopify_payload(data: bytes, *, profile: PartnerProfile) -> ShopifyMapResult:
    """Map one saved body offline, reporting per order; never raises for bad input."""
    try:
        body = parse_body(data)
    except ValueError as exc:
        return ShopifyMapResult(ReceiptOutcome.NOT_SHOPIFY, f"not JSON: {exc}")
    objects = order_objects(body)
    if objects is None:
        return ShopifyMapResult(ReceiptOutcome.NOT_SHOPIFY, "not a Shopify GraphQL orders answer ({\"data\": "
                                                            "{\"orders\": {\"nodes\": [...]}}}), a single order "
                                                            "or a webhook body")
    documents = []
    for (ref, _), mapped in zip(objects, map_shopify_orders(data, profile=profile, body=body), strict=True):
        warnings = any(p.severity == "warning" for p in mapped.findings)
        outcome = (DocumentOutcome.REJECTED if mapped.state == REJECTED
                   else DocumentOutcome.ACCEPTED_WITH_WARNINGS if warnings else DocumentOutcome.ACCEPTED)
        documents.append(ShopifyDocumentResult(ref, outcome, list(mapped.findings), mapped.order, mapped))
    return ShopifyMapResult(*_file_outcome(documents), documents)


def _file_outcome(documents: list[ShopifyDocumentResult]) -> tuple[ReceiptOutcome, str | None]:
    if not documents:
        return ReceiptOutcome.ACCEPTED, "the body holds no orders"
    outcomes = {d.outcome for d in documents}
    if outcomes == {DocumentOutcome.REJECTED}:
        return ReceiptOutcome.REJECTED, "no order could be mapped"
    if DocumentOutcome.REJECTED in outcomes:
        rejected = sum(d.outcome == DocumentOutcome.REJECTED for d in documents)
        return ReceiptOutcome.PARTIALLY_ACCEPTED, f"{rejected} of {len(documents)} orders could not be mapped"
    if DocumentOutcome.ACCEPTED_WITH_WARNINGS in outcomes:
        return ReceiptOutcome.ACCEPTED_WITH_WARNINGS, None
    return ReceiptOutcome.ACCEPTED, None
