"""One Shopify order (a webhook's order JSON, or a GraphQL Admin API node) -> the canonical order.

A GraphQL ``Order`` node is first given the webhook's shape (``_graphql.py`` says how), so both
paths go through the decisions below and give the same canonical order for the same order.

Decisions, in the order a reader meets them:

- Money is the shop's: every amount is read from ``*_set.shop_money`` (or the plain field, which
  is in the shop currency too). The presentment currency and total the customer saw are kept in
  ``presentment_currency`` / ``presentment_total``.
- A line's ``quantity`` is what is still ordered now: ``current_quantity`` (after edits and
  refunds; for API versions without it, ``quantity`` minus refunded quantities). Lines with
  nothing left are dropped from an open order; their Shopify line ids are listed in
  ``references["removed_line_items"]``. Discounts and tax of a partly removed line are prorated.
- ``unit_price`` is the price before discounts; the line's ``discount_allocations`` become one
  allowance ``discount`` on the line. Shipping lines become order charges ``shipping`` with an
  allowance ``shipping_discount`` for their own allocations.
- Tax: with ``taxes_included`` false the order's current tax is one order charge ``tax``; with
  ``taxes_included`` true prices already hold it and no charge is added. Either way the line's
  ``tax_amount`` and the order's ``tax_total`` say how much tax there is.
- ``total`` is what the customer owes now, ``current_total_price``. Whatever the lines and charges
  do not explain (refunded shipping, duties, rounding) is one ``adjustment`` charge or allowance,
  so lines + charges always add up to the total; without refunds that gap is also a warning.
- A cancelled order (``cancelled_at``), or an open one with nothing left on it, is a
  ``cancellation`` carrying the lines as originally ordered, and is not pushed.
- ``test: true`` orders are kept with ``is_test`` and not pushed unless the profile says so.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import partial
from typing import Any

from pydantic import ValidationError

from canonical.model import Charge, ChargeKind, Order, OrderLine, Party, PartyRole, Purpose, Source, order_total
from mappings._channel import BAD_ORDER_ERRORS, OK, REJECTED, MappedOrder, build, unexpected_shape
from mappings.profiles import PartnerProfile
from mappings.shopify._fields import (
    Findings,
    presentment_money,
    prorate,
    shop_money,
    text,
    timestamp,
)
from mappings.shopify._graphql import is_graphql_order, webhook_shape

_ZERO = Decimal(0)
# Canonical line and charge fields -> the Shopify fields they are read from (to locate a refused value).
_LINE_FIELDS = {"line_no": "id", "description": "name", "unit_price": "price", "amount": "price",
                "tax_amount": "tax_lines", "charges": "discount_allocations"}
_CHARGE_FIELDS = {"amount": "price", "description": "title"}


def map_shopify_order(
    data: dict[str, Any], *, profile: PartnerProfile, raw_document_id: str | None = None, document_ref: str = "order",
    timezone: dt.tzinfo | None = None,
) -> MappedOrder:
    """Map one order object; problems are located under ``document_ref`` (e.g. ``data.orders.nodes[3]``).

    A GraphQL node's UTC timestamps are given ``timezone`` (the shop's) first. Never raises for bad
    data: whatever the JSON holds, the result is a mapped or a rejected order.
    """
    if is_graphql_order(data):
        data = webhook_shape(data, timezone=timezone)
    try:
        return _map_order(data, profile=profile, raw_document_id=raw_document_id, document_ref=document_ref)
    except BAD_ORDER_ERRORS as exc:
        order_id = text(data, "id") or ""
        stamp = Findings()
        updated_at = timestamp(data, "updated_at", document_ref, stamp, required=False) if isinstance(data, dict) \
            else None
        return unexpected_shape(exc, channel_order_id=order_id, updated_at=updated_at, where=document_ref)


def _map_order(
    data: dict[str, Any], *, profile: PartnerProfile, raw_document_id: str | None, document_ref: str,
) -> MappedOrder:
    findings = Findings()
    where = document_ref
    order_id = text(data, "id") if isinstance(data, dict) else None
    if order_id is None:
        findings.error(f"{where}.id", "missing order id")
        return _rejected("", None, findings)
    updated_at = timestamp(data, "updated_at", where, findings, required=True)
    created_at = timestamp(data, "created_at", where, findings, required=True)
    currency = text(data, "currency")
    if currency is None or len(currency) != 3 or not currency.isupper():
        findings.error(f"{where}.currency", "missing or not an ISO 4217 code")
    if findings.has_errors or created_at is None or currency is None:
        return _rejected(order_id, updated_at, findings)

    taxes_included = bool(data.get("taxes_included"))
    items = data.get("line_items")
    if not isinstance(items, list) or not items:
        findings.error(f"{where}.line_items", "the order has no line items")
        return _rejected(order_id, updated_at, findings)
    if data.get("line_items_truncated") is True:  # GraphQL: more line items than the query read
        findings.error(f"{where}.line_items", f"more than the {len(items)} line items read: raise line_items_limit")
        return _rejected(order_id, updated_at, findings)

    current, original, removed = _lines(items, data, where, currency, findings)
    charges, tax_total = _charges(data, where, currency, taxes_included, findings)
    total = shop_money(data, "current_total_price", where, findings, currency=currency, required=False)
    if total is None and not findings.has_errors:
        total = shop_money(data, "total_price", where, findings, currency=currency)
    if findings.has_errors or total is None:
        return _rejected(order_id, updated_at, findings)

    cancelled = data.get("cancelled_at") is not None
    purpose = Purpose.CANCELLATION if cancelled or not current else Purpose.ORIGINAL
    lines = current if purpose is Purpose.ORIGINAL else original
    has_refunds = bool(data.get("refunds")) or purpose is not Purpose.ORIGINAL
    charges += _adjustment(lines, charges, total, has_refunds=has_refunds, where=where, findings=findings)

    presentment = presentment_money(data, "current_total_price") or presentment_money(data, "total_price")
    references = _references(data, removed)
    dates: dict[str, dt.date] = {}
    for key, meaning in (("processed_at", "processed"), ("cancelled_at", "cancelled")):
        if moment := timestamp(data, key, where, findings, required=False):
            dates[meaning] = moment.date()
    is_test = bool(data.get("test"))
    try:
        order = Order(
            source=Source.SHOPIFY,
            source_ref=order_id,
            partner_id=profile.id,
            purpose=purpose,
            order_date=created_at.date(),
            currency=currency,
            parties=_parties(data),
            lines=lines,
            charges=charges,
            total=total,
            taxes_included=taxes_included,
            tax_total=tax_total,
            presentment_currency=presentment[1] if presentment and presentment[1] != currency else None,
            presentment_total=presentment[0] if presentment and presentment[1] != currency else None,
            dates=dates,
            references=references,
            is_test=is_test,
            raw_document_id=raw_document_id,
            document_ref=document_ref,
            warnings=[str(p) for p in findings.problems if p.severity == "warning"],
        )
    except ValidationError as exc:
        for error in exc.errors():
            location = ".".join(str(part) for part in error["loc"])
            findings.error(f"{where} (canonical {location})", error["msg"])
        return _rejected(order_id, updated_at, findings)
    if breaches := profile.limits.breaches(order):  # implausible amounts (HUB_MAX_*, the profile's amount_limits)
        for breach in breaches:
            findings.error(where, breach.message)
        return _rejected(order_id, updated_at, findings)

    push, reason = True, None
    if is_test and not (profile.shopify and profile.shopify.push_test_orders):
        push, reason = False, "test order"
    elif cancelled:
        push, reason = False, "cancelled in Shopify"
    elif purpose is Purpose.CANCELLATION:
        push, reason = False, "every line was removed or refunded"
    return MappedOrder(order_id, updated_at, order, OK, [str(p) for p in findings.problems], push, reason,
                       findings=findings.problems)


def _rejected(order_id: str, updated_at: dt.datetime | None, findings: Findings) -> MappedOrder:
    return MappedOrder(order_id, updated_at, None, REJECTED, [str(p) for p in findings.problems], False,
                       "could not be mapped", findings=findings.problems)


def _refunded_quantities(data: dict[str, Any], where: str, findings: Findings) -> dict[str, Decimal]:
    refunded: dict[str, Decimal] = {}
    refunds = data.get("refunds") or []
    if not isinstance(refunds, list):
        findings.error(f"{where}.refunds", "not a list of refunds")
        return refunded
    for r, refund in enumerate(refunds):
        items = refund.get("refund_line_items") if isinstance(refund, dict) else None
        if not isinstance(items or [], list):
            findings.error(f"{where}.refunds[{r}].refund_line_items", "not a list")
            continue
        for item in items or []:
            line_id = text(item, "line_item_id")
            if line_id is not None and isinstance(item.get("quantity"), int):
                refunded[line_id] = refunded.get(line_id, _ZERO) + item["quantity"]
    return refunded


def _lines(
    items: list[Any], data: dict[str, Any], where: str, currency: str, findings: Findings
) -> tuple[list[OrderLine], list[OrderLine], list[str]]:
    """(lines as they stand now, lines as first ordered, ids of lines with nothing left)."""
    refunded = _refunded_quantities(data, where, findings)
    current: list[OrderLine] = []
    original: list[OrderLine] = []
    removed: list[str] = []
    for i, item in enumerate(items):
        at = f"{where}.line_items[{i}]"
        if not isinstance(item, dict):
            findings.error(at, "not an object")
            continue
        line_id = text(item, "id") or str(i + 1)
        ordered = item.get("quantity")
        if not isinstance(ordered, int) or isinstance(ordered, bool) or ordered <= 0:
            findings.error(f"{at}.quantity", "missing or not a positive whole number")
            continue
        now = item.get("current_quantity")
        if now is None:
            now = max(0, ordered - int(refunded.get(line_id, _ZERO)))
        elif not isinstance(now, int) or isinstance(now, bool) or not 0 <= now <= ordered:
            findings.error(f"{at}.current_quantity", f"must be a whole number from 0 to {ordered}")
            continue
        price = shop_money(item, "price", at, findings, currency=currency)
        discount = _sum(item.get("discount_allocations"), "amount", f"{at}.discount_allocations", currency, findings)
        tax = _sum(item.get("tax_lines"), "price", f"{at}.tax_lines", currency, findings)
        if price is None or discount is None or tax is None:
            continue
        has_tax = bool(item.get("tax_lines"))
        description = text(item, "name") or text(item, "title")
        sku = text(item, "sku")
        if sku is None and not item.get("gift_card"):
            findings.warning(f"{at}.sku", "line without a SKU")

        def line(quantity: int, *, description=description, sku=sku, price=price, discount=discount,
                 tax=tax, ordered=ordered, line_id=line_id, has_tax=has_tax, at=at) -> OrderLine | None:
            qty = Decimal(quantity)
            line_discount = prorate(discount, qty, Decimal(ordered), like=price)
            line_tax = prorate(tax, qty, Decimal(ordered), like=price) if has_tax else None
            charges = []
            if line_discount:
                charge = build(lambda: Charge(kind=ChargeKind.ALLOWANCE, code="discount", amount=line_discount),
                               findings, f"{at}.discount_allocations")
                if charge is None:
                    return None
                charges.append(charge)
            return build(lambda: OrderLine(
                line_no=line_id, sku=sku, description=description, quantity=qty, unit_price=price,
                amount=qty * price, tax_amount=line_tax, charges=charges,
            ), findings, at, _LINE_FIELDS)

        try:
            as_ordered, as_now = line(ordered), (line(now) if now else None)
        except ArithmeticError:
            # e.g. a price with 30 decimals: prorating it exceeds what Decimal computes exactly.
            findings.error(at, "amounts with more decimals than can be computed exactly")
            continue
        if as_ordered is None or (now and as_now is None):
            continue
        original.append(as_ordered)
        if as_now is None:
            removed.append(line_id)
        else:
            current.append(as_now)
    return current, original, removed


def _sum(entries: Any, key: str, at: str, currency: str, findings: Findings) -> Decimal | None:
    if entries is None:
        return _ZERO
    if not isinstance(entries, list):
        findings.error(at, "not a list")
        return None
    total = _ZERO
    for j, entry in enumerate(entries):
        amount = shop_money(entry, key, f"{at}[{j}]", findings, currency=currency) if isinstance(entry, dict) else None
        if amount is None:
            if not isinstance(entry, dict):
                findings.error(f"{at}[{j}]", "not an object")
            return None
        total += amount
    return total


def _charges(
    data: dict[str, Any], where: str, currency: str, taxes_included: bool, findings: Findings
) -> tuple[list[Charge], Decimal | None]:
    charges: list[Charge | None] = []  # None: a charge refused by validation (its finding is recorded)
    shipping_lines = data.get("shipping_lines") or []
    if not isinstance(shipping_lines, list):
        findings.error(f"{where}.shipping_lines", "not a list")
        shipping_lines = []
    for j, shipping in enumerate(shipping_lines):
        at = f"{where}.shipping_lines[{j}]"
        if not isinstance(shipping, dict):
            findings.error(at, "not an object")
            continue
        price = shop_money(shipping, "price", at, findings, currency=currency)
        discount = _sum(shipping.get("discount_allocations"), "amount", f"{at}.discount_allocations", currency,
                        findings)
        title = text(shipping, "title") or text(shipping, "code")
        # partial, not a lambda: the loop's variables are bound now (build calls it at once anyway).
        if price:
            charges.append(build(partial(Charge, kind=ChargeKind.CHARGE, code="shipping", amount=price,
                                         description=title), findings, at, _CHARGE_FIELDS))
        if discount:
            charges.append(build(partial(Charge, kind=ChargeKind.ALLOWANCE, code="shipping_discount",
                                         amount=discount, description=title),
                                 findings, f"{at}.discount_allocations", _CHARGE_FIELDS))
    charges = [charge for charge in charges if charge is not None]
    tax = shop_money(data, "current_total_tax", where, findings, currency=currency, required=False)
    if tax is None and data.get("total_tax") is not None:
        tax = shop_money(data, "total_tax", where, findings, currency=currency)
    if tax and not taxes_included:
        charges.append(build(partial(Charge, kind=ChargeKind.CHARGE, code="tax", amount=tax), findings,
                             f"{where}.current_total_tax"))
    for key, code in (("current_total_duties", "duties"), ("current_total_additional_fees", "additional_fees")):
        amount = shop_money(data, key, where, findings, currency=currency, required=False)
        if amount:
            charges.append(build(partial(Charge, kind=ChargeKind.CHARGE, code=code, amount=amount), findings,
                                 f"{where}.{key}"))
    return [charge for charge in charges if charge is not None], tax


def _adjustment(lines: list[OrderLine], charges: list[Charge], total: Decimal, *, has_refunds: bool, where: str,
                findings: Findings) -> list[Charge]:
    gap = total - order_total(lines, charges)
    if not gap:
        return []
    if not has_refunds:
        findings.warning(f"{where}.current_total_price",
                         f"lines and charges add up to {total - gap}, Shopify's current total is {total}")
    return [Charge(kind=ChargeKind.CHARGE if gap > 0 else ChargeKind.ALLOWANCE, code="adjustment", amount=abs(gap),
                   description="difference to Shopify's current total (refunds, fees or rounding)")]


def _references(data: dict[str, Any], removed: list[str]) -> dict[str, str]:
    references = {key: value for key in ("name", "order_number", "financial_status", "fulfillment_status",
                                         "source_name", "cancel_reason")
                  if (value := text(data, key)) is not None}
    if removed:
        references["removed_line_items"] = ",".join(removed)
    return references


def _parties(data: dict[str, Any]) -> list[Party]:
    parties: list[Party] = []
    customer = data.get("customer")
    billing = data.get("billing_address") if isinstance(data.get("billing_address"), dict) else None
    if isinstance(customer, dict) and text(customer, "id"):
        name = " ".join(p for p in (text(customer, "first_name"), text(customer, "last_name")) if p) or None
        parties.append(Party(role=PartyRole.BUYER, id=text(customer, "id"), id_qualifier="shopify_customer",
                             name=name or (text(billing, "name") if billing else None)))
    if billing:
        parties.append(_address_party(PartyRole.BILL_TO, billing))
    shipping = data.get("shipping_address")
    if isinstance(shipping, dict):  # absent for gift cards and digital goods
        parties.append(_address_party(PartyRole.SHIP_TO, shipping))
    return parties


def _address_party(role: PartyRole, address: dict[str, Any]) -> Party:
    name = text(address, "name") or " ".join(
        p for p in (text(address, "first_name"), text(address, "last_name")) if p) or None
    return Party(
        role=role,
        name=name,
        address_lines=[line for key in ("company", "address1", "address2") if (line := text(address, key))],
        city=text(address, "city"),
        region=text(address, "province_code") or text(address, "province"),
        postal_code=text(address, "zip"),
        country=text(address, "country_code") or text(address, "country"),
    )
