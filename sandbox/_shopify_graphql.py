"""The sandbox shop's GraphQL side: its orders as ``Order`` nodes, the search filter, query cost.

The sandbox keeps each order as the webhook (REST-shaped) JSON it sends, and renders the GraphQL
node from it, so a webhook and a query always describe the same order. It answers a fixed field
set (the one ``connectors.shopify`` asks for) and ignores the query's selection set; the
connection sizes come from the variables ``first``, ``lineItems`` and ``shippingLines``.

Cost follows Shopify's documented rules: an object costs 1, a scalar 0, a connection 2 plus
``first`` times its node. The requested cost counts every node the query may return, the actual
cost those it returned.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

# Objects under one Order node (the node, customer, two addresses, the MoneyBags and their
# MoneyV2s, refunds), under one line item and under one shipping line: see connectors/shopify/_query.py.
ORDER_NODE_COST = 19
LINE_ITEM_COST = 9
SHIPPING_LINE_COST = 6
MAX_QUERY_COST = 1000
_FULFILLMENT = {"fulfilled": "FULFILLED", "partial": "PARTIALLY_FULFILLED", "restocked": "RESTOCKED"}
_ADDRESS = {"name": "name", "firstName": "first_name", "lastName": "last_name", "company": "company",
            "address1": "address1", "address2": "address2", "city": "city", "province": "province",
            "provinceCode": "province_code", "zip": "zip", "country": "country", "countryCodeV2": "country_code"}
_TOTALS = {"currentTotalPriceSet": "current_total_price", "totalPriceSet": "total_price",
           "currentTotalTaxSet": "current_total_tax", "totalTaxSet": "total_tax",
           "currentTotalDutiesSet": "current_total_duties",
           "currentTotalAdditionalFeesSet": "current_total_additional_fees"}
_TERM = re.compile(r"^updated_at:(>=|<=|>|<)'?([^']+)'?$")


def requested_cost(first: int, line_items: int, shipping_lines: int) -> int:
    """What an ``orders(first:)`` query asking for these connection sizes may cost (``shop`` included)."""
    return 1 + 2 + first * order_cost(line_items, shipping_lines)


def order_cost(line_items: int, shipping_lines: int) -> int:
    """One Order node with these many line items and shipping lines."""
    return ORDER_NODE_COST + 2 + line_items * LINE_ITEM_COST + 2 + shipping_lines * SHIPPING_LINE_COST


def parse_search(query: str | None) -> list[tuple[str, dt.datetime]]:
    """``updated_at:>='2024-10-01T12:00:00Z' AND updated_at:<=...`` -> [(op, moment)]; ValueError for anything else."""
    if not query or not query.strip():
        return []
    terms = []
    for term in re.split(r"\s+AND\s+", query.strip()):
        match = _TERM.match(term.strip())
        if match is None:
            raise ValueError(f"the sandbox understands only updated_at terms joined by AND, not {term!r}")
        moment = dt.datetime.fromisoformat(match.group(2))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)  # Shopify reads a bare time in UTC
        terms.append((match.group(1), moment))
    return terms


def matches(updated_at: dt.datetime, terms: list[tuple[str, dt.datetime]]) -> bool:
    """Whether an order's ``updated_at`` passes every term."""
    checks = {">=": updated_at.__ge__, "<=": updated_at.__le__, ">": updated_at.__gt__, "<": updated_at.__lt__}
    return all(checks[op](moment) for op, moment in terms)


def gid(kind: str, value: Any) -> Any:
    """``gid://shopify/<kind>/<id>`` for a numeric id (anything else as it is)."""
    return f"gid://shopify/{kind}/{value}" if isinstance(value, int) or str(value).isdigit() else value


