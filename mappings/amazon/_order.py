"""One marketplace order (a getOrders entry and its getOrderItems items) -> the canonical order.

Amazon's amounts are per order item and per kind: ``ItemPrice`` is the line total (unit price times
quantity), ``ItemTax`` its tax (also summed into the line's ``tax_amount``), ``ShippingPrice``/``ShippingTax``
the item's share of shipping, ``PromotionDiscount``/``ShippingDiscount`` (and their taxes) what promotions
took off. They become the line's amount and its charges and allowances; ``OrderTotal`` is what the buyer pays.

What is decided here, in the order's own words (``MappedOrder``):
- ``Pending`` orders come without prices and address: they are held until a later version has both;
- ``Canceled`` orders map to purpose ``cancellation`` and are never pushed;
- orders fulfilled by the marketplace (``FulfillmentChannel`` AFN) are recorded but not pushed to
  our warehouse;
- addresses without the Restricted Data Token carry city, region, postal code and country only.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from functools import partial
from typing import Any

from pydantic import ValidationError

from canonical.model import (
    Charge,
    ChargeKind,
    Contact,
    Order,
    OrderLine,
    Party,
    PartyRole,
    Purpose,
    Source,
    order_total,
)
from mappings._channel import BAD_ORDER_ERRORS, HELD, OK, REJECTED, MappedOrder, build, unexpected_shape
from mappings.amazon._fields import Findings, money, text, timestamp
from mappings.profiles import PartnerProfile

PENDING_STATUSES = frozenset({"Pending", "PendingAvailability"})
CANCELLED_STATUS = "Canceled"
MARKETPLACE_FULFILLED = "AFN"

# OrderItem Money fields -> (charge kind, canonical code). ItemPrice itself is the line amount.
_ITEM_CHARGES: tuple[tuple[str, ChargeKind, str], ...] = (
    ("ItemTax", ChargeKind.CHARGE, "item_tax"),
    ("ShippingPrice", ChargeKind.CHARGE, "shipping"),
    ("ShippingTax", ChargeKind.CHARGE, "shipping_tax"),
    ("PromotionDiscount", ChargeKind.ALLOWANCE, "promotion"),
    ("PromotionDiscountTax", ChargeKind.ALLOWANCE, "promotion_tax"),
    ("ShippingDiscount", ChargeKind.ALLOWANCE, "shipping_discount"),
    ("ShippingDiscountTax", ChargeKind.ALLOWANCE, "shipping_discount_tax"),
    ("CODFee", ChargeKind.CHARGE, "cod_fee"),
    ("CODFeeDiscount", ChargeKind.ALLOWANCE, "cod_fee_discount"),
)
# Order fields copied to Order.references (booleans as "true"/"false"), under our own names.
_REFERENCES: tuple[tuple[str, str], ...] = (
    ("MarketplaceId", "marketplace_id"),
    ("SalesChannel", "sales_channel"),
    ("FulfillmentChannel", "fulfillment_channel"),
    ("OrderStatus", "order_status"),
    ("SellerOrderId", "seller_order_id"),
    ("ShipServiceLevel", "ship_service_level"),
    ("ShipmentServiceLevelCategory", "shipment_service_level_category"),
    ("ReplacedOrderId", "replaced_order_id"),
    ("IsBusinessOrder", "is_business_order"),
    ("IsPrime", "is_prime"),
    ("IsPremiumOrder", "is_premium_order"),
    ("IsReplacementOrder", "is_replacement_order"),
    ("IsGlobalExpressEnabled", "is_global_express"),
    ("IsISPU", "is_store_pickup"),
    ("IsAccessPointOrder", "is_access_point_order"),
)
_DATES: tuple[tuple[str, str], ...] = (
    ("EarliestShipDate", "earliest_ship"),
    ("LatestShipDate", "latest_ship"),
    ("EarliestDeliveryDate", "earliest_delivery"),
    ("LatestDeliveryDate", "latest_delivery"),
)
# Tax charges and the allowances that give tax back: their net is the line's tax_amount.
_TAX_SIGNS = {"item_tax": 1, "shipping_tax": 1, "promotion_tax": -1, "shipping_discount_tax": -1}
_UNIT_PRICE_PLACES = Decimal("0.0001")
_MAX_TEXT = 1000
# Canonical line fields -> the OrderItem fields they are read from (to locate a refused value).
_LINE_FIELDS = {"line_no": "OrderItemId", "sku": "SellerSKU", "buyer_part": "ASIN", "description": "Title",
                "quantity": "QuantityOrdered", "unit_price": "ItemPrice", "amount": "ItemPrice",
                "tax_amount": "ItemTax"}


def map_amazon_order(
    order: dict[str, Any],
    items: list[dict[str, Any]],
    *,
    profile: PartnerProfile,
    raw_document_id: str | None,
    document_ref: str | None = None,
    items_ref: str | None = None,
) -> MappedOrder:
    """Map a getOrders ``Order`` and its getOrderItems ``OrderItems`` (all pages, in order) to a MappedOrder.

    ``document_ref`` locates the order in its raw page (e.g. ``payload.Orders[3]``), ``items_ref`` the
    items list (e.g. ``orderItems(123-1234567-1234567).payload.OrderItems``); problems use them.
    Never raises for bad data: whatever the JSON holds, the result is a mapped, held or rejected order.
    """
    try:
        return _map_order(order, items, profile=profile, raw_document_id=raw_document_id, document_ref=document_ref,
                          items_ref=items_ref)
    except BAD_ORDER_ERRORS as exc:
        where = document_ref or "payload.Orders[?]"
        order_id = (text(order, "AmazonOrderId") if isinstance(order, dict) else None) or ""
        updated_at = timestamp(order, "LastUpdateDate", where, Findings(), required=False) \
            if isinstance(order, dict) else None
        return unexpected_shape(exc, channel_order_id=order_id, updated_at=updated_at, where=where)


def _map_order(
    order: dict[str, Any], items: list[Any], *, profile: PartnerProfile, raw_document_id: str | None,
    document_ref: str | None, items_ref: str | None,
) -> MappedOrder:
    where = document_ref or "payload.Orders[?]"
    items_where = items_ref or "payload.OrderItems"
    findings = Findings()
    order_id = text(order, "AmazonOrderId") or ""
    if not order_id:
        findings.error(f"{where}.AmazonOrderId", "missing")
    updated_at = timestamp(order, "LastUpdateDate", where, findings, required=True)
    purchased_at = timestamp(order, "PurchaseDate", where, findings, required=True)
    status = text(order, "OrderStatus")
    if status is None:
        findings.error(f"{where}.OrderStatus", "missing")
    if findings.has_errors:
        return _rejected(order_id, updated_at, findings)
    assert purchased_at is not None  # noqa: S101 - has_errors covers it; narrows the type

    cancelled = status == CANCELLED_STATUS
    marketplace_fulfilled = text(order, "FulfillmentChannel") == MARKETPLACE_FULFILLED
    order_total_money = money(order, "OrderTotal", where, findings)
    address = order.get("ShippingAddress") if isinstance(order.get("ShippingAddress"), dict) else None

    if status in PENDING_STATUSES:
        missing = _missing_for_pending(order_total_money, address, items)
        if missing:
            findings.note(where, f"held: order is {status}, waiting for {' and '.join(missing)}")
            return MappedOrder(order_id, updated_at, None, HELD, _strings(findings), False,
                               f"pending: waiting for {' and '.join(missing)}", findings=findings.problems)
    if not items:
        findings.error(items_where, "the order has no items")
        return _rejected(order_id, updated_at, findings)

    currency = order_total_money[1] if order_total_money else _first_item_currency(items) or profile.currency
    lines = _lines(items, items_where, currency, cancelled=cancelled, findings=findings)
    if findings.has_errors:
        return _rejected(order_id, updated_at, findings)

    total = order_total_money[0] if order_total_money else order_total(lines, [])
    if order_total_money and lines and not cancelled:
        computed = order_total(lines, [])
        if computed != total:
            findings.warning(
                f"{where}.OrderTotal",
                f"OrderTotal {total} differs from the items' prices, taxes and discounts ({computed})",
            )
    if not cancelled and not marketplace_fulfilled:
        _check_address(address, where, findings)

    reason = None
    if cancelled:
        reason = "cancelled by the marketplace"
        findings.note(f"{where}.OrderStatus", "cancelled: not sent to the warehouse")
    elif marketplace_fulfilled:
        reason = "fulfilled by the marketplace (AFN)"
        findings.note(f"{where}.FulfillmentChannel", "AFN: fulfilled by the marketplace, not sent to our warehouse")

    if not lines:
        # A cancelled order whose items all show QuantityOrdered 0: nothing left to express as lines.
        findings.note(items_where, "every item shows quantity 0: the cancellation carries no lines")
        return MappedOrder(order_id, updated_at, None, OK, _strings(findings), False, reason,
                           cancelled=True, findings=findings.problems)

    dates = _dates(order, where, findings)
    try:
        canonical = Order(
            source=Source.AMAZON,
            source_ref=order_id,
            partner_id=profile.id,
            purpose=Purpose.CANCELLATION if cancelled else Purpose.ORIGINAL,
            order_type=text(order, "OrderType"),
            order_date=purchased_at.astimezone(dt.UTC).date(),
            currency=currency,
            parties=_parties(order, address),
            lines=lines,
            total=total,
            # US marketplace prices exclude tax: it is added as item/shipping tax charges.
            taxes_included=False,
            tax_total=_tax_total(lines),
            dates=dates,
            references=_references(order, profile),
            raw_document_id=raw_document_id,
            document_ref=document_ref,
            warnings=[str(p) for p in findings.warnings],
        )
    except ValidationError as exc:
        for error in exc.errors():
            findings.error(f"{where} ({'.'.join(str(p) for p in error['loc'])})", error["msg"])
        return _rejected(order_id, updated_at, findings)
    if breaches := profile.limits.breaches(canonical):  # implausible amounts (HUB_MAX_*, the profile's amount_limits)
        for breach in breaches:
            findings.error(where, breach.message)
        return _rejected(order_id, updated_at, findings)
    return MappedOrder(order_id, updated_at, canonical, OK, _strings(findings), reason is None, reason,
                       cancelled=cancelled, findings=findings.problems)


def rejected_order(order: dict[str, Any], location: str, message: str) -> MappedOrder:
    """An order rejected before mapping (e.g. an id its items cannot be asked for), with one located problem."""
    findings = Findings()
    findings.error(location, message)
    updated_at = timestamp(order, "LastUpdateDate", location, Findings(), required=False)
    return _rejected(text(order, "AmazonOrderId") or "", updated_at, findings)


def _rejected(order_id: str, updated_at: dt.datetime | None, findings: Findings) -> MappedOrder:
    return MappedOrder(order_id, updated_at, None, REJECTED, _strings(findings), False,
                       "rejected: cannot be mapped", findings=findings.problems)


def _strings(findings: Findings) -> list[str]:
    return [str(p) for p in findings.problems]


def _missing_for_pending(
    total: tuple[Decimal, str] | None, address: dict[str, Any] | None, items: list[dict[str, Any]]
) -> list[str]:
    missing = []
    priced = bool(items) and all(
        isinstance(i, dict) and isinstance(i.get("ItemPrice"), dict) and i["ItemPrice"].get("Amount") is not None
        for i in items
    )
    if total is None or not priced:
        missing.append("prices")
    if address is None:
        missing.append("an address")
    return missing


def _first_item_currency(items: list[dict[str, Any]]) -> str | None:
    for item in items:
        price = item.get("ItemPrice") if isinstance(item, dict) else None
        if isinstance(price, dict) and isinstance(price.get("CurrencyCode"), str):
            return price["CurrencyCode"]
    return None


def _lines(
    items: list[dict[str, Any]], items_where: str, currency: str, *, cancelled: bool, findings: Findings
) -> list[OrderLine]:
    lines = []
    for index, item in enumerate(items):
        where = f"{items_where}[{index}]"
        if not isinstance(item, dict):
            findings.error(where, "not an OrderItem object")
            continue
        item_id = text(item, "OrderItemId")
        if item_id is None:
            findings.error(f"{where}.OrderItemId", "missing")
        quantity = item.get("QuantityOrdered")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            findings.error(f"{where}.QuantityOrdered", f"not a whole quantity: {str(quantity)[:20]!r}")
            continue
        if item_id is None:
            continue
        if quantity == 0:
            # Amazon zeroes the quantity of a cancelled item; the other items still stand.
            if not cancelled:
                findings.warning(f"{where}.QuantityOrdered", f"item {item_id} shows quantity 0 (cancelled): left out")
            continue
        price = money(item, "ItemPrice", where, findings)
        if price is None and not cancelled:
            findings.error(f"{where}.ItemPrice", "missing: an item that is not cancelled must have a price")
            continue
        charges: list[Charge] = []
        for key, kind, code in _ITEM_CHARGES:
            value = money(item, key, where, findings)
            if value is None:
                continue
            charge_amount, charge_currency = value
            if charge_currency != currency:
                findings.error(f"{where}.{key}.CurrencyCode", f"{charge_currency} differs from the order's {currency}")
                continue
            if charge_amount < 0:
                # Some marketplaces send discounts as negative amounts; the canonical amount is positive.
                charge_amount = -charge_amount
            if charge_amount:
                charge = build(partial(Charge, kind=kind, code=code, amount=charge_amount), findings, f"{where}.{key}")
                if charge is not None:
                    charges.append(charge)
        taxes = [c for c in charges if c.code in _TAX_SIGNS]
        tax_amount = sum((_TAX_SIGNS[c.code] * c.amount for c in taxes), Decimal(0)) if taxes else None
        if tax_amount is not None and tax_amount < 0:
            findings.warning(f"{where}.PromotionDiscountTax", f"tax given back exceeds the tax charged ({tax_amount})")
            tax_amount = None
        amount = unit_price = None
        if price is not None:
            amount, price_currency = price
            if price_currency != currency:
                findings.error(
                    f"{where}.ItemPrice.CurrencyCode", f"{price_currency} differs from the order's {currency}"
                )
                continue
            unit_price = _unit_price(amount, quantity, where, findings)
        # partial, not a lambda: the loop's variables are bound now (build calls it at once anyway).
        line = build(partial(
            OrderLine,
            line_no=item_id,
            sku=text(item, "SellerSKU"),
            buyer_part=text(item, "ASIN"),
            description=(text(item, "Title") or "")[:_MAX_TEXT] or None,
            quantity=Decimal(quantity),
            unit_price=unit_price,
            amount=amount,
            tax_amount=tax_amount,
            charges=charges,
        ), findings, where, _LINE_FIELDS)
        if line is not None:
            lines.append(line)
    return lines


def _tax_total(lines: list[OrderLine]) -> Decimal | None:
    taxes = [line.tax_amount for line in lines if line.tax_amount is not None]
    return sum(taxes, Decimal(0)) if taxes else None


def _unit_price(amount: Decimal, quantity: int, where: str, findings: Findings) -> Decimal | None:
    if amount < 0:
        findings.error(f"{where}.ItemPrice.Amount", "negative price")
        return None
    with localcontext() as context:
        context.prec = 50
        unit = amount / quantity
        if unit * quantity == amount:
            return unit
        rounded = unit.quantize(_UNIT_PRICE_PLACES, rounding=ROUND_HALF_EVEN)
    # The line amount stays Amazon's exact ItemPrice; only the per-unit figure is rounded.
    findings.warning(
        f"{where}.ItemPrice.Amount",
        f"{amount} for {quantity} does not divide evenly: unit price rounded to {rounded}, line amount kept exact",
    )
    return rounded


def _check_address(address: dict[str, Any] | None, where: str, findings: Findings) -> None:
    if address is None:
        findings.warning(f"{where}.ShippingAddress", "missing: the warehouse has no destination for this order")
    elif not text(address, "AddressLine1"):
        findings.warning(
            f"{where}.ShippingAddress",
            "restricted: no name or street without a Restricted Data Token (city, region, postal code, country only)",
        )


def _parties(order: dict[str, Any], address: dict[str, Any] | None) -> list[Party]:
    parties = []
    if address is not None:
        parties.append(_party(PartyRole.SHIP_TO, address))
    ship_from = order.get("DefaultShipFromLocationAddress")
    if isinstance(ship_from, dict):
        parties.append(_party(PartyRole.SHIP_FROM, ship_from))
    return parties


def _party(role: PartyRole, address: dict[str, Any]) -> Party:
    # Name and street are restricted data: present only when fetched with a Restricted Data Token.
    keys = ("AddressLine1", "AddressLine2", "AddressLine3")
    lines = [line[:_MAX_TEXT] for key in keys if (line := text(address, key))]
    name = text(address, "Name")
    phone = text(address, "Phone")  # restricted too; the carrier needs it on the label
    return Party(
        role=role,
        name=name[:_MAX_TEXT] if name else None,
        address_lines=lines,
        contacts=[Contact(phone=phone[:80])] if phone else [],
        city=text(address, "City"),
        region=text(address, "StateOrRegion"),
        postal_code=(text(address, "PostalCode") or "")[:80] or None,
        country=text(address, "CountryCode"),
    )


def _dates(order: dict[str, Any], where: str, findings: Findings) -> dict[str, dt.date]:
    dates = {}
    for key, name in _DATES:
        # A broken promise date must not block the order: it becomes a warning.
        local = Findings()
        moment = timestamp(order, key, where, local, required=False)
        for problem in local.problems:
            findings.warning(problem.location, problem.message)
        if moment is not None:
            dates[name] = moment.astimezone(dt.UTC).date()
    return dates


def _references(order: dict[str, Any], profile: PartnerProfile) -> dict[str, str]:
    references = {}
    for key, name in _REFERENCES:
        value = order.get(key)
        if isinstance(value, bool):
            references[name] = "true" if value else "false"
        elif isinstance(value, str) and value.strip():
            references[name] = value.strip()[:_MAX_TEXT]
    buyer = order.get("BuyerInfo")
    if isinstance(buyer, dict) and (po := text(buyer, "PurchaseOrderNumber")):
        references["purchase_order_number"] = po[:_MAX_TEXT]
    if profile.amazon is not None:
        references["seller_id"] = profile.amazon.seller_id
    return references
