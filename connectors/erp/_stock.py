"""Odoo's stock over JSON-2, in Odoo's own terms: warehouses, per-warehouse product quantities, receipts.

Odoo computes ``product.product``'s ``qty_available`` (on hand), ``free_qty`` (on hand not reserved
by a transfer), ``incoming_qty``, ``outgoing_qty`` and ``virtual_available`` (forecast) for the
locations its context names: ``{"warehouse": <stock.warehouse id>}`` limits them to one warehouse's
view location (Odoo 18/19's ``_get_domain_locations``), ``{"to_date": "YYYY-MM-DD HH:MM:SS"}``
counts only the moves scheduled up to then. So one ``search_read`` per warehouse reads every
product's levels there, with incoming limited to what arrives within the caller's horizon.
Pending receipts (``stock.move`` with ``picking_code`` incoming, ``warehouse_id`` the warehouse,
not done or cancelled) give the date more stock is expected.

Nothing here knows the hub's allocations or ATP: ``hub.inventory`` decides with these numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from connectors.erp._client import OdooJson2Client
from connectors.erp._models import many2one_id, odoo_str

WAREHOUSE = "stock.warehouse"
PRODUCT = "product.product"
MOVE = "stock.move"
PARTNER = "res.partner"
STATE = "res.country.state"
QUANTITY_FIELDS = ["id", "default_code", "qty_available", "free_qty", "incoming_qty", "virtual_available"]
PAGE = 1000  # products per search_read: bodies stay small, a big catalogue takes a few calls
_OPEN_MOVE_STATES = ["draft", "done", "cancel"]  # a draft receipt is not expected yet; done is on hand


@dataclass(frozen=True)
class Warehouse:
    """A ``stock.warehouse`` and where it is (its address partner's country and state codes)."""

    id: int
    code: str
    name: str
    country: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class ProductStock:
    """One product's quantities in one warehouse, as Odoo computed them for the context given."""

    product_id: int
    sku: str
    qty_available: Decimal
    free_qty: Decimal
    incoming_qty: Decimal
    virtual_available: Decimal


@dataclass(frozen=True)
class IncomingMove:
    """A pending receipt line: so much of a product expected in a warehouse on a date."""

    product_id: int
    quantity: Decimal
    date: dt.datetime


def _decimal(value: Any) -> Decimal:
    return Decimal(0) if value is None or value is False else Decimal(str(value))


def _odoo_datetime(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.strftime("%Y-%m-%d %H:%M:%S")


class OdooStock:
    """Read-only views of Odoo's inventory: every call is a read, safe to retry."""

    def __init__(self, client: OdooJson2Client) -> None:
        self.client = client

    def warehouses(self) -> list[Warehouse]:
        """The active warehouses with their address's country and state codes (when the ERP knows them)."""
        rows = self.client.call(WAREHOUSE, "search_read", domain=[], fields=["id", "code", "name", "partner_id"],
                                order="sequence asc, id asc")
        partner_ids = sorted({pid for row in rows if (pid := many2one_id(row.get("partner_id"))) is not None})
        places = self._places(partner_ids)
        found = []
        for row in rows:
            country, region = places.get(many2one_id(row.get("partner_id")) or 0, (None, None))
            found.append(Warehouse(int(row["id"]), odoo_str(row.get("code")) or str(row["id"]),
                                   odoo_str(row.get("name")), country, region))
        return found

    def _places(self, partner_ids: Sequence[int]) -> dict[int, tuple[str | None, str | None]]:
        """(country code, state code) of each address partner: ``res.partner`` then ``res.country.state``."""
        if not partner_ids:
            return {}
        partners = self.client.call(PARTNER, "read", ids=list(partner_ids), fields=["country_code", "state_id"])
        state_ids = sorted({sid for row in partners if (sid := many2one_id(row.get("state_id"))) is not None})
        codes = {int(row["id"]): odoo_str(row.get("code")) or None
                 for row in (self.client.call(STATE, "read", ids=state_ids, fields=["code"]) if state_ids else [])}
        return {int(row["id"]): (odoo_str(row.get("country_code")) or None,
                                 codes.get(many2one_id(row.get("state_id")) or 0))
                for row in partners}

    def quantities(self, warehouse_id: int, *, to_date: dt.datetime | None = None) -> Iterator[ProductStock]:
        """Every product with an internal reference and its quantities in ``warehouse_id``; incoming up to
        ``to_date`` when given (Odoo's ``to_date`` context), else every pending receipt."""
        context: dict[str, Any] = {"warehouse": warehouse_id}
        if to_date is not None:
            context["to_date"] = _odoo_datetime(to_date)
        offset = 0
        while True:
            rows = self.client.call(PRODUCT, "search_read", domain=[["default_code", "!=", False]],
                                    fields=QUANTITY_FIELDS, order="id asc", limit=PAGE, offset=offset,
                                    context=context)
            for row in rows:
                yield ProductStock(int(row["id"]), odoo_str(row.get("default_code")),
                                   _decimal(row.get("qty_available")), _decimal(row.get("free_qty")),
                                   _decimal(row.get("incoming_qty")), _decimal(row.get("virtual_available")))
            if len(rows) < PAGE:
                return
            offset += PAGE

    def incoming_moves(self, warehouse_id: int) -> list[IncomingMove]:
        """Pending receipt moves into ``warehouse_id``, earliest first."""
        rows = self.client.call(
            MOVE, "search_read",
            domain=[["picking_code", "=", "incoming"], ["warehouse_id", "=", warehouse_id],
                    ["state", "not in", _OPEN_MOVE_STATES]],
            fields=["product_id", "product_uom_qty", "date"], order="date asc, id asc")
        moves = []
        for row in rows:
            product, date = many2one_id(row.get("product_id")), row.get("date")
            if product is None or not date:
                continue
            moves.append(IncomingMove(product, _decimal(row.get("product_uom_qty")),
                                      dt.datetime.strptime(str(date), "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)))
        return moves
