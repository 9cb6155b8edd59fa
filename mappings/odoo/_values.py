"""Canonical orders as Odoo values: partner refs and addresses, sale order headers and lines, what differs.

Pure translation, no calls: ``_gateway.py`` sends what these build.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from canonical.model import Order, OrderLine, Party, PartyRole
from connectors.erp import SaleOrderLine, many2one_id, odoo_str

# Role codes in partner references follow the X12 N101 entity codes partners already use.
_ROLE_CODES = {
    PartyRole.BUYER: "BY",
    PartyRole.SELLER: "SE",
    PartyRole.SHIP_TO: "ST",
    PartyRole.BILL_TO: "BT",
    PartyRole.SHIP_FROM: "SF",
    PartyRole.MARK_FOR: "Z7",
    PartyRole.REMIT_TO: "RI",
    PartyRole.VENDOR: "VN",
    PartyRole.SUPPLIER: "SU",
    PartyRole.CUSTOMER: "CU",
    PartyRole.OTHER: "OT",
}
# The Odoo customer of a sale order: the first of these roles present on the order.
CUSTOMER_ROLES = (PartyRole.BUYER, PartyRole.CUSTOMER, PartyRole.BILL_TO, PartyRole.SHIP_TO)
_CONTACT_TYPES = {PartyRole.SHIP_TO: "delivery", PartyRole.BILL_TO: "invoice"}
# Odoo keeps quantities and prices as floats rounded to the database's precision (2 decimals by
# default): closer than this counts as equal, so a push is not an update forever after.
_TOLERANCE = Decimal("0.005")
_HEADER_LABELS = {
    "partner_id": "customer",
    "partner_invoice_id": "invoice address",
    "partner_shipping_id": "delivery address",
    "date_order": "order date",
}


def sale_order_origin(partner_id: str) -> str:
    """The sale order's ``origin`` (Source Document) we write: scopes our references per trading partner.

    Two retailers may both send PO ``1001``; the customer reference stays the PO number they know,
    and the origin tells their orders apart.
    """
    return f"orderhub:{partner_id}"


def party_ref(order: Order, party: Party) -> str:
    """Our stable key for a party in the ERP's partner ``ref``, e.g. ``"acme:ST:0042"``.

    A party without an id gets a digest of its name and address instead, so the key stays
    stable for the same address and holds no readable personal data.
    """
    role = _ROLE_CODES[party.role]
    if party.id:
        return f"{order.partner_id}:{role}:{party.id}"
    material = "|".join(
        [
            party.name or "",
            *party.address_lines,
            party.city or "",
            party.region or "",
            party.postal_code or "",
            party.country or "",
        ]
    )
    digest = hashlib.sha256(" ".join(material.casefold().split()).encode()).hexdigest()[:16]
    return f"{order.partner_id}:{role}:#{digest}"


def partner_values(party: Party, *, ref: str, parent_id: int | None) -> dict[str, Any]:
    """The ``res.partner`` values of a party: a company, or an address (delivery/invoice) of ``parent_id``."""
    vals: dict[str, Any] = {"name": party.name or ref, "ref": ref}
    if party.address_lines:
        vals["street"] = party.address_lines[0]
        if len(party.address_lines) > 1:
            vals["street2"] = ", ".join(party.address_lines[1:])
    if party.city:
        vals["city"] = party.city
    if party.postal_code:
        vals["zip"] = party.postal_code
    if parent_id is not None:
        vals["parent_id"] = parent_id
        vals["type"] = _CONTACT_TYPES.get(party.role, "other")
    else:
        vals["is_company"] = True
    return vals


def line_values(line: OrderLine, product_id: int) -> dict[str, Any]:
    """The ``sale.order.line`` values of an order line."""
    vals: dict[str, Any] = {"product_id": product_id, "product_uom_qty": line.quantity}
    # Without a price the ERP's pricelist decides, as for an order keyed in by hand.
    if line.unit_price is not None:
        vals["price_unit"] = line.unit_price
    if line.description:
        vals["name"] = line.description
    return vals


def date_order(order: Order) -> str:
    """The sale order's ``date_order``: a UTC datetime in Odoo; noon keeps the calendar date in every timezone."""
    return f"{order.order_date.isoformat()} 12:00:00"


