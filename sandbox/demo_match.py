"""The demo's three-way match: sample POs, shipment lines and invoices planted in the demo store with one
exception of each kind, then today's partition of the ``three_way_match`` asset run through Dagster.

The planted orders belong to a customer of their own (``demo-retail``) and are marked not for delivery,
so no target, reconciliation or acknowledgement ever looks at them; their invoices belong to an accounting
target of their own (``demo-accounting``), so the ERP's invoicing pass never sends them. Planting is
idempotent: the second demo run finds the orders and adds nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import dagster as dg

from canonical.model import Order, OrderLine, Party, PartyRole, Source
from hub import store as st
from hub.store._match_runs import ShipmentLine, record_shipment_lines

CUSTOMER = "demo-retail"
TARGET = "demo-accounting"
NOT_FOR_DELIVERY = "demo: three-way match sample, not for delivery"
FIRST_PO = "DM-1001"

# PO -> its lines (line, SKU, quantity, unit price); every one in eaches.
ORDERS: dict[str, list[tuple[str, str, str, str]]] = {
    "DM-1001": [("1", "MUG-RED", "10", "5.00"), ("2", "MUG-BLUE", "5", "2.00")],  # matched; price_variance
    "DM-1002": [("1", "TEA-50", "10", "3.00")],  # over_billed (held)
    "DM-1003": [("1", "SPOON-6", "10", "1.50")],  # over_shipped
    "DM-1004": [("1", "KETTLE-1", "6", "24.00")],  # shipped_not_invoiced (45 days ago)
    "DM-1005": [("1", "JAR-L", "4", "7.00")],  # invoiced_not_shipped
    "DM-1006": [("1", "TRAY-S", "3", "10.00")],  # duplicate_invoice
    "DM-1007": [("1", "CUP-E", "2", "9.00")],  # sku_mismatch
    "DM-1008": [("1", "BOWL-M", "5", "6.00")],  # held for a delivery not known then: released by the match
}
# (document, PO, line, SKU, quantity, days ago)
SHIPMENTS = [
    ("ASN-7001", "DM-1001", "1", "MUG-RED", "10", 10), ("ASN-7001", "DM-1001", "2", "MUG-BLUE", "5", 10),
    ("ASN-7002", "DM-1002", "1", "TEA-50", "8", 35), ("ASN-7003", "DM-1003", "1", "SPOON-6", "12", 20),
    ("ASN-7004", "DM-1004", "1", "KETTLE-1", "6", 45), ("ASN-7006", "DM-1006", "1", "TRAY-S", "3", 5),
    ("ASN-7007", "DM-1007", "1", "CUP-E", "2", 5), ("ASN-7008", "DM-1008", "1", "BOWL-M", "5", 2),
    ("ASN-7999", "DM-9998", "1", "PLATE-X", "4", 3),  # shipment_without_po
]
# (our reference, target's number or None while held, state, PO, [(line, SKU, quantity, price)], days ago, why held)
INVOICES: list[tuple[str, str | None, st.InvoiceState, str, list[tuple[str, str, str, str]], int, str]] = [
    ("demo/DM-1001/1", "INV/2026/0101", st.InvoiceState.POSTED, "DM-1001",
     [("1", "MUG-RED", "10", "5.00"), ("2", "MUG-BLUE", "5", "2.50")], 9, ""),
    ("demo/DM-1002/1", None, st.InvoiceState.HELD, "DM-1002", [("1", "TEA-50", "10", "3.00")], 34, "over_billed"),
    ("demo/DM-1003/1", "INV/2026/0103", st.InvoiceState.POSTED, "DM-1003", [("1", "SPOON-6", "12", "1.50")], 19, ""),
    ("demo/DM-1005/1", "INV/2026/0105", st.InvoiceState.POSTED, "DM-1005", [("1", "JAR-L", "4", "7.00")], 3, ""),
    ("demo/DM-1006/1", "INV/2026/0106", st.InvoiceState.POSTED, "DM-1006", [("1", "TRAY-S", "3", "10.00")], 4, ""),
    # The same invoice number booked a second time (a resubmission): bills the line again.
    ("demo/DM-1006/2", "INV/2026/0106", st.InvoiceState.POSTED, "DM-1006", [("1", "TRAY-S", "3", "10.00")], 2, ""),
    ("demo/DM-1007/1", "INV/2026/0107", st.InvoiceState.POSTED, "DM-1007", [("1", "CUP-E-ALT", "2", "9.00")], 4, ""),
    ("demo/DM-1008/1", None, st.InvoiceState.HELD, "DM-1008", [("1", "BOWL-M", "5", "6.00")], 6,
     "invoiced_not_shipped"),
    ("demo/DM-9999/1", "INV/2026/0199", st.InvoiceState.POSTED, "DM-9999", [("1", "LID-9", "1", "4.00")], 1, ""),
]


def plant(store: st.HubStore, now: dt.datetime | None = None) -> bool:
    """Plant the sample POs, shipments and invoices once; False when they are there already."""
    now = now or st.utcnow()
    with store.transaction() as conn:
        if conn.execute(st.tables.orders.select().where(
                (st.tables.orders.c.partner_id == CUSTOMER) & (st.tables.orders.c.source_ref == FIRST_PO))).first():
            return False
        for po, lines in ORDERS.items():
            st.save_channel_order(conn, _order(po, lines, now.date() - dt.timedelta(days=50)),
                                  source_updated_at=now, receipt_id=None, now=now - dt.timedelta(days=50),
                                  not_pushed_reason=NOT_FOR_DELIVERY)
        record_shipment_lines(conn, [
            ShipmentLine("demo", document, CUSTOMER, po, line, sku, Decimal(qty), now.date() - dt.timedelta(days=ago))
            for document, po, line, sku, qty, ago in SHIPMENTS], now=now)
        for reference, record, state, po, lines, ago, why in INVOICES:
            _invoice(conn, reference, record, state, po, lines, now - dt.timedelta(days=ago), why)
    return True


def _order(po: str, lines: list[tuple[str, str, str, str]], day: dt.date) -> Order:
    order_lines = [OrderLine(line_no=n, sku=sku, quantity=Decimal(q), unit_price=Decimal(p),
                             amount=Decimal(q) * Decimal(p)) for n, sku, q, p in lines]
    return Order(source=Source.EMAIL, source_ref=po, partner_id=CUSTOMER, order_date=day,
                 parties=[Party(role=PartyRole.BUYER, name="Demo Retail")], lines=order_lines,
                 total=sum((line.amount or Decimal(0) for line in order_lines), Decimal(0)))


def _invoice(conn: Any, reference: str, record: str | None, state: st.InvoiceState, po: str,
             lines: list[tuple[str, str, str, str]], at: dt.datetime, why: str) -> None:
    stored = [{"line_no": n, "sku": sku, "quantity": q, "unit_price": p, "source_line": ""} for n, sku, q, p in lines]
    findings = [{"category": why, "po_number": po, "line_no": "1", "detail": "planted by the demo"}] if why else []
    st.add_invoice(conn, target=TARGET, partner_id=CUSTOMER, po_number=po, order_id=None, reference=reference,
                   kind="invoice", state=state, lines=stored,
                   amount=sum((Decimal(q) * Decimal(p) for _, _, q, p in lines), Decimal(0)), refund_of=None,
                   findings=findings, actor="demo", note="planted by the demo", now=at)
    if record is not None:  # posted in the (imaginary) accounting system under its number
        conn.execute(st.tables.invoices.update().where(st.tables.invoices.c.reference == reference)
                     .values(record=record, record_id=record))


def run(say: Callable[[str], None], defs: dg.Definitions, instance: dg.DagsterInstance, store: st.HubStore,
        run_config: dict[str, Any] | None = None) -> str | None:
    """Plant the samples, run today's ``three_way_match`` partition, print the outcome; the HTML report's path."""
    from hub.defs.matching.assets import ASSET, JOB, today

    planted = plant(store)
    say("\n== three-way match: orders vs shipments vs invoices, today's partition")
    say(f"   sample POs for {CUSTOMER}: " + ("planted" if planted else "already there (planted by an earlier run)"))
    result = defs.resolve_job_def(JOB).execute_in_process(
        instance=instance, partition_key=today().isoformat(), run_config=run_config or {}, raise_on_error=False,
        tags={"hub/demo": "match"})
    events = [e for e in result.get_asset_materialization_events() if e.asset_key == dg.AssetKey(ASSET)]
    if not result.success or not events:
        say(f"   {JOB}: FAILED")
        return None
    # Metadata values are typed as any packable value; these are the asset's own (_metadata): dicts and lists.
    meta: dict[str, Any] = {key: value.value for key, value in events[0].materialization.metadata.items()}
    say(f"   {JOB}: success; {meta['po_lines']} PO lines, {meta['matched']} matched, {meta['exceptions']} "
        f"exceptions, value at stake {meta['value_at_stake']}")
    found = {category: row["count"] for category, row in meta["by_category"].items()}
    say("   by category        " + ", ".join(f"{category}: {count}" for category, count in found.items()))
    released = meta["released_invoices"]
    say(f"   auto-released      {len(released)} held invoice(s) now within tolerance" +
        (f" (ids {', '.join(map(str, released))}; hub holds show ID)" if released else ""))
    say(f"   match report       {meta['report']}  (CSV and XLSX beside it; linked from the asset in the UI)")
    return str(meta["report"])
