"""Saved SP-API responses -> canonical orders, offline (``hub map --source amazon FILE...``).

Support replays what a customer's marketplace returned: any mix of getOrders and getOrderItems
response bodies, exactly as the API sent them. Items are joined to their order by ``AmazonOrderId``
(the getOrderItems payload names it); an order whose items are not among the files is reported as
such, never mapped from a guess.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from canonical.outcomes import DocumentOutcome, ReceiptOutcome
from mappings._channel import HELD, REJECTED, Problem
from mappings._channel import DocumentResult as AmazonDocumentResult
from mappings._channel import MapResult as AmazonMapResult
from mappings.amazon._order import map_amazon_order
from mappings.profiles import PartnerProfile

FILE_OUTCOMES = (ReceiptOutcome.ACCEPTED, ReceiptOutcome.ACCEPTED_WITH_WARNINGS, ReceiptOutcome.PARTIALLY_ACCEPTED,
                 ReceiptOutcome.REJECTED, ReceiptOutcome.NOT_AMAZON)
DOCUMENT_OUTCOMES = (DocumentOutcome.ACCEPTED, DocumentOutcome.ACCEPTED_WITH_WARNINGS, DocumentOutcome.HELD,
                     DocumentOutcome.INCOMPLETE, DocumentOutcome.REJECTED)
# What a document that was read counts as, and one that could not be (for the file's outcome).
_MAPPED = frozenset({DocumentOutcome.ACCEPTED, DocumentOutcome.ACCEPTED_WITH_WARNINGS, DocumentOutcome.HELD})
_FAILED = frozenset({DocumentOutcome.REJECTED, DocumentOutcome.INCOMPLETE})


@dataclass
class _OrderEntry:
    order: dict[str, Any]
    ref: str
    raw_document_id: str


@dataclass
class _ItemsEntry:
    items: list[dict[str, Any]] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)


def map_amazon_payloads(
    files: list[bytes], *, profile: PartnerProfile, names: list[str] | None = None
) -> AmazonMapResult:
    """Map getOrders and getOrderItems response bodies (any order, several pages each) to canonical orders."""
    names = names if names is not None else [f"file{n + 1}" for n in range(len(files))]
    if len(names) != len(files):
        raise ValueError("one name per file, please")
    orders: list[_OrderEntry] = []
    items: dict[str, _ItemsEntry] = {}
    unreadable: list[AmazonDocumentResult] = []
    for name, data in zip(names, files, strict=True):
        kind, payload, problem = _classify(data, name)
        if problem is not None:
            unreadable.append(AmazonDocumentResult(ref=name, outcome=DocumentOutcome.REJECTED, errors=[problem]))
        elif kind == "orders":
            raw_id = hashlib.sha256(data).hexdigest()
            for index, order in enumerate(payload["Orders"]):
                orders.append(_OrderEntry(order, f"{name}:payload.Orders[{index}]", raw_id))
        else:
            pages = items.setdefault(payload["AmazonOrderId"], _ItemsEntry())
            # Pages of one order's items arrive in file order; their positions stay traceable.
            for index, item in enumerate(payload["OrderItems"]):
                pages.items.append(item)
                pages.refs.append(f"{name}:payload.OrderItems[{index}]")

    documents: list[AmazonDocumentResult] = []
    joined: set[str] = set()
    for entry in orders:
        order_id = entry.order.get("AmazonOrderId") if isinstance(entry.order, dict) else None
        documents.append(_map_one(entry, items.get(order_id) if isinstance(order_id, str) else None, profile))
        if isinstance(order_id, str):
            joined.add(order_id)
    for order_id, pages in items.items():
        if order_id not in joined:
            documents.append(
                AmazonDocumentResult(
                    ref=pages.refs[0].split(":", 1)[0] if pages.refs else order_id,
                    outcome=DocumentOutcome.INCOMPLETE,
                    errors=[Problem("error", f"items of order {order_id}, but no getOrders response among the "
                                             "files holds that order", "payload.AmazonOrderId")],
                )
            )
    documents.extend(unreadable)
    outcome, reason = _file_outcome(documents, any_amazon=bool(orders or items))
    return AmazonMapResult(outcome=outcome, reason=reason, documents=documents)


def _classify(data: bytes, name: str) -> tuple[str, dict[str, Any], Problem | None]:
    try:
        body = json.loads(data, parse_float=Decimal)
    except (ValueError, RecursionError):
        return "", {}, Problem("error", "not JSON: not an SP-API response body", name)
    payload = body.get("payload") if isinstance(body, dict) else None
    if isinstance(body, dict) and "errors" in body and payload is None:
        return "", {}, Problem("error", "an SP-API error response, not orders", f"{name}:errors")
    if not isinstance(payload, dict):
        return "", {}, Problem("error", "no 'payload' object: not a getOrders or getOrderItems response", name)
    if isinstance(payload.get("Orders"), list):
        return "orders", payload, None
    if isinstance(payload.get("OrderItems"), list):
        if not isinstance(payload.get("AmazonOrderId"), str) or not payload["AmazonOrderId"]:
            return "", {}, Problem("error", "getOrderItems response without AmazonOrderId", f"{name}:payload")
        return "items", payload, None
    return "", {}, Problem("error", "payload has neither Orders nor OrderItems", f"{name}:payload")


def _map_one(entry: _OrderEntry, items: _ItemsEntry | None, profile: PartnerProfile) -> AmazonDocumentResult:
    if not isinstance(entry.order, dict):
        return AmazonDocumentResult(entry.ref, DocumentOutcome.REJECTED,
                                    [Problem("error", "not an Order object", entry.ref)])
    if items is None:
        order_id = entry.order.get("AmazonOrderId")
        return AmazonDocumentResult(
            entry.ref,
            DocumentOutcome.INCOMPLETE,
            [Problem("error", f"no getOrderItems response for order {order_id} among the files: items unknown",
                     entry.ref)],
        )
    file_name, document_ref = entry.ref.split(":", 1)
    mapped = map_amazon_order(
        entry.order,
        items.items,
        profile=profile,
        raw_document_id=entry.raw_document_id,
        document_ref=document_ref,
        items_ref="payload.OrderItems",
    )
    # Item locations inside map_amazon_order count across pages; name the real file and position.
    problems = [_relocate(p, file_name, items.refs) for p in mapped.findings]
    if mapped.state == REJECTED:
        outcome = DocumentOutcome.REJECTED
    elif mapped.state == HELD:
        outcome = DocumentOutcome.HELD
    elif any(p.severity == "warning" for p in problems):
        outcome = DocumentOutcome.ACCEPTED_WITH_WARNINGS
    else:
        outcome = DocumentOutcome.ACCEPTED
    return AmazonDocumentResult(entry.ref, outcome, problems, mapped.order, mapped)


def _relocate(problem: Problem, file_name: str, item_refs: list[str]) -> Problem:
    prefix = "payload.OrderItems["
    if problem.location.startswith(prefix):
        index_text, _, rest = problem.location[len(prefix):].partition("]")
        if index_text.isdigit() and int(index_text) < len(item_refs):
            return Problem(problem.severity, problem.message, item_refs[int(index_text)] + rest)
    if problem.location.startswith("payload."):
        return Problem(problem.severity, problem.message, f"{file_name}:{problem.location}")
    return problem


def _file_outcome(documents: list[AmazonDocumentResult], *, any_amazon: bool) -> tuple[ReceiptOutcome, str | None]:
    if not any_amazon:
        return ReceiptOutcome.NOT_AMAZON, "no getOrders or getOrderItems response among the files"
    mapped = [d for d in documents if d.outcome in _MAPPED]
    failed = [d for d in documents if d.outcome in _FAILED]
    if not documents:
        return ReceiptOutcome.ACCEPTED, None
    if not failed:
        warned = any(d.outcome == DocumentOutcome.ACCEPTED_WITH_WARNINGS for d in documents)
        return (ReceiptOutcome.ACCEPTED_WITH_WARNINGS if warned else ReceiptOutcome.ACCEPTED), None
    if mapped:
        return ReceiptOutcome.PARTIALLY_ACCEPTED, f"{len(failed)} of {len(documents)} documents could not be mapped"
    return ReceiptOutcome.REJECTED, "no order could be mapped"
