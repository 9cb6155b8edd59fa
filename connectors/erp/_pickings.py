"""Odoo deliveries over JSON-2: done outgoing ``stock.picking`` records of sale orders, with what they carried.

Odoo 19 fields (Odoo 17 renamed the done quantities to ``quantity`` on ``stock.move`` and
``stock.move.line``): a picking's ``state`` is ``done`` once validated; its ``move_line_ids`` say
how much of which product went into which package (``result_package_id``, one carton each);
``move_ids`` carry the same quantities per product, which is all a picking validated without
detailed operations has. ``carrier_tracking_ref``, ``carrier_id`` and ``shipping_weight`` come from
Odoo's ``stock_delivery`` module (absent fields read as empty).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connectors.erp._client import OdooJson2Client
from connectors.erp._models import many2one_id, odoo_str

PICKING = "stock.picking"
MOVE = "stock.move"
MOVE_LINE = "stock.move.line"
PRODUCT = "product.product"
PICKING_FIELDS = ["id", "name", "origin", "state", "sale_id", "date_done", "carrier_tracking_ref", "carrier_id",
                  "shipping_weight"]
MOVE_FIELDS = ["id", "picking_id", "product_id", "quantity"]
MOVE_LINE_FIELDS = ["id", "picking_id", "move_id", "product_id", "quantity", "result_package_id"]
DONE = "done"
_DATETIME = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class PickedQuantity:
    """A product's quantity in one package of a delivery (``package`` None: not packed)."""

    product_id: int
    default_code: str
    barcode: str
    quantity: Decimal
    package: str | None


@dataclass(frozen=True)
class Picking:
    """One done delivery of a sale order, as the ASN needs it."""

    id: int
    name: str
    sale_order_id: int
    origin: str
    date_done: dt.datetime | None
    tracking_ref: str
    carrier: str
    weight: Decimal | None
    contents: tuple[PickedQuantity, ...]


def _datetime(value: Any) -> dt.datetime | None:
    text = odoo_str(value)
    return dt.datetime.strptime(text, _DATETIME).replace(tzinfo=dt.UTC) if text else None


def _display(value: Any) -> str:
    """The display name of a many2one value ``[id, name]``."""
    return str(value[1]) if isinstance(value, (list, tuple)) and len(value) > 1 else ""


class OdooPickings:
    """Reads of done deliveries (``stock.picking``), batched."""

    batch_size = 200

    def __init__(self, client: OdooJson2Client) -> None:
        self.client = client

    def done_deliveries(self, sale_order_ids: Sequence[int]) -> dict[int, list[Picking]]:
        """The done outgoing pickings per sale order id (every asked id is a key; oldest first)."""
        found: dict[int, list[Picking]] = {sale_order_id: [] for sale_order_id in sale_order_ids}
        ids = list(found)
        for start in range(0, len(ids), self.batch_size):
            rows = self.client.call(
                PICKING, "search_read",
                domain=[["sale_id", "in", ids[start : start + self.batch_size]], ["state", "=", DONE],
                        ["picking_type_code", "=", "outgoing"]],
                fields=PICKING_FIELDS, order="id asc")
            for picking in self._with_contents(rows):
                if picking.sale_order_id in found:
                    found[picking.sale_order_id].append(picking)
        return found

    def _with_contents(self, rows: list[dict[str, Any]]) -> list[Picking]:
        if not rows:
            return []
        picking_ids = [int(row["id"]) for row in rows]
        lines = self.client.call(MOVE_LINE, "search_read", domain=[["picking_id", "in", picking_ids]],
                                 fields=MOVE_LINE_FIELDS, order="id asc")
        moves = self.client.call(MOVE, "search_read", domain=[["picking_id", "in", picking_ids]],
                                 fields=MOVE_FIELDS, order="id asc")
        product_ids = sorted({many2one_id(r.get("product_id")) or 0 for r in [*lines, *moves]} - {0})
        products = {int(p["id"]): p for p in self.client.call(
            PRODUCT, "read", ids=product_ids, fields=["id", "default_code", "barcode"])} if product_ids else {}
        detailed = {many2one_id(line.get("move_id")) for line in lines}
        contents: dict[int, list[PickedQuantity]] = {picking_id: [] for picking_id in picking_ids}
        # A move without move lines was validated without detailed operations: its quantity, not packed.
        undetailed = [dict(move, result_package_id=False) for move in moves if int(move["id"]) not in detailed]
        for row in [*lines, *undetailed]:
            picking_id, product_id = many2one_id(row.get("picking_id")), many2one_id(row.get("product_id"))
            quantity = Decimal(str(row.get("quantity") or 0))
            if picking_id not in contents or product_id is None or quantity <= 0:
                continue
            product = products.get(product_id, {})
            contents[picking_id].append(PickedQuantity(
                product_id=product_id, default_code=odoo_str(product.get("default_code")),
                barcode=odoo_str(product.get("barcode")), quantity=quantity,
                package=_display(row.get("result_package_id")) or None))
        return [
            Picking(id=int(row["id"]), name=odoo_str(row.get("name")),
                    sale_order_id=many2one_id(row.get("sale_id")) or 0,
                    origin=odoo_str(row.get("origin")), date_done=_datetime(row.get("date_done")),
                    tracking_ref=odoo_str(row.get("carrier_tracking_ref")), carrier=_display(row.get("carrier_id")),
                    weight=Decimal(str(row["shipping_weight"])) if row.get("shipping_weight") else None,
                    contents=tuple(contents[int(row["id"])]))
            for row in rows
        ]
