"""The store-wide three-way match of one business day (the ``three_way_match`` asset's work, no Dagster here).

One run: the store's orders, shipment lines and invoices as they stood at the day's end (``_store``)
matched with the hold gate's tolerances; held invoices the match now finds clean released (only when
matching the current day: an old day's view must not release what is held today); the result stored as
the day's newest run (``match_runs``, ``match_findings``) and written as HTML, CSV and XLSX reports.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl

from hub.matching._engine import MatchResult, match
from hub.matching._reports import Hold, present, summary, to_csv, to_html, to_xlsx
from hub.matching._store import StoreSides, read_store
from hub.matching._tolerances import Tolerances
from hub.store import HubStore
from hub.store._invoices import StoredInvoice
from hub.store._match_runs import add_match_run

REPORT_NAME = "three-way-match"


@dataclass(frozen=True)
class DailyMatch:
    """What one run found and did: the result, its summary, the invoices it released, the report files."""

    business_day: dt.date
    result: MatchResult
    summary: dict[str, Any]
    run_id: int
    released: list[int] = field(default_factory=list)
    reports: dict[str, Path] = field(default_factory=dict)  # format -> file


def run_daily_match(store: HubStore, business_day: dt.date, *, tolerances: Tolerances | None = None,
                    report_dir: Path | None = None, release: bool = True, now: dt.datetime | None = None
                    ) -> DailyMatch:
    """Match the store as of ``business_day``'s end; release clean held invoices when ``release``; store the run
    and write the reports into ``report_dir`` (none when None)."""
    from hub.accounting._gate import auto_release  # the release path the invoicing pass audits the same way

    now = now or dt.datetime.now(dt.UTC)
    with store.transaction() as conn:
        sides = read_store(conn, business_day)
    result = match(sides.orders, sides.shipments, sides.invoices, tolerances)
    facts = summary(result)
    clean = clean_held(result, sides) if release else []
    holds = [_hold(number, invoice) for number, invoice in sides.held.items()
             if invoice.id not in {i.id for i in clean}]
    reports = _write_reports(result, business_day, holds, report_dir) if report_dir is not None else {}
    with store.transaction() as conn:
        released = [invoice.id for invoice in clean if auto_release(
            conn, invoice.id, now=now, why=f"the three-way match of {business_day} found it within tolerance")]
        run_id = add_match_run(conn, business_day=business_day, ran_at=now, summary=facts,
                               findings=_findings(result), released=released,
                               report_dir=str(report_dir) if report_dir is not None else None)
    return DailyMatch(business_day, result, facts, run_id, released, reports)


def _line_no(value: str) -> str:
    """A line number as the engine keys it (``001`` is ``1``)."""
    return str(int(value)) if re.fullmatch(r"[0-9]+", value) else value


# Holds the store cannot judge whole: the hold gate saw every invoice the target holds for the PO, those typed
# in by hand included, and the store only ours. An invoice held for one of these stays for the invoicing
# pass's own re-match (``hub.accounting``), which looks at the target; releasing it here could bill twice.
NOT_SEEN_WHOLE = frozenset({"over_billed", "duplicate_invoice", "invoice_without_po", "sku_mismatch"})


def clean_held(result: MatchResult, sides: StoreSides) -> list[StoredInvoice]:
    """The held invoices the match finds nothing against: no exception names them, none is on a PO line they
    bill (an over-shipment or a short delivery on that line keeps its invoice held, as the hold gate does),
    and none was held for a reason only the target can clear (``NOT_SEEN_WHOLE``)."""
    found = result.exceptions
    named = set(found["invoice_number"].drop_nulls().to_list())
    named.update(number for numbers in found["invoice_numbers"].to_list() for number in numbers or [])
    flagged = {(po, line) for po, line in found.select("po_number", "line_no").iter_rows() if po is not None}
    billed = sides.invoices.group_by("invoice_number").agg(pl.struct("po_number", "line_no"))
    lines_of = {row[0]: [(item["po_number"], item["line_no"]) for item in row[1]] for row in billed.iter_rows()}
    clean = []
    for number, invoice in sides.held.items():
        if {str(finding.get("category")) for finding in invoice.findings} & NOT_SEEN_WHOLE:
            continue
        lines = lines_of.get(number, [])
        if lines and number not in named and not any((po, _line_no(line)) in flagged for po, line in lines):
            clean.append(invoice)
    return clean


def _hold(number: str, invoice: StoredInvoice) -> Hold:
    return Hold(number, invoice.partner_id, invoice.po_number, invoice.amount, invoice.created_at.date(),
                tuple(sorted({str(f.get("category", "")) for f in invoice.findings})))


def _findings(result: MatchResult) -> list[dict[str, Any]]:
    """The exceptions as ``match_findings`` rows (amounts exact: percent and currency)."""
    rows = []
    for row in present(result.exceptions).iter_rows(named=True):
        number = row["invoice_number"] or " ".join(row["invoice_numbers"] or []) or None
        rows.append({"category": row["category"], "customer": row["customer"], "po_number": row["po_number"],
                     "line_no": row["line_no"], "sku": row["sku"], "invoice_number": number and number[:200],
                     "variance_pct": None if row["variance_pct"] is None else Decimal(row["variance_pct"]),
                     "value_at_stake": None if row["value_at_stake"] is None else Decimal(row["value_at_stake"]),
                     "detail": row["detail"] or ""})
    return rows


def _write_reports(result: MatchResult, day: dt.date, holds: list[Hold], folder: Path) -> dict[str, Path]:
    """The day's HTML, CSV and XLSX side by side (a re-run of the day replaces them; the store keeps every run)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {fmt: folder / f"{REPORT_NAME}-{day.isoformat()}.{fmt}" for fmt in ("html", "csv", "xlsx")}
    title = f"Three-way match, business day {day.isoformat()}"
    paths["html"].write_text(to_html(result, title, as_of=day, holds=holds), encoding="utf-8")
    paths["csv"].write_text(to_csv(result), encoding="utf-8")
    paths["xlsx"].write_bytes(to_xlsx(result, as_of=day, holds=holds))
    return paths
