"""The sandbox ERP's inventory: Odoo's warehouses, on-hand quants, receipts, and per-warehouse product quantities.

Models added to the sandbox's schema (``register``, done on import, before a ``Database`` is made):

- ``stock.warehouse`` (``code``, ``name``, ``partner_id`` its address, ``sequence``);
- ``res.country.state`` (``code``) and, on ``res.partner``, ``country_code`` and ``state_id``, so a
  warehouse's address says where it is;
- ``stock.quant`` (``product_id``, ``warehouse_id``, ``quantity``, ``reserved_quantity``): Odoo keys a quant
  by ``location_id``; the sandbox has one stock location per warehouse, so it names the warehouse;
- ``stock.move`` (``product_id``, ``warehouse_id``, ``picking_code``, ``product_uom_qty``, ``date``, ``state``):
  receipts (``incoming``) and deliveries (``outgoing``) not done yet;
- on ``product.product`` the computed ``qty_available``, ``free_qty``, ``incoming_qty``,
  ``outgoing_qty``, ``virtual_available``: filled by :func:`with_quantities` from the quants and moves
  of the warehouse the context names (``{"warehouse": id}``, else every warehouse), the moves limited
  to those scheduled up to ``to_date`` when the context gives one, as Odoo computes them.

Tests and the demo seed stock with :func:`add_warehouse`, :func:`set_quantity` and :func:`add_receipt`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sandbox._erp_schema import DATETIME_FORMAT, METHODS, MODELS, FieldSpec, char_field

if TYPE_CHECKING:
    from sandbox._erp_database import Database
    from sandbox.erp_server import SandboxErp

QUANTITY_FIELDS = ("qty_available", "free_qty", "incoming_qty", "outgoing_qty", "virtual_available")
_READS = frozenset({"search_read", "search", "search_count", "read"})
_PENDING = frozenset({"waiting", "confirmed", "partially_available", "assigned"})

STOCK_MODELS: dict[str, dict[str, FieldSpec]] = {
    "stock.warehouse": {
        "name": char_field(required=True),
        "code": char_field(required=True),
        "partner_id": FieldSpec("many2one", comodel="res.partner"),
        "sequence": FieldSpec("integer"),
        "active": FieldSpec("bool"),
    },
    "res.country.state": {"name": char_field(required=True), "code": char_field(required=True)},
    "stock.quant": {
        "product_id": FieldSpec("many2one", required=True, comodel="product.product"),
        "warehouse_id": FieldSpec("many2one", required=True, comodel="stock.warehouse"),
        "quantity": FieldSpec("float"),
        "reserved_quantity": FieldSpec("float"),
    },
    "stock.move": {
        "product_id": FieldSpec("many2one", required=True, comodel="product.product"),
        "warehouse_id": FieldSpec("many2one", comodel="stock.warehouse"),
        "picking_code": FieldSpec("selection", choices=("incoming", "outgoing", "internal")),
        "product_uom_qty": FieldSpec("float"),
        "date": FieldSpec("datetime"),
        "state": FieldSpec("selection", choices=("draft", "waiting", "confirmed", "partially_available", "assigned",
                                                 "done", "cancel")),
    },
}
_EXTRA_FIELDS: dict[str, dict[str, FieldSpec]] = {
    "res.partner": {"country_code": char_field(), "state_id": FieldSpec("many2one", comodel="res.country.state")},
    "product.product": {name: FieldSpec("float", readonly=True) for name in QUANTITY_FIELDS},
}


def register() -> None:
    """Add the stock models, fields and read methods to the sandbox's schema (idempotent)."""
    for model, fields in STOCK_MODELS.items():
        MODELS.setdefault(model, dict(fields))
        METHODS.setdefault(model, _READS)
    for model, fields in _EXTRA_FIELDS.items():
        for name, spec in fields.items():
            MODELS[model].setdefault(name, spec)


register()


def with_quantities(db: Database, model: str, rows: list[dict[str, Any]], context: dict[str, Any]
                    ) -> list[dict[str, Any]]:
    """Fill the computed stock quantities of ``product.product`` rows for the context's warehouse and ``to_date``."""
    if model != "product.product" or not rows or not any(name in rows[0] for name in QUANTITY_FIELDS):
        return rows
    warehouse = context.get("warehouse")
    in_warehouse = (lambda wid: True) if warehouse in (None, False) else (lambda wid: wid == warehouse)
    to_date = context.get("to_date") or None
    on_hand: dict[int, float] = defaultdict(float)
    reserved: dict[int, float] = defaultdict(float)
    for quant in db.records["stock.quant"].values():
        if in_warehouse(quant.get("warehouse_id")):
            on_hand[quant["product_id"]] += quant.get("quantity") or 0.0
            reserved[quant["product_id"]] += quant.get("reserved_quantity") or 0.0
    moves: dict[tuple[int, str], float] = defaultdict(float)
    for move in db.records["stock.move"].values():
        if (move.get("state") in _PENDING and in_warehouse(move.get("warehouse_id"))
                and (to_date is None or (move.get("date") or "") <= str(to_date))):
            moves[move["product_id"], move.get("picking_code") or ""] += move.get("product_uom_qty") or 0.0
    for row in rows:
        pid = row["id"]
        incoming, outgoing = moves[pid, "incoming"], moves[pid, "outgoing"]
        values = {"qty_available": on_hand[pid], "free_qty": on_hand[pid] - reserved[pid], "incoming_qty": incoming,
                  "outgoing_qty": outgoing, "virtual_available": on_hand[pid] + incoming - outgoing}
        row.update({name: value for name, value in values.items() if name in row})
    return rows