def order_node(order: dict[str, Any], *, line_items: int, shipping_lines: int) -> tuple[dict[str, Any], int]:
    """The GraphQL ``Order`` node for a webhook-shaped order, and its actual cost.

    Values of odd types (a fault test's edit) are passed on as they are, where GraphQL would put them.
    """
    node: dict[str, Any] = {
        "id": gid("Order", order.get("id")),
        "legacyResourceId": str(order.get("id")),
        "name": order.get("name"),
        "number": order.get("order_number"),
        "createdAt": _utc(order.get("created_at")),
        "updatedAt": _utc(order.get("updated_at")),
        "processedAt": _utc(order.get("processed_at")),
        "cancelledAt": _utc(order.get("cancelled_at")),
        "cancelReason": _upper(order.get("cancel_reason")),
        "test": bool(order.get("test")),
        "taxesIncluded": bool(order.get("taxes_included")),
        "currencyCode": order.get("currency"),
        "presentmentCurrencyCode": order.get("presentment_currency"),
        "displayFinancialStatus": _upper(order.get("financial_status")),
        "displayFulfillmentStatus": _FULFILLMENT.get(str(order.get("fulfillment_status")), "UNFULFILLED"),
        "sourceName": order.get("source_name"),
    }
    currency = order.get("currency")
    customer = order.get("customer")
    node["customer"] = ({"id": gid("Customer", customer.get("id")), "firstName": customer.get("first_name"),
                         "lastName": customer.get("last_name")} if isinstance(customer, dict) else customer)
    for key, rest in (("billingAddress", "billing_address"), ("shippingAddress", "shipping_address")):
        address = order.get(rest)
        node[key] = {gql: address.get(wire) for gql, wire in _ADDRESS.items()} if isinstance(address, dict) \
            else address
    for key, rest in _TOTALS.items():
        node[key] = _bag(order, rest, currency, presentment=key in ("currentTotalPriceSet", "totalPriceSet"))
    refunds = order.get("refunds")
    node["refunds"] = [{"id": gid("Refund", r.get("id"))} if isinstance(r, dict) else r for r in refunds] \
        if isinstance(refunds, list) else refunds
    items, lines_read = _connection(order, "line_items", line_items, lambda i: _line_item(i, currency))
    if items is not None:
        node["lineItems"] = items
    shipping, shipping_read = _connection(order, "shipping_lines", shipping_lines,
                                          lambda s: _shipping_line(s, currency))
    if shipping is not None:
        node["shippingLines"] = shipping
    return node, order_cost(lines_read, shipping_read)


def _connection(order: dict[str, Any], key: str, first: int, render: Any) -> tuple[Any, int]:
    if key not in order:
        return None, 0
    entries = order[key]
    if not isinstance(entries, list):
        return {"nodes": entries, "pageInfo": {"hasNextPage": False}}, 0  # a fault test's odd shape, passed on
    page = entries[:first]
    nodes = [render(entry) if isinstance(entry, dict) else entry for entry in page]
    return {"nodes": nodes, "pageInfo": {"hasNextPage": len(entries) > first}}, len(page)


def _line_item(item: dict[str, Any], currency: Any) -> dict[str, Any]:
    return {
        "id": gid("LineItem", item.get("id")), "sku": item.get("sku"), "name": item.get("name"),
        "title": item.get("title"), "variantTitle": item.get("variant_title"), "quantity": item.get("quantity"),
        "currentQuantity": item.get("current_quantity"), "isGiftCard": bool(item.get("gift_card")),
        "originalUnitPriceSet": _bag(item, "price", currency),
        "discountAllocations": _allocations(item.get("discount_allocations"), "amount", "allocatedAmountSet",
                                            currency),
        "taxLines": _allocations(item.get("tax_lines"), "price", "priceSet", currency),
    }


def _shipping_line(line: dict[str, Any], currency: Any) -> dict[str, Any]:
    return {"title": line.get("title"), "code": line.get("code"),
            "originalPriceSet": _bag(line, "price", currency),
            "discountAllocations": _allocations(line.get("discount_allocations"), "amount", "allocatedAmountSet",
                                                currency)}


def _allocations(entries: Any, key: str, gql_key: str, currency: Any) -> Any:
    if not isinstance(entries, list):
        return entries if entries is not None else []
    return [{gql_key: _bag(entry, key, currency)} if isinstance(entry, dict) else entry for entry in entries]


def _bag(obj: dict[str, Any], key: str, currency: Any, *, presentment: bool = False) -> Any:
    """``<key>_set`` as a MoneyBag; without it the plain ``<key>`` in the shop currency; None when neither is there."""
    money_set = obj.get(f"{key}_set")
    if isinstance(money_set, dict):
        bag: dict[str, Any] = {"shopMoney": _money(money_set.get("shop_money"))}
        if presentment:
            bag["presentmentMoney"] = _money(money_set.get("presentment_money"))
        return bag
    if obj.get(key) is None:
        return None
    money = {"amount": obj[key], "currencyCode": currency}
    return {"shopMoney": money, "presentmentMoney": dict(money)} if presentment else {"shopMoney": money}


def _money(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    return {"amount": value.get("amount"), "currencyCode": value.get("currency_code")}


def _utc(value: Any) -> Any:
    """GraphQL's DateTime: UTC with a ``Z``."""
    if not isinstance(value, str):
        return value
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        return value
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value
