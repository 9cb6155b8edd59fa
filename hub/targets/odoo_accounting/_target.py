"""Odoo as an accounting target: customer invoices (``account.move``, ``out_invoice``) for delivered quantities.

The sale order is found as the order target left it (``client_order_ref`` = PO number, ``origin`` =
``orderhub:<partner>``); its lines' ``qty_delivered`` say what may be billed, their ``price_unit`` at what
price. An invoice carries our reference in ``ref`` and the PO number in ``invoice_origin``; each line points
at its sale order line (``sale_line_ids``), which is how lines of invoices made by hand are matched too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from canonical.errors import RejectedDocument
from canonical.model import Order
from connectors.erp import (
    CANCELLED,
    Move,
    OdooAccounting,
    OdooJson2Client,
    OdooSales,
    SaleOrderLine,
    invoice_line_values,
    many2one_id,
)
from connectors.erp._accounting import OUT_INVOICE, OUT_REFUND
from hub.targets._protocol import BillableLine, Booked, InvoiceDraft, InvoiceKind, InvoiceLine
from hub.targets._registry import ERP_TARGET
from mappings.odoo import sale_order_origin

DEFAULT_WRITE_SETTLE = dt.timedelta(minutes=5)
_KINDS = {OUT_INVOICE: InvoiceKind.INVOICE, OUT_REFUND: InvoiceKind.CREDIT_NOTE}
_MOVE_TYPES = {kind: move_type for move_type, kind in _KINDS.items()}


class _SaleOrder:
    """The order's live sale order in Odoo with its lines, each tied to the order line at its position."""

    def __init__(self, sales: OdooSales, order: Order) -> None:
        found = sales.sale_orders_by_ref([order.source_ref], origin=sale_order_origin(order.partner_id))
        live = [so for so in found[order.source_ref] if so.state != CANCELLED]
        self.id = live[0].id if live else None
        self.name = live[0].name if live else ""
        self.lines: list[SaleOrderLine] = sales.sale_order_lines(self.id) if self.id is not None else []
        detail = sales.sale_order_detail(self.id) if self.id is not None else {}
        self.partner_id = many2one_id(detail.get("partner_invoice_id")) or many2one_id(detail.get("partner_id"))
        self.currency_id = many2one_id(detail.get("currency_id"))
        # The order target writes the lines in the order's order, so the n-th sale line is the n-th order line.
        self.line_no: dict[int, tuple[str, str]] = {}
        for position, line in enumerate(self.lines):
            ours = order.lines[position] if position < len(order.lines) else None
            self.line_no[line.id] = ((ours.line_no, ours.sku or line.product_name) if ours
                                     else (f"erp-{line.id}", line.product_name))


