"""A GraphQL Admin API ``Order`` node -> the order JSON of a webhook, which ``_order.py`` maps.

Both ways of reading an order must produce the same canonical order, so the node is translated
into the webhook (REST-shaped) order and mapped by the one mapper. The decisions:

- The channel order id is the numeric id (``legacyResourceId``, else the tail of the
  ``gid://shopify/Order/<id>`` global id): the id webhooks carry and orders were stored under, so
  an order read by either path, before or after the move to GraphQL, is one order in the store.
  Line item and customer ids likewise keep their numeric form.
- Timestamps: GraphQL sends UTC, webhooks the shop's local offset. With the shop's
  ``ianaTimezone`` (queried with the orders) they are given the shop's offset, so the order date
  is the shop's calendar date on both paths; without it they stay UTC.
- Money: ``*Set.shopMoney`` -> ``*_set.shop_money`` (amounts stay strings, read as Decimal by the
  mapper); ``originalUnitPriceSet`` is a line's ``price``, ``allocatedAmountSet`` a discount
  allocation's ``amount``, a tax line's ``priceSet`` its ``price``. GraphQL's Decimal drops
  trailing zeros (``"44.0"`` where webhooks say ``"44.00"``); the mapper rounds prorated amounts to
  the decimals prices are given in, so amounts are padded with zeros to the currency's minor unit
  (ISO 4217: 0 for JPY and the like, 3 for KWD and the like, else 2), never rounded.
- Enums as webhooks spell them: ``displayFinancialStatus`` ``PARTIALLY_REFUNDED`` ->
  ``partially_refunded``; ``displayFulfillmentStatus`` ``FULFILLED``/``PARTIALLY_FULFILLED``/
  ``RESTOCKED`` -> ``fulfilled``/``partial``/``restocked``, anything else (nothing fulfilled yet) -> null.
- A value of an unexpected type is passed on untouched, so the mapper reports it where it found it.
  Problems are located by the webhook field names under the node's path
  (``data.orders.nodes[3].line_items[0].sku`` for ``lineItems.nodes[0].sku``).
- An order whose line items did not fit in one query (``lineItems.pageInfo.hasNextPage``) is
  marked ``line_items_truncated``: the mapper rejects it rather than store part of it.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal, InvalidOperation
from typing import Any

_GID_PREFIX = "gid://shopify/"
_FULFILLMENT = {"FULFILLED": "fulfilled", "PARTIALLY_FULFILLED": "partial", "RESTOCKED": "restocked"}
_ADDRESS = {"name": "name", "firstName": "first_name", "lastName": "last_name", "company": "company",
            "address1": "address1", "address2": "address2", "city": "city", "province": "province",
            "provinceCode": "province_code", "zip": "zip", "country": "country", "countryCodeV2": "country_code"}
_TOTALS = {"currentTotalPriceSet": "current_total_price_set", "totalPriceSet": "total_price_set",
           "currentTotalTaxSet": "current_total_tax_set", "totalTaxSet": "total_tax_set",
           "currentTotalDutiesSet": "current_total_duties_set",
           "currentTotalAdditionalFeesSet": "current_total_additional_fees_set"}
# ISO 4217 currencies whose minor unit is not cents (Shopify's shop currencies among them).
_NO_DECIMALS = frozenset("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX VND VUV XAF XOF XPF".split())
_THREE_DECIMALS = frozenset("BHD IQD JOD KWD LYD OMR TND".split())
_TIMESTAMPS = {"createdAt": "created_at", "updatedAt": "updated_at", "processedAt": "processed_at",
               "cancelledAt": "cancelled_at"}


def is_graphql_order(obj: Any) -> bool:
    """Whether ``obj`` is a GraphQL ``Order`` node (rather than a webhook / REST order)."""
    return isinstance(obj, dict) and (
        "legacyResourceId" in obj or str(obj.get("id") or "").startswith(f"{_GID_PREFIX}Order/"))


def shop_timezone(name: Any) -> dt.tzinfo | None:
    """The shop's zone from ``shop.ianaTimezone``; None when absent or unknown."""
    if not isinstance(name, str) or not name.strip():
        return None
    try:
        return zoneinfo.ZoneInfo(name.strip())
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def numeric_id(value: Any) -> Any:
    """``gid://shopify/LineItem/123`` -> ``"123"``; anything else as it is."""
    if isinstance(value, str) and value.startswith(_GID_PREFIX):
        tail = value.rsplit("/", 1)[-1].split("?", 1)[0]
        return tail if tail.isdigit() else value
    return value


