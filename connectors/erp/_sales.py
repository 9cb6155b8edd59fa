"""Odoo's sales records over JSON-2, in Odoo's own terms: sale orders, partners, products, pricelists.

Nothing here knows the hub's canonical orders: ``mappings.odoo`` decides what to write and calls
these operations with Odoo values (``vals`` dicts, x2many commands, domains).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.erp._client import OdooJson2Client
from connectors.erp._errors import ErpRejected
from connectors.erp._models import (
    SALE_ORDER_DETAIL_FIELDS,
    SALE_ORDER_FIELDS,
    SALE_ORDER_LINE_FIELDS,
    SaleOrderLine,
    SaleOrderRef,
    created_id,
    created_ids,
    odoo_str,
)

SALE_ORDER = "sale.order"
PARTNER = "res.partner"
PRODUCT = "product.product"
SALE_ORDER_LINE = "sale.order.line"
CURRENCY = "res.currency"
PRICELIST = "product.pricelist"


class OdooSales:
    """Reads and writes of ``sale.order`` and the records behind it, batched where Odoo allows."""

    batch_size = 200

    def __init__(self, client: OdooJson2Client) -> None:
        self.client = client
        self._pricelists: dict[str, int] = {}  # by currency code, for this object's lifetime (one pass)

    # -- sale orders -------------------------------------------------------------------------

    def sale_orders_by_ref(self, client_order_refs: Sequence[str], *, origin: str | None = None
                           ) -> dict[str, list[SaleOrderRef]]:
        """Sale orders per ``client_order_ref`` (every asked one is a key; oldest first), only of ``origin``
        if given."""
        found: dict[str, list[SaleOrderRef]] = {ref: [] for ref in client_order_refs}
        refs = list(found)
        for start in range(0, len(refs), self.batch_size):
            batch = refs[start : start + self.batch_size]
            rows = self.client.call(
                SALE_ORDER,
                "search_read",
                domain=[["client_order_ref", "in", batch]] + ([["origin", "=", origin]] if origin else []),
                fields=SALE_ORDER_FIELDS,
                order="id asc",
            )
            for row in rows:
                order = SaleOrderRef.from_record(row)
                # Odoo's "in" is exact, but a server-side ilike or trailing spaces must not mislead us.
                if order.client_order_ref in found:
                    found[order.client_order_ref].append(order)
        return found

    def sale_orders_by_ref_prefix(self, prefix: str, *, limit: int | None = None) -> list[SaleOrderRef]:
        """Sale orders whose reference starts with ``prefix`` (e.g. one partner's ``"acme:"``), oldest first."""
        pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        params: dict[str, Any] = {
            "domain": [["client_order_ref", "=like", pattern]],
            "fields": SALE_ORDER_FIELDS,
            "order": "id asc",
        }
        if limit is not None:
            params["limit"] = limit
        rows = self.client.call(SALE_ORDER, "search_read", **params)
        return [SaleOrderRef.from_record(row) for row in rows]

    def sale_order_detail(self, sale_order_id: int) -> dict[str, Any]:
        """The header fields the hub compares (``SALE_ORDER_DETAIL_FIELDS``) of one sale order."""
        rows = self.client.call(SALE_ORDER, "read", ids=[sale_order_id], fields=SALE_ORDER_DETAIL_FIELDS)
        if not rows:
            raise ErpRejected(f"sale order id {sale_order_id} disappeared while it was being compared")
        return rows[0]

    def sale_order_lines(self, sale_order_id: int) -> list[SaleOrderLine]:
        """The product lines of a sale order in Odoo's order (sections and notes left out)."""
        rows = self.client.call(
            SALE_ORDER_LINE,
            "search_read",
            domain=[["order_id", "=", sale_order_id], ["display_type", "=", False]],
            fields=SALE_ORDER_LINE_FIELDS,
            order="sequence asc, id asc",
        )
        return [SaleOrderLine.from_record(row) for row in rows]

    def sale_order_field(self, sale_order_id: int, field: str) -> str:
        """One char/selection field of a sale order ("" if it is empty or the sale order is gone)."""
        rows = self.client.call(SALE_ORDER, "read", ids=[sale_order_id], fields=[field])
        return odoo_str(rows[0].get(field)) if rows else ""

    def create_sale_order(self, vals: dict[str, Any]) -> int:
        """Create one sale order; its id."""
        return created_id(self.client.call(SALE_ORDER, "create", vals_list=[vals]))

    def create_sale_orders(self, vals_list: Sequence[dict[str, Any]]) -> list[int]:
        """Create many sale orders in one call (one transaction in Odoo: all or none); their ids in order."""
        return created_ids(self.client.call(SALE_ORDER, "create", vals_list=list(vals_list)), len(vals_list))

    def unlink_sale_orders(self, sale_order_ids: Sequence[int]) -> None:
        """Delete sale orders we created ourselves (duplicates that lost a race)."""
        self.client.call(SALE_ORDER, "unlink", ids=list(sale_order_ids))

    def confirm_sale_orders(self, sale_order_ids: Sequence[int]) -> None:
        """Odoo's ``action_confirm`` on many quotations in one call."""
        self.client.call(SALE_ORDER, "action_confirm", ids=list(sale_order_ids))

    def write_sale_order(self, sale_order_id: int, vals: dict[str, Any]) -> None:
        """Write header values and x2many line commands to one sale order."""
        self.client.call(SALE_ORDER, "write", ids=[sale_order_id], vals=vals)

    def unlink_sale_order(self, sale_order_id: int) -> None:
        """Delete one sale order (a duplicate we created ourselves)."""
        self.client.call(SALE_ORDER, "unlink", ids=[sale_order_id])

    def action_cancel(self, sale_order_id: int) -> Any:
        """Odoo's ``action_cancel``; its answer (a wizard action dict when Odoo wants a person to confirm)."""
        # Without this context Odoo answers a non-draft order with its cancel wizard and cancels nothing.
        return self.client.call(SALE_ORDER, "action_cancel", ids=[sale_order_id],
                                context={"disable_cancel_warning": True})

    # -- master data -------------------------------------------------------------------------

    def partner_ids(self, ref: str) -> list[int]:
        """Ids of the ``res.partner`` records whose ``ref`` is ``ref``, oldest first."""
        rows = self.client.call(PARTNER, "search_read", domain=[["ref", "=", ref]], fields=["id"], order="id asc")
        return [int(row["id"]) for row in rows]

    def partners_by_ref(self, refs: Sequence[str]) -> dict[str, list[int]]:
        """Ids of the ``res.partner`` records per ``ref`` (every asked one is a key; oldest first), batched."""
        found: dict[str, list[int]] = {ref: [] for ref in refs}
        wanted = list(found)
        for start in range(0, len(wanted), self.batch_size):
            chunk = wanted[start : start + self.batch_size]
            rows = self.client.call(PARTNER, "search_read", domain=[["ref", "in", chunk]], fields=["id", "ref"],
                                    order="id asc")
            for row in rows:
                if odoo_str(row.get("ref")) in found:
                    found[odoo_str(row.get("ref"))].append(int(row["id"]))
        return found

    def create_partners(self, vals_list: Sequence[dict[str, Any]]) -> list[int]:
        """Create many ``res.partner`` records in one call; their ids in order."""
        return created_ids(self.client.call(PARTNER, "create", vals_list=list(vals_list)), len(vals_list))

    def create_partner(self, vals: dict[str, Any]) -> int:
        """Create one ``res.partner``; its id."""
        return created_id(self.client.call(PARTNER, "create", vals_list=[vals]))

    def archive_partner(self, partner_id: int) -> None:
        """Archive a partner (``active`` false): a duplicate we created in a race."""
        self.client.call(PARTNER, "write", ids=[partner_id], vals={"active": False})

    def products_by(self, field: str, codes: set[str]) -> dict[str, list[int]]:
        """``product.product`` ids per value of ``field`` (``default_code``, ``barcode``), batched."""
        found: dict[str, list[int]] = {}
        codes_list = sorted(codes)
        for start in range(0, len(codes_list), self.batch_size):
            rows = self.client.call(
                PRODUCT,
                "search_read",
                domain=[[field, "in", codes_list[start : start + self.batch_size]]],
                fields=["id", field],
                order="id asc",
            )
            for row in rows:
                if row.get(field):
                    found.setdefault(str(row[field]), []).append(int(row["id"]))
        return found

    def pricelist_for(self, currency: str) -> int:
        """The id of the ERP pricelist in ``currency`` (first by sequence), or ErpRejected saying what to set up."""
        if currency in self._pricelists:
            return self._pricelists[currency]
        currencies = self.client.call(CURRENCY, "search_read", domain=[["name", "=", currency]], fields=["id"])
        if not currencies:
            raise ErpRejected(f"the order is in {currency}, which is not an active currency in the ERP: activate it "
                              f"and create a pricelist in {currency}, then replay", location="currency")
        rows = self.client.call(
            PRICELIST, "search_read", domain=[["currency_id", "=", int(currencies[0]["id"])]], fields=["id"],
            order="sequence asc, id asc", limit=1,
        )
        if not rows:
            raise ErpRejected(f"the order is in {currency} but the ERP has no pricelist in {currency}: create one "
                              "(Sales > Configuration > Pricelists), then replay", location="currency")
        self._pricelists[currency] = int(rows[0]["id"])
        return self._pricelists[currency]