class OdooAccountingTarget:
    """Invoices and credit notes in Odoo through its JSON-2 API; exactly-once by our reference in ``ref``."""

    def __init__(self, client: OdooJson2Client, *, name: str = ERP_TARGET, label: str = "the ERP's accounting",
                 write_settle: dt.timedelta = DEFAULT_WRITE_SETTLE) -> None:
        self.sales, self.accounting = OdooSales(client), OdooAccounting(client)
        self.name, self.label, self.write_settle = name, label, write_settle

    def billable(self, order: Order) -> list[BillableLine]:
        """The sale order's lines: delivered quantity (``qty_delivered``) and price (``price_unit``)."""
        so = _SaleOrder(self.sales, order)
        return [BillableLine(line_no=so.line_no[line.id][0], sku=so.line_no[line.id][1], delivered=line.qty_delivered,
                             unit_price=line.price_unit, source_line=str(line.id)) for line in so.lines]

    def delivered(self, orders: Sequence[Order]) -> dict[tuple[str, str], dict[str, Decimal]]:
        """Delivered quantity per order line of many orders in a few calls (``(partner, PO)`` -> line_no ->
        quantity; orders without a live sale order left out): lets a pass skip the orders with nothing new."""
        found: dict[tuple[str, str], dict[str, Decimal]] = {}
        by_partner: dict[str, dict[str, Order]] = {}
        for order in orders:
            by_partner.setdefault(order.partner_id, {})[order.source_ref] = order
        for partner_id, refs in by_partner.items():
            sale_orders = self.sales.sale_orders_by_ref(list(refs), origin=sale_order_origin(partner_id))
            live = {ref: next(so.id for so in found_ if so.state != CANCELLED)
                    for ref, found_ in sale_orders.items() if any(so.state != CANCELLED for so in found_)}
            lines = self.sales.lines_of_sale_orders(list(live.values()))
            for ref, sale_order_id in live.items():
                ours = refs[ref].lines
                found[(partner_id, ref)] = {
                    (ours[position].line_no if position < len(ours) else f"erp-{line.id}"): line.qty_delivered
                    for position, line in enumerate(lines.get(sale_order_id, []))}
        return found

    def invoices_of(self, order: Order) -> list[Booked]:
        """Every invoice and credit note of the PO (``invoice_origin``) for the sale order's customer."""
        so = _SaleOrder(self.sales, order)
        if so.id is None:
            return []
        moves = self.accounting.moves_by_origin(order.source_ref, partner_id=so.partner_id)
        return self._booked(moves, so)

    def find(self, reference: str) -> list[Booked]:
        """The moves whose ``ref`` is ``reference`` (lines without their order line numbers)."""
        return self._booked(self.accounting.moves_by_ref(reference), None)

    def create(self, order: Order, draft: InvoiceDraft) -> Booked:
        """The draft invoice or credit note: found by ``ref`` first (a lost reply), else created."""
        found = [booked for booked in self.find(draft.reference) if booked.live]
        if found:
            return found[0]
        so = _SaleOrder(self.sales, order)
        if so.id is None or so.partner_id is None:
            raise RejectedDocument(f"no live sale order for PO {order.source_ref} in the ERP to invoice",
                                   location="sale.order")
        products = {str(line.id): line.product_id for line in so.lines}
        lines = []
        for line in draft.lines:
            product_id = products.get(line.source_line)
            if product_id is None:
                raise RejectedDocument(f"line {line.line_no} of PO {order.source_ref}: its sale order line "
                                       f"{line.source_line or '?'} is gone from the ERP", location="sale.order.line")
            lines.append([0, 0, invoice_line_values(product_id, line.quantity, line.unit_price,
                                                    int(line.source_line))])
        vals: dict[str, Any] = {"move_type": _MOVE_TYPES[draft.kind], "partner_id": so.partner_id,
                                "ref": draft.reference, "invoice_origin": order.source_ref,
                                "invoice_line_ids": lines}
        if so.currency_id is not None:
            vals["currency_id"] = so.currency_id
        if draft.refund_of:
            vals["reversed_entry_id"] = int(draft.refund_of)
        self.accounting.create_move(vals)
        created = [booked for booked in self.find(draft.reference) if booked.live]
        if not created:
            raise RejectedDocument(f"the ERP created {draft.reference} but does not find it by ref")
        return created[0]

    def post(self, booked: Booked) -> Booked:
        """``action_post`` on a draft; a posted document as it is."""
        if booked.state == "posted":
            return booked
        self.accounting.action_post(int(booked.record_id))
        again = [found for found in self.find(booked.reference) if found.record_id == booked.record_id]
        return again[0] if again else booked

    def _booked(self, moves: list[Move], so: _SaleOrder | None) -> list[Booked]:
        lines = self.accounting.move_lines([move.id for move in moves])
        result = []
        for move in moves:
            own = []
            for line in lines[move.id]:
                sale_line = line.sale_line_ids[0] if line.sale_line_ids else None
                line_no, sku = (so.line_no.get(sale_line, ("", "")) if so is not None and sale_line is not None
                                else ("", ""))
                own.append(InvoiceLine(line_no=line_no, sku=sku, quantity=line.quantity, unit_price=line.price_unit,
                                       source_line=str(sale_line) if sale_line is not None else ""))
            result.append(Booked(
                reference=move.ref, kind=_KINDS[move.move_type], record=move.name, record_id=str(move.id),
                state=move.state, lines=tuple(own),
                refund_of=str(move.reversed_entry_id) if move.reversed_entry_id is not None else None))
        return result
