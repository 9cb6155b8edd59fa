"""Wire shapes of the Odoo records the hub reads and writes (sale.order, res.partner, product.product)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from hub.errors import FatalError

SALE_ORDER_FIELDS = ["id", "name", "client_order_ref", "state", "amount_total"]


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
class PushResult:
    """The outcome of pushing one order: the ERP's sale order and whether this call created it."""

    sale_order_id: int
    name: str
    created: bool


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
