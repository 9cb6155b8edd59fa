"""Odoo's customer invoices and credit notes (``account.move``) over JSON-2, in Odoo's own terms.

An invoice is an ``account.move`` with ``move_type`` ``out_invoice``; a credit note ``out_refund`` with
``reversed_entry_id`` naming the invoice it reverses. ``ref`` carries our reference and ``invoice_origin``
the customer's PO number; lines (``invoice_line_ids``) point at their sale order lines (``sale_line_ids``).
Nothing here knows canonical orders: ``hub.targets.odoo_accounting`` decides what to write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connectors.erp._client import OdooJson2Client
from connectors.erp._models import created_id, many2one_id, odoo_decimal, odoo_str

ACCOUNT_MOVE = "account.move"
ACCOUNT_MOVE_LINE = "account.move.line"
OUT_INVOICE, OUT_REFUND = "out_invoice", "out_refund"
MOVE_FIELDS = ["id", "name", "ref", "invoice_origin", "move_type", "state", "partner_id", "reversed_entry_id",
               "amount_total", "invoice_line_ids"]
MOVE_LINE_FIELDS = ["id", "move_id", "product_id", "quantity", "price_unit", "sale_line_ids", "display_type"]


@dataclass(frozen=True)
class MoveLine:
    """A product line of an invoice or credit note."""

    id: int
    product_id: int | None
    quantity: Decimal
    price_unit: Decimal
    sale_line_ids: tuple[int, ...]


@dataclass(frozen=True)
class Move:
    """A customer invoice or credit note as read back from Odoo."""

    id: int
    name: str
    ref: str
    invoice_origin: str
    move_type: str
    state: str  # draft / posted / cancel
    partner_id: int | None
    reversed_entry_id: int | None
    amount_total: Decimal
    line_ids: tuple[int, ...]

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Move:
        """Build from a ``search_read`` row (``false`` for empty values)."""
        return cls(
            id=int(record["id"]), name=odoo_str(record.get("name")), ref=odoo_str(record.get("ref")),
            invoice_origin=odoo_str(record.get("invoice_origin")), move_type=odoo_str(record.get("move_type")),
            state=odoo_str(record.get("state")), partner_id=many2one_id(record.get("partner_id")),
            reversed_entry_id=many2one_id(record.get("reversed_entry_id")),
            amount_total=odoo_decimal(record.get("amount_total")),
            line_ids=tuple(int(i) for i in record.get("invoice_line_ids") or []),
        )


class OdooAccounting:
    """Reads and writes of customer invoices and credit notes."""

    def __init__(self, client: OdooJson2Client) -> None:
        self.client = client

    def moves(self, domain: list[Any]) -> list[Move]:
        """Customer invoices and credit notes matching ``domain``, oldest first."""
        rows = self.client.call(ACCOUNT_MOVE, "search_read",
                                domain=[["move_type", "in", [OUT_INVOICE, OUT_REFUND]], *domain],
                                fields=MOVE_FIELDS, order="id asc")
        return [Move.from_record(row) for row in rows]

    def moves_by_ref(self, ref: str) -> list[Move]:
        """The moves carrying our reference ``ref`` (exact), oldest first."""
        return [move for move in self.moves([["ref", "=", ref]]) if move.ref == ref]

    def moves_by_origin(self, origin: str, *, partner_id: int | None = None) -> list[Move]:
        """The moves whose ``invoice_origin`` is ``origin`` (a PO number), of ``partner_id`` if given."""
        domain: list[Any] = [["invoice_origin", "=", origin]]
        if partner_id is not None:
            domain.append(["partner_id", "=", partner_id])
        return [move for move in self.moves(domain) if move.invoice_origin == origin]

    def move_lines(self, move_ids: Sequence[int]) -> dict[int, list[MoveLine]]:
        """Product lines per move id (sections and notes left out)."""
        found: dict[int, list[MoveLine]] = {move_id: [] for move_id in move_ids}
        if not found:
            return found
        rows = self.client.call(ACCOUNT_MOVE_LINE, "search_read",
                                domain=[["move_id", "in", list(found)], ["display_type", "=", "product"]],
                                fields=MOVE_LINE_FIELDS, order="id asc")
        for row in rows:
            move_id = many2one_id(row.get("move_id"))
            if move_id in found:
                found[move_id].append(MoveLine(
                    id=int(row["id"]), product_id=many2one_id(row.get("product_id")),
                    quantity=odoo_decimal(row.get("quantity")), price_unit=odoo_decimal(row.get("price_unit")),
                    sale_line_ids=tuple(int(i) for i in row.get("sale_line_ids") or [])))
        return found

    def create_move(self, vals: dict[str, Any]) -> int:
        """Create one draft invoice or credit note; its id. Sent once: a lost reply is found by ``ref``."""
        return created_id(self.client.call(ACCOUNT_MOVE, "create", vals_list=[vals]))

    def action_post(self, move_id: int) -> None:
        """Odoo's ``action_post``: the draft gets its number and is booked."""
        self.client.call(ACCOUNT_MOVE, "action_post", ids=[move_id])


def invoice_line_values(product_id: int, quantity: Decimal, price_unit: Decimal, sale_line_id: int | None
                        ) -> dict[str, Any]:
    """An ``invoice_line_ids`` create command's values, linked to its sale order line."""
    vals: dict[str, Any] = {"product_id": product_id, "quantity": quantity, "price_unit": price_unit}
    if sale_line_id is not None:
        vals["sale_line_ids"] = [[6, 0, [sale_line_id]]]
    return vals