def webhook_shape(node: dict[str, Any], *, timezone: dt.tzinfo | None = None) -> dict[str, Any]:
    """The order as a webhook would carry it, from a GraphQL ``Order`` node (see the module's decisions)."""
    legacy = node.get("legacyResourceId")
    order: dict[str, Any] = {
        "id": str(legacy) if isinstance(legacy, (str, int)) and str(legacy).isdigit() else numeric_id(node.get("id")),
        "admin_graphql_api_id": node.get("id"),
        "name": node.get("name"),
        "order_number": node.get("number"),
        "currency": node.get("currencyCode"),
        "presentment_currency": node.get("presentmentCurrencyCode"),
        "taxes_included": node.get("taxesIncluded"),
        "test": node.get("test"),
        "financial_status": _lower(node.get("displayFinancialStatus")),
        "fulfillment_status": _FULFILLMENT.get(str(node.get("displayFulfillmentStatus"))),
        "source_name": node.get("sourceName"),
        "cancel_reason": _lower(node.get("cancelReason")),
    }
    for key, rest in _TIMESTAMPS.items():
        order[rest] = _local(node.get(key), timezone)
    for key, rest in _TOTALS.items():
        if (money := _money_set(node.get(key))) is not None:
            order[rest] = money
    customer = node.get("customer")
    if isinstance(customer, dict):
        order["customer"] = {"id": numeric_id(customer.get("id")), "first_name": customer.get("firstName"),
                             "last_name": customer.get("lastName")}
    for key, rest in (("billingAddress", "billing_address"), ("shippingAddress", "shipping_address")):
        address = node.get(key)
        order[rest] = ({wire: address.get(gql) for gql, wire in _ADDRESS.items()} if isinstance(address, dict)
                       else address)
    refunds = node.get("refunds")
    order["refunds"] = [{"id": numeric_id(r.get("id"))} if isinstance(r, dict) else r for r in refunds] \
        if isinstance(refunds, list) else refunds
    if "lineItems" in node:
        order["line_items"], order["line_items_truncated"] = _connection(node["lineItems"], _line_item)
    if "shippingLines" in node:
        order["shipping_lines"], _ = _connection(node["shippingLines"], _shipping_line)
    return order


def _connection(value: Any, translate: Any) -> tuple[Any, bool]:
    """``{nodes: [...], pageInfo: {hasNextPage}}`` -> (translated list, more than read); other shapes as they are."""
    if not isinstance(value, dict) or not isinstance(value.get("nodes"), list):
        return value, False
    info = value.get("pageInfo")
    more = isinstance(info, dict) and info.get("hasNextPage") is True
    return [translate(item) if isinstance(item, dict) else item for item in value["nodes"]], more


def _line_item(item: dict[str, Any]) -> dict[str, Any]:
    line: dict[str, Any] = {
        "id": numeric_id(item.get("id")), "sku": item.get("sku"), "name": item.get("name"),
        "title": item.get("title"), "variant_title": item.get("variantTitle"), "quantity": item.get("quantity"),
        "current_quantity": item.get("currentQuantity"), "gift_card": item.get("isGiftCard"),
        "discount_allocations": _list(item.get("discountAllocations"), "allocatedAmountSet", "amount"),
        "tax_lines": _list(item.get("taxLines"), "priceSet", "price"),
    }
    if (price := _money_set(item.get("originalUnitPriceSet"))) is not None:
        line["price_set"] = price
    return line


def _shipping_line(item: dict[str, Any]) -> dict[str, Any]:
    line: dict[str, Any] = {"title": item.get("title"), "code": item.get("code"),
                            "discount_allocations": _list(item.get("discountAllocations"), "allocatedAmountSet",
                                                          "amount")}
    if (price := _money_set(item.get("originalPriceSet"))) is not None:
        line["price_set"] = price
    return line


def _list(entries: Any, money_key: str, rest_key: str) -> Any:
    """Objects with one MoneyBag (``[{allocatedAmountSet}]`` -> ``[{amount_set}]``); other shapes as they are."""
    if not isinstance(entries, list):
        return entries
    out: list[Any] = []
    for entry in entries:
        if not isinstance(entry, dict):
            out.append(entry)
            continue
        money = _money_set(entry.get(money_key))
        out.append({f"{rest_key}_set": money} if money is not None else {})
    return out


def _money_set(bag: Any) -> dict[str, Any] | None:
    """``{shopMoney: {amount, currencyCode}, ...}`` -> ``{shop_money: {amount, currency_code}, ...}``."""
    if bag is None:
        return None
    if not isinstance(bag, dict):
        return {"shop_money": bag}  # the mapper reports it where it expected an amount
    money: dict[str, Any] = {}
    for gql, rest in (("shopMoney", "shop_money"), ("presentmentMoney", "presentment_money")):
        value = bag.get(gql)
        if isinstance(value, dict):
            code = value.get("currencyCode")
            money[rest] = {"amount": _padded(value.get("amount"), code), "currency_code": code}
        elif value is not None:
            money[rest] = value
    return money


def _padded(amount: Any, currency: Any) -> Any:
    """``"44.0"`` -> ``"44.00"`` in a two-decimal currency; more decimals, or no number, as it is."""
    if not isinstance(amount, str):
        return amount
    try:
        number = Decimal(amount.strip())
    except InvalidOperation:
        return amount
    exponent = number.as_tuple().exponent
    if not number.is_finite() or not isinstance(exponent, int):
        return amount
    minor = 0 if currency in _NO_DECIMALS else 3 if currency in _THREE_DECIMALS else 2
    return str(number.quantize(Decimal(1).scaleb(-minor))) if -exponent < minor else amount


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _local(value: Any, timezone: dt.tzinfo | None) -> Any:
    """A UTC timestamp with the shop's offset (as webhooks carry it); anything unreadable as it is."""
    if timezone is None or not isinstance(value, str):
        return value
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        return value
    return moment.astimezone(timezone).isoformat()
