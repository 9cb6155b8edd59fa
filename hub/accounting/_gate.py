"""The hold gate: an invoice is matched (``hub.matching``) against its order and what was delivered before it
is posted; any exception holds it.

The three sides of the match, for one PO: the **order** as the customer sent it (our canonical order: its
quantities and prices), the **shipments** (the target's delivered quantities per line), and the
**invoices** (every live invoice the target holds for the PO, credit notes netted against the invoice they
reverse, plus the draft). Quantities are compared in the order line's own unit on every side.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from canonical.model import Order
from hub import store as st
from hub.targets import BillableLine, Booked, InvoiceKind, InvoiceLine

QTY, PRICE = Decimal("0.001"), Decimal("0.0001")  # what hub.matching takes: 3 and 4 decimals
_FINDING_FIELDS = ("category", "po_number", "line_no", "sku", "invoice_number", "ordered_qty", "shipped_qty",
                   "invoiced_qty", "po_unit_price", "invoice_unit_price", "variance_pct", "value_at_stake",
                   "detail")


def _text(value: Decimal, step: Decimal) -> str:
    return format(value.quantize(step), "f")


def net_invoiced(booked: Sequence[Booked]) -> list[tuple[str, InvoiceLine]]:
    """(invoice number, line) of every live invoice, each line less what credit notes against it took back."""
    invoices = [b for b in booked if b.live and b.kind is InvoiceKind.INVOICE]
    credited: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for note in (b for b in booked if b.live and b.kind is InvoiceKind.CREDIT_NOTE):
        for line in note.lines:
            credited[(note.refund_of or "", line.line_no)] += line.quantity
    result = []
    for invoice in invoices:
        for line in invoice.lines:
            quantity = line.quantity - credited.pop((invoice.record_id, line.line_no), Decimal(0))
            if quantity > 0:
                result.append((invoice.record if invoice.record not in ("", "/") else invoice.reference or
                               f"id {invoice.record_id}", InvoiceLine(line.line_no, line.sku, quantity,
                                                                      line.unit_price, line.source_line)))
    return result


def match_invoice(order: Order, billable: Sequence[BillableLine], booked: Sequence[Booked], draft_number: str,
                  draft: Sequence[InvoiceLine], tolerances: Any = None) -> list[dict[str, Any]]:
    """The match's exceptions for the order with ``draft`` added to what the target holds ([] = may be posted).

    Each finding is a dict of text values (``category``, ``line_no``, ``sku``, ``value_at_stake``, ``detail``...).
    """
    import polars as pl

    from hub import matching

    by_line = {line.line_no: line for line in billable}
    orders = [{"po_number": order.source_ref, "line_no": line.line_no,
               "sku": (by_line[line.line_no].sku if line.line_no in by_line else line.sku or line.line_no),
               "qty": _text(line.quantity, QTY),
               # Without a price on the PO the ERP's price is the agreed one: nothing to compare it with.
               "unit_price": _text(line.unit_price if line.unit_price is not None
                                   else by_line[line.line_no].unit_price if line.line_no in by_line else Decimal(0),
                                   PRICE),
               "uom": "EA", "pack_size": "", "customer": order.partner_id} for line in order.lines]
    shipments = [{"po_number": order.source_ref, "line_no": line.line_no, "sku": line.sku,
                  "qty_shipped": _text(line.delivered, QTY), "ship_date": "", "asn_number": "delivered",
                  "uom": "EA"} for line in billable if line.delivered > 0]
    invoiced = [*net_invoiced(booked), *((draft_number, line) for line in draft)]
    invoices = [{"invoice_number": number, "invoice_date": "", "po_number": order.source_ref if line.line_no else "",
                 "line_no": line.line_no, "sku": line.sku or "?", "qty_invoiced": _text(line.quantity, QTY),
                 "unit_price": _text(line.unit_price, PRICE), "uom": "EA"} for number, line in invoiced]

    def frame(rows: list[dict[str, str]], columns: tuple[str, ...]) -> pl.DataFrame:
        return pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String))

    result = matching.match(
        matching.prepare_orders(frame(orders, (*matching.ORDER_COLUMNS, "customer")), "order"),
        matching.prepare_shipments(frame(shipments, matching.SHIPMENT_COLUMNS), "deliveries"),
        matching.prepare_invoices(frame(invoices, matching.INVOICE_COLUMNS), "invoices"),
        tolerances=tolerances)
    return [{key: ("" if row.get(key) is None else str(row[key])) for key in _FINDING_FIELDS}
            for row in matching.present(result.exceptions).to_dicts()]


def auto_release(conn: Any, invoice_id: int, *, now: Any, why: str = "a re-match found it within tolerance") -> bool:
    """Release a held invoice a re-match found clean, audited as the hub's (``auto_released``, ``why``); False if
    it was not held any more (a person or another run released it first)."""
    return st.change_invoice(conn, invoice_id, state=st.InvoiceState.RELEASED, actor="hub", action="auto_released",
                             note=why, now=now, expect=st.InvoiceState.HELD, findings=[])
