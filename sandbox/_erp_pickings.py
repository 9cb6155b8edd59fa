"""The sandbox ERP's deliveries: Odoo 19's ``stock.picking`` with its moves, move lines and packages.

Read-only over the API (``search_read``, ``search``, ``search_count``, ``read``), as the hub only
reads them: a delivery is made by the warehouse, here by :meth:`PickingHelpers.ship` (a test or the
demo). Fields are Odoo 19's: ``stock.picking`` ``state`` (draft, waiting, confirmed, assigned, done,
cancel), ``picking_type_code`` (related to the operation type: outgoing for a delivery), ``sale_id``
(sale_stock), ``date_done``, ``carrier_tracking_ref``, ``carrier_id`` and ``shipping_weight``
(stock_delivery); ``stock.move`` ``product_uom_qty`` (demand) and ``quantity`` (done, Odoo 17+);
``stock.move.line`` ``quantity`` and ``result_package_id`` (the carton it was packed in).

Importing this module adds the models to the sandbox's schema (``sandbox.erp_server`` does).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sandbox._erp_database import INDEXED_FIELDS
from sandbox._erp_schema import DATETIME_FORMAT, METHODS, MODELS, FieldSpec, char_field
from sandbox._erp_stock import take_shipped

_READ = frozenset({"search_read", "search", "search_count", "read"})
PICKING_MODELS: dict[str, dict[str, FieldSpec]] = {
    "delivery.carrier": {"name": char_field(required=True)},
    "stock.quant.package": {"name": char_field(required=True)},
    "stock.picking": {
        "name": char_field(),
        "origin": char_field(),
        "state": FieldSpec("selection", choices=("draft", "waiting", "confirmed", "assigned", "done", "cancel")),
        "picking_type_code": FieldSpec("selection", readonly=True, choices=("incoming", "outgoing", "internal")),
        "sale_id": FieldSpec("many2one", comodel="sale.order"),
        "partner_id": FieldSpec("many2one", comodel="res.partner"),
        "scheduled_date": FieldSpec("datetime"),
        "date_done": FieldSpec("datetime", readonly=True),
        "carrier_id": FieldSpec("many2one", comodel="delivery.carrier"),
        "carrier_tracking_ref": char_field(),
        "shipping_weight": FieldSpec("float"),
        "move_ids": FieldSpec("one2many", comodel="stock.move"),
        "move_line_ids": FieldSpec("one2many", comodel="stock.move.line"),
    },
    "stock.move": {
        "picking_id": FieldSpec("many2one", comodel="stock.picking"),
        "product_id": FieldSpec("many2one", required=True, comodel="product.product"),
        "sale_line_id": FieldSpec("many2one", comodel="sale.order.line"),
        "product_uom_qty": FieldSpec("float"),
        "quantity": FieldSpec("float"),
        "state": FieldSpec("selection", choices=("draft", "waiting", "confirmed", "assigned", "done", "cancel")),
    },
    "stock.move.line": {
        "picking_id": FieldSpec("many2one", comodel="stock.picking"),
        "move_id": FieldSpec("many2one", comodel="stock.move"),
        "product_id": FieldSpec("many2one", required=True, comodel="product.product"),
        "quantity": FieldSpec("float"),
        "result_package_id": FieldSpec("many2one", comodel="stock.quant.package"),
    },
}
# Field by field: ``stock.move`` is also the inventory's (``_erp_stock``: pending receipts with their
# warehouse); each module adds the fields it needs and keeps the other's.
for _model, _fields in PICKING_MODELS.items():
    for _name, _spec in _fields.items():
        MODELS.setdefault(_model, {}).setdefault(_name, _spec)
    METHODS[_model] = METHODS.get(_model, frozenset()) | _READ
INDEXED_FIELDS.setdefault("stock.picking", ("sale_id",))
INDEXED_FIELDS.setdefault("stock.move.line", ("picking_id",))


class PickingHelpers:
    """``SandboxErp`` helpers that make deliveries as the warehouse would (they bypass the API)."""

    _db: Any

    def ship(self, client_order_ref: str, packages: Sequence[Sequence[tuple[str, float]]] | None = None, *,
             tracking_ref: str | None = None, carrier: str | None = None, weight: float | None = None,
             state: str = "done", warehouse: str | None = None) -> str:
        """A delivery of the (oldest) sale order with this reference; its name (``WH/OUT/00001``).

        ``packages``: per carton, (default_code, quantity) pairs; default one carton with every line in full.
        Done, it lowers on hand (from ``warehouse``'s code, else the warehouses in order) as Odoo does.
        """
        with self._db.lock:
            db = self._db
            order_ids = db.search("sale.order", [["client_order_ref", "=", client_order_ref]])
            if not order_ids:
                raise KeyError(f"no sale order with reference {client_order_ref!r}")
            order = db.records["sale.order"][order_ids[0]]
            lines = [db.records["sale.order.line"][i] for i in order.get("order_line") or []]
            by_code = {db.records["product.product"][line["product_id"]].get("default_code"): line for line in lines}
            if packages is None:
                packages = [[(code, line["product_uom_qty"]) for code, line in by_code.items()]]
            now = dt.datetime.now(dt.UTC).strftime(DATETIME_FORMAT)
            picking_id = db.next_id["stock.picking"]
            carrier_id = self._insert("delivery.carrier", {"name": carrier}) if carrier else None
            picking = self._insert("stock.picking", {
                "name": f"WH/OUT/{picking_id:05d}", "origin": order["name"], "state": state,
                "picking_type_code": "outgoing", "sale_id": order["id"], "partner_id": order["partner_id"],
                "scheduled_date": now, "date_done": now if state == "done" else None, "carrier_id": carrier_id,
                "carrier_tracking_ref": tracking_ref, "shipping_weight": weight or 0.0, "move_ids": [],
                "move_line_ids": []})
            moves: dict[str, int] = {}
            for number, contents in enumerate(packages, start=1):
                package = self._insert("stock.quant.package", {"name": f"PACK{picking_id:05d}{number:02d}"})
                for code, quantity in contents:
                    line = by_code[code]
                    if code not in moves:
                        moves[code] = self._insert("stock.move", {
                            "picking_id": picking, "product_id": line["product_id"], "sale_line_id": line["id"],
                            "product_uom_qty": line["product_uom_qty"], "quantity": 0.0, "state": state})
                    move = db.records["stock.move"][moves[code]]
                    move["quantity"] += float(quantity)
                    self._insert("stock.move.line", {
                        "picking_id": picking, "move_id": moves[code], "product_id": line["product_id"],
                        "quantity": float(quantity), "result_package_id": package})
            row = db.records["stock.picking"][picking]
            row["move_ids"] = list(moves.values())
            row["move_line_ids"] = [i for i, ml in db.records["stock.move.line"].items() if ml["picking_id"] == picking]
            if state == "done":
                for code, move_id in moves.items():
                    sale_line = by_code[code]
                    delivered = (sale_line.get("qty_delivered") or 0.0) + db.records["stock.move"][move_id]["quantity"]
                    db.update_row("sale.order.line", sale_line["id"], qty_delivered=delivered)
                    take_shipped(db, sale_line["product_id"], db.records["stock.move"][move_id]["quantity"], warehouse)
            db.save()
            return str(row["name"])

    def _insert(self, model: str, row: dict[str, Any]) -> int:
        record_id = self._db.next_id[model]
        self._db.next_id[model] += 1
        self._db.records[model][record_id] = {"id": record_id, **row}
        return int(record_id)
