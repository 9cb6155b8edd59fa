"""What the daily three-way match reads and writes: shipment lines, and each run's result (its history).

Shipment lines come from whatever ships (ERP deliveries, ASNs); a feed records them with
``record_shipment_lines``, in the order line's own unit (the store-wide match compares quantities as the
hold gate does: in the unit the customer ordered). Each run of the ``three_way_match`` asset is one
``match_runs`` row with its exceptions in ``match_findings``: a business day's result stays queryable
after later runs, whatever happens to the report files on the code server's disk.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from hub.store._tables import inserted_id, invoice_events, invoices, match_findings, match_runs, match_shipments


@dataclass(frozen=True)
class ShipmentLine:
    """One shipped line of a PO: ``quantity`` in the order line's unit."""

    source: str  # where it was learnt: ``erp_delivery``, ``asn``, ``demo``...
    document: str  # the delivery or ASN number
    partner_id: str
    po_number: str
    line_no: str
    sku: str
    quantity: Decimal
    ship_date: dt.date


@dataclass(frozen=True)
class MatchRun:
    """One ``match_runs`` row."""

    id: int
    business_day: dt.date
    ran_at: dt.datetime
    po_lines: int
    matched: int
    exceptions: int
    value_at_stake: Decimal
    summary: dict[str, Any]
    released: list[int]
    report_dir: str | None


def record_shipment_lines(conn: Connection, lines: Iterable[ShipmentLine], *, now: dt.datetime) -> int:
    """Record shipment lines; a line recorded before (same source, document, partner, PO, line) is replaced.
    How many lines were written."""
    rows = [{"source": line.source[:40], "document": line.document[:120], "partner_id": line.partner_id,
             "po_number": line.po_number, "line_no": line.line_no, "sku": line.sku[:80], "quantity": line.quantity,
             "ship_date": line.ship_date, "recorded_at": now} for line in lines]
    if not rows:
        return 0
    table = match_shipments
    for row in rows:  # delete-then-insert: the same on SQLite and PostgreSQL, in the caller's transaction
        conn.execute(delete(table).where(
            (table.c.source == row["source"]) & (table.c.document == row["document"])
            & (table.c.partner_id == row["partner_id"]) & (table.c.po_number == row["po_number"])
            & (table.c.line_no == row["line_no"])))
    conn.execute(insert(table), rows)
    return len(rows)


def shipment_lines(conn: Connection, *, until: dt.date) -> list[ShipmentLine]:
    """Every shipment line shipped on or before ``until``."""
    table = match_shipments
    rows = conn.execute(select(table).where(table.c.ship_date <= until).order_by(table.c.id)).mappings()
    return [ShipmentLine(row["source"], row["document"], row["partner_id"], row["po_number"], row["line_no"],
                         row["sku"], row["quantity"], row["ship_date"]) for row in rows]


def add_match_run(conn: Connection, *, business_day: dt.date, ran_at: dt.datetime, summary: Mapping[str, Any],
                  findings: Sequence[Mapping[str, Any]], released: Sequence[int], report_dir: str | None) -> int:
    """Store one run's result: counts and summary, its exceptions (``findings``: rows as ``match_findings``)."""
    run_id = int(inserted_id(conn.execute(insert(match_runs).values(
        business_day=business_day, ran_at=ran_at, po_lines=int(summary["po_lines"]),
        matched=int(summary["matched"]), exceptions=int(summary["exceptions"]),
        value_at_stake=Decimal(summary["value_at_stake"]), summary=dict(summary), released=list(released),
        report_dir=report_dir))))
    if findings:
        conn.execute(insert(match_findings), [{**finding, "run_id": run_id} for finding in findings])
    return run_id


def match_runs_of(conn: Connection, business_day: dt.date | None = None, *, limit: int = 100) -> list[MatchRun]:
    """The newest runs first, of one business day or of all."""
    query = select(match_runs).order_by(match_runs.c.id.desc()).limit(limit)
    if business_day is not None:
        query = query.where(match_runs.c.business_day == business_day)
    return [MatchRun(row["id"], row["business_day"], row["ran_at"], row["po_lines"], row["matched"],
                     row["exceptions"], row["value_at_stake"], dict(row["summary"]), list(row["released"]),
                     row["report_dir"]) for row in conn.execute(query).mappings()]


def findings_of_run(conn: Connection, run_id: int) -> list[dict[str, Any]]:
    """The exceptions one run found, as stored."""
    rows = conn.execute(select(match_findings).where(match_findings.c.run_id == run_id)
                        .order_by(match_findings.c.id)).mappings()
    return [{key: value for key, value in row.items() if key not in ("id", "run_id")} for row in rows]


def match_inputs_version(conn: Connection) -> str:
    """Changes whenever an invoice (or its state) or a shipment line changes; "" while there are none of
    either: the on-change sensor's cue (a new order alone has nothing to disagree with yet)."""
    def newest(column: Any) -> str:
        value = conn.execute(select(func.max(column))).scalar()
        return "" if value is None else str(value)

    shipments = conn.execute(select(func.count()).select_from(match_shipments)).scalar_one()
    events = newest(invoice_events.c.id)
    if not shipments and not events:
        return ""
    return "|".join([events, newest(invoices.c.updated_at), newest(match_shipments.c.recorded_at), str(shipments)])


def record_delivered(conn: Connection, *, source: str, document: str, delivered: Mapping[tuple[str, str],
                     Mapping[str, tuple[str, Decimal]]], on: dt.date, now: dt.datetime) -> int:
    """Record a target's delivered quantities (``(partner, PO)`` -> line -> (SKU, quantity so far)) as shipment
    lines of ``source``/``document``, dated ``on`` where the quantity changed since the last recording (the
    target says how much, not when: the day a change is first seen stands for its ship date). How many changed."""
    table = match_shipments
    known = {(row.partner_id, row.po_number, row.line_no): row.quantity for row in conn.execute(
        select(table.c.partner_id, table.c.po_number, table.c.line_no, table.c.quantity).where(
            (table.c.source == source) & (table.c.document == document)))}
    changed = [ShipmentLine(source, document, partner_id, po_number, line_no, sku, quantity, on)
               for (partner_id, po_number), lines in delivered.items()
               for line_no, (sku, quantity) in lines.items()
               if quantity > 0 and known.get((partner_id, po_number, line_no)) != quantity]
    return record_shipment_lines(conn, changed, now=now)