def header_changes(
    order: Order, detail: dict[str, Any], partner_ids: dict[str, int | None], *, compare_date: bool
) -> tuple[dict[str, Any], list[str]]:
    """The header values to write and their descriptions.

    The order date is compared on quotations only: Odoo sets it to the confirmation time on confirm.
    The note is written with any other change but never compared (Odoo keeps it as HTML).
    """
    vals: dict[str, Any] = {}
    changes: list[str] = []
    for field, wanted in partner_ids.items():
        if many2one_id(detail.get(field)) != wanted:
            vals[field] = wanted
            changes.append(f"{_HEADER_LABELS[field]} changed")
    if compare_date and odoo_str(detail.get("date_order")) != date_order(order):
        vals["date_order"] = date_order(order)
        changes.append(f"order date {odoo_str(detail.get('date_order'))[:10]} -> {order.order_date.isoformat()}")
    # A partner the ERP does not have yet is only described, never written as an empty value.
    return {k: v for k, v in vals.items() if v is not None}, changes


def line_changes(
    lines: Sequence[OrderLine], product_ids: dict[str, int], erp_lines: Sequence[SaleOrderLine]
) -> tuple[list[Any], list[str]]:
    """The x2many commands that turn ``erp_lines`` into ``lines``, and what they change in words.

    Lines pair up in order (the hub creates them in the order's line order): a pair that differs is
    updated in place (``[1, id, vals]``), ERP lines beyond ours are removed (``[2, id, 0]``), our lines
    beyond the ERP's are added (``[0, 0, vals]``).
    """
    commands: list[Any] = []
    changes: list[str] = []
    for line, erp in zip(lines, erp_lines, strict=False):  # lines beyond either side: below
        wanted = line_values(line, product_ids[line.line_no])
        vals: dict[str, Any] = {}
        if erp.product_id != wanted["product_id"]:
            vals["product_id"] = wanted["product_id"]
            changes.append(f"line {line.line_no}: product {erp.product_name or erp.product_id} -> "
                           f"{line.sku or line.gtin}")
        if abs(erp.quantity - line.quantity) >= _TOLERANCE:
            vals["product_uom_qty"] = line.quantity
            changes.append(f"line {line.line_no}: quantity {num(erp.quantity)} -> {num(line.quantity)}")
        if line.unit_price is not None and abs(erp.price_unit - line.unit_price) >= _TOLERANCE:
            vals["price_unit"] = line.unit_price
            changes.append(f"line {line.line_no}: unit price {num(erp.price_unit)} -> {num(line.unit_price)}")
        if line.description and erp.name != line.description:
            vals["name"] = line.description
            changes.append(f"line {line.line_no}: description changed")
        if vals:
            if "product_id" in vals:
                vals = {**wanted, **vals}  # a new product: the rest of the line must be ours, not the old product's
            commands.append([1, erp.id, vals])
    for index, erp in enumerate(erp_lines[len(lines):], start=len(lines) + 1):
        commands.append([2, erp.id, 0])
        changes.append(f"ERP line {index} removed ({erp.product_name or erp.name}, quantity {num(erp.quantity)})")
    for line in lines[len(erp_lines):]:
        commands.append([0, 0, line_values(line, product_ids[line.line_no])])
        changes.append(f"line {line.line_no} added ({line.sku or line.gtin}, quantity {num(line.quantity)})")
    return commands, changes


def num(value: Decimal) -> str:
    """A quantity or price for a message: ``3``, ``4.5`` (no float noise, no exponent)."""
    return format(value.normalize(), "f")


def note(order: Order) -> str:
    """The sale order's note: where the order came from."""
    text = f"Imported by orderhub from {order.source.value} order {order.source_ref} of {order.partner_id}"
    if order.raw_document_id:
        text += f" (raw document {order.raw_document_id[:12]})"
    return text + "."