# -- seeding, for tests and the demo (they bypass the API, as the other SandboxErp helpers do) --


def add_warehouse(erp: SandboxErp, code: str, name: str, *, country: str | None = None,
                  state: str | None = None) -> int:
    """A warehouse with an address in ``country`` / ``state`` (ISO codes); an existing ``code`` is kept. Its id."""
    db = erp._db
    with db.lock:
        found = db.search("stock.warehouse", [["code", "=", code]])
        if found:
            return found[0]
        address: dict[str, Any] = {"name": f"{name} (address)", "is_company": True}
        if country:
            address["country_code"] = country
        if state:
            states = db.search("res.country.state", [["code", "=", state]])
            address["state_id"] = states[0] if states else db.create("res.country.state",
                                                                     {"name": state, "code": state})
        sequence = len(db.records["stock.warehouse"]) + 1
        warehouse_id = db.create("stock.warehouse", {"name": name, "code": code, "sequence": 10 * sequence,
                                                     "partner_id": db.create("res.partner", address)})
        db.records["stock.warehouse"][warehouse_id] = {**db.records["stock.warehouse"][warehouse_id], "active": True}
        db.save()
        return warehouse_id


def _ids(db: Database, sku: str, warehouse_code: str) -> tuple[int, int]:
    products = db.search("product.product", [["default_code", "=", sku]])
    warehouses = db.search("stock.warehouse", [["code", "=", warehouse_code]])
    if not products or not warehouses:
        raise KeyError(f"no product {sku!r} or no warehouse {warehouse_code!r} in the sandbox ERP")
    return products[0], warehouses[0]


def set_quantity(erp: SandboxErp, sku: str, warehouse_code: str, quantity: float, *, reserved: float = 0.0) -> None:
    """Set the on-hand (and reserved) quantity of a product in a warehouse (an inventory count)."""
    db = erp._db
    with db.lock:
        product_id, warehouse_id = _ids(db, sku, warehouse_code)
        domain = [["product_id", "=", product_id], ["warehouse_id", "=", warehouse_id]]
        for quant_id in db.search("stock.quant", domain):
            db.records["stock.quant"].pop(quant_id)
        db.create("stock.quant", {"product_id": product_id, "warehouse_id": warehouse_id, "quantity": float(quantity),
                                  "reserved_quantity": float(reserved)})
        db.save()


def add_receipt(erp: SandboxErp, sku: str, warehouse_code: str, quantity: float, date: dt.datetime | dt.date,
                *, state: str = "assigned") -> int:
    """A pending receipt of ``quantity`` expected in the warehouse at ``date`` (UTC). Its move id."""
    db = erp._db
    when = date if isinstance(date, dt.datetime) else dt.datetime.combine(date, dt.time(12))
    with db.lock:
        product_id, warehouse_id = _ids(db, sku, warehouse_code)
        move_id = db.create("stock.move", {
            "product_id": product_id, "warehouse_id": warehouse_id, "picking_code": "incoming",
            "product_uom_qty": float(quantity), "date": when.strftime(DATETIME_FORMAT), "state": state})
        db.save()
        return move_id


def take_shipped(db: Database, product_id: int, quantity: float, warehouse_code: str | None = None) -> None:
    """Lower on hand by a done delivery's quantity, as validating an Odoo picking moves its quants out.

    From ``warehouse_code``'s quant, else from the warehouses in their order (what is left from the first,
    which goes negative as Odoo allows). Nothing when the product has no quant at all (no stock seeded: the
    tests that only ship). The caller holds the database's lock (``SandboxErp.ship`` does) and saves."""
    order = {w["id"]: (w.get("sequence") or 0, w["id"]) for w in db.records["stock.warehouse"].values()}
    quants = sorted((q for q in db.records["stock.quant"].values() if q["product_id"] == product_id
                     and (warehouse_code is None or db.records["stock.warehouse"][q["warehouse_id"]]["code"]
                          == warehouse_code)), key=lambda q: order.get(q["warehouse_id"], (0, 0)))
    left = float(quantity)
    for quant in quants:
        taken = min(left, max(0.0, quant.get("quantity") or 0.0))
        quant["quantity"] = (quant.get("quantity") or 0.0) - taken
        left -= taken
    if quants and left > 0:
        quants[0]["quantity"] -= left
