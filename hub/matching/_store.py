"""The store's three sides as match inputs: orders, shipment lines and invoices as they stood at a day's end.

- **Orders**: every production order (test orders left out) received by the end of the day, its newest
  version, cancelled ones included (an invoice against a cancelled PO still has its PO).
- **Shipments**: ``match_shipments`` lines shipped by that day (ERP deliveries, ASNs, as feeds record them).
- **Invoices**: the hub's invoices (``invoices``: posted, being sent, released and held ones) created by the
  end of the day, each line less what credit notes against that invoice took back. A posted invoice is
  named by the target's number (``INV/2026/00001``), others by our reference.

Quantities are compared in each order line's own unit on every side, as the hold gate does (``_gate``):
the store keeps no pack size, so nothing is converted here (``hub match`` converts cases for exports).
PO numbers are keyed by themselves, or ``PO (partner)`` where two partners use the same number.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import polars as pl
from sqlalchemy import Connection, select

from hub.matching._inputs import (
    INVOICE_COLUMNS,
    ORDER_COLUMNS,
    SHIPMENT_COLUMNS,
    prepare_invoices,
    prepare_orders,
    prepare_shipments,
)
from hub.store._invoices import InvoiceState, StoredInvoice, list_invoices
from hub.store._match_runs import shipment_lines
from hub.store._tables import order_lines, orders

_QTY, _PRICE = Decimal("0.001"), Decimal("0.0001")  # the engine's 3 and 4 decimals
_INVOICE, _CREDIT_NOTE = "invoice", "credit_note"
_ALL = 100_000_000


@dataclass(frozen=True)
class StoreSides:
    """The prepared frames ``match`` takes, and the held invoices by the number they have in them."""

    orders: pl.DataFrame
    shipments: pl.DataFrame
    invoices: pl.DataFrame
    held: dict[str, StoredInvoice]


def day_end(day: dt.date) -> dt.datetime:
    """The first instant after ``day`` (UTC): what was stored before it belongs to the day."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)


def _text(value: Decimal | None, step: Decimal) -> str:
    return "" if value is None else format(Decimal(value).quantize(step, ROUND_HALF_UP), "f")


def invoice_number(invoice: StoredInvoice) -> str:
    """How the match names an invoice: the target's number once posted, else our reference."""
    return invoice.record if invoice.record not in (None, "", "/") else invoice.reference


def read_store(conn: Connection, business_day: dt.date) -> StoreSides:
    """The three sides as they stood at the end of ``business_day``, prepared for ``match``."""
    end = day_end(business_day)
    rows = conn.execute(
        select(orders.c.partner_id, orders.c.source_ref, order_lines.c.line_no, order_lines.c.sku,
               order_lines.c.gtin, order_lines.c.buyer_part, order_lines.c.quantity, order_lines.c.unit_price)
        .join(order_lines, order_lines.c.order_id == orders.c.id)
        .where(orders.c.is_test.is_(False) & (orders.c.created_at < end))
        .order_by(orders.c.partner_id, orders.c.source_ref, order_lines.c.id)).all()
    shipped = shipment_lines(conn, until=business_day)
    stored = [invoice for invoice in list_invoices(conn, limit=_ALL) if invoice.created_at < end]

    partners_of: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        partners_of[row.source_ref].add(row.partner_id)

    def key(partner_id: str, po_number: str) -> str:
        return f"{po_number} ({partner_id})" if len(partners_of.get(po_number, ())) > 1 else po_number

    invoice_rows, first_price, first_sku = _invoice_rows(stored, key)
    for line in shipped:
        first_sku.setdefault((key(line.partner_id, line.po_number), line.line_no), line.sku)
    order_rows = []
    for row in rows:
        po = key(row.partner_id, row.source_ref)
        # A PO line without our SKU or price cannot disagree with the documents: it takes theirs.
        sku = row.sku or first_sku.get((po, row.line_no)) or row.gtin or row.buyer_part or row.line_no
        price = row.unit_price if row.unit_price is not None else first_price.get((po, row.line_no), Decimal(0))
        order_rows.append({"po_number": po, "line_no": row.line_no, "sku": sku, "qty": _text(row.quantity, _QTY),
                           "unit_price": _text(price, _PRICE), "uom": "EA", "pack_size": "",
                           "customer": row.partner_id})
    shipment_rows = [{"po_number": key(line.partner_id, line.po_number), "line_no": line.line_no, "sku": line.sku,
                      "qty_shipped": _text(line.quantity, _QTY), "ship_date": line.ship_date.isoformat(),
                      "asn_number": line.document, "uom": "EA"} for line in shipped]
    held = {invoice_number(invoice): invoice for invoice in stored if invoice.state is InvoiceState.HELD}
    return StoreSides(
        prepare_orders(_frame(order_rows, (*ORDER_COLUMNS, "customer")), "store orders"),
        prepare_shipments(_frame(shipment_rows, SHIPMENT_COLUMNS), "store shipments"),
        prepare_invoices(_frame(invoice_rows, INVOICE_COLUMNS), "store invoices"), held)


def _invoice_rows(stored: list[StoredInvoice], key: Any
                  ) -> tuple[list[dict[str, str]], dict[tuple[str, str], Decimal], dict[tuple[str, str], str]]:
    """Invoice lines net of their credit notes; the first price and SKU billed per PO line."""
    credited: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for note in (invoice for invoice in stored if invoice.kind == _CREDIT_NOTE):
        for line in note.lines:
            credited[(note.refund_of or "", str(line["line_no"]))] += Decimal(line["quantity"])
    result: list[dict[str, str]] = []
    first_price: dict[tuple[str, str], Decimal] = {}
    first_sku: dict[tuple[str, str], str] = {}
    for invoice in (invoice for invoice in stored if invoice.kind == _INVOICE):
        po = key(invoice.partner_id, invoice.po_number)
        for line in invoice.lines:
            line_no = str(line["line_no"])
            quantity = Decimal(line["quantity"])
            if invoice.record_id:
                quantity -= credited.pop((invoice.record_id, line_no), Decimal(0))
            if quantity <= 0:
                continue  # credited in full
            price = Decimal(line["unit_price"])
            first_price.setdefault((po, line_no), price)
            first_sku.setdefault((po, line_no), str(line["sku"]))
            result.append({"invoice_number": invoice_number(invoice),
                           "invoice_date": invoice.created_at.date().isoformat(), "po_number": po,
                           "line_no": line_no, "sku": str(line["sku"]) or "?", "qty_invoiced": _text(quantity, _QTY),
                           "unit_price": _text(price, _PRICE), "uom": "EA"})
    return result, first_price, first_sku


def _frame(rows: list[dict[str, str]], columns: tuple[str, ...]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=dict.fromkeys(columns, pl.String))
