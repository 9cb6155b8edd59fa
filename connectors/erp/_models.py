"""Wire shapes of the Odoo records the hub reads and writes (sale.order, res.partner, product.product)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from canonical.errors import FatalError

SALE_ORDER_FIELDS = ["id", "name", "client_order_ref", "state", "amount_total"]
# What the hub compares before it changes a sale order it pushed (``locked``: Odoo 17+).
SALE_ORDER_DETAIL_FIELDS = [
    "id", "name", "state", "locked", "partner_id", "partner_invoice_id", "partner_shipping_id", "date_order",
    "currency_id",
]
SALE_ORDER_LINE_FIELDS = [
    "id", "sequence", "display_type", "product_id", "name", "product_uom_qty", "price_unit", "qty_delivered",
    "qty_invoiced",
]
# Odoo 17+ sale.order states: quotations can still be rewritten, the others belong to the ERP's people.
QUOTATION_STATES = frozenset({"draft", "sent"})
CANCELLED = "cancel"


@dataclass(frozen=True)
class SaleOrderRef:
    """A sale order as the hub needs to see it: which one, under which of our references, in what state."""

    id: int
    name: str
    client_order_ref: str
    state: str
    amount_total: Decimal | None

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> SaleOrderRef:
        """Build from a `search_read` / `read` row (Odoo sends ``false`` for empty values)."""
        amount = record.get("amount_total")
        return cls(
            id=int(record["id"]),
            name=odoo_str(record.get("name")),
            client_order_ref=odoo_str(record.get("client_order_ref")),
            state=odoo_str(record.get("state")),
            amount_total=None if amount is None or amount is False else Decimal(str(amount)),
        )


@dataclass(frozen=True)
class SaleOrderLine:
    """A product line of a sale order as read back from Odoo."""

    id: int
    product_id: int | None
    product_name: str
    name: str
    quantity: Decimal
    price_unit: Decimal
    qty_delivered: Decimal
    qty_invoiced: Decimal

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> SaleOrderLine:
        """Build from a ``sale.order.line`` `search_read` row."""
        product = record.get("product_id")
        return cls(
            id=int(record["id"]),
            product_id=many2one_id(product),
            product_name=odoo_str(product[1]) if isinstance(product, (list, tuple)) and len(product) > 1 else "",
            name=odoo_str(record.get("name")),
            quantity=odoo_decimal(record.get("product_uom_qty")),
            price_unit=odoo_decimal(record.get("price_unit")),
            qty_delivered=odoo_decimal(record.get("qty_delivered")),
            qty_invoiced=odoo_decimal(record.get("qty_invoiced")),
        )


def odoo_decimal(value: Any) -> Decimal:
    """A float field's value as Decimal (``false`` and missing are 0)."""
    if value is None or value is False:
        return Decimal(0)
    return Decimal(str(value))


def odoo_str(value: Any) -> str:
    """A char field's value; Odoo sends ``false`` for an empty one."""
    return "" if value is None or value is False else str(value)


def many2one_id(value: Any) -> int | None:
    """The id of a many2one value as `read` returns it: ``[id, "display name"]``, an id or ``false``."""
    if value is None or value is False:
        return None
    if isinstance(value, (list, tuple)):
        return int(value[0]) if value else None
    return int(value)


def created_id(result: Any) -> int:
    """The id `create` returned: JSON-2 turns the new recordset into its list of ids."""
    if isinstance(result, list) and len(result) == 1:
        return int(result[0])
    if isinstance(result, int) and not isinstance(result, bool):
        return result
    raise FatalError(f"unexpected answer to create: {type(result).__name__}")


def created_ids(result: Any, expected: int) -> list[int]:
    """The ids a `create` with ``expected`` values returned, in the order of the values."""
    if not isinstance(result, list) or len(result) != expected or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in result):
        raise FatalError(f"unexpected answer to a create of {expected} records: {type(result).__name__}")
    return [int(i) for i in result]
