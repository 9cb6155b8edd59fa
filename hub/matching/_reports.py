"""A match result as finance reads it: JSON, CSV, HTML (one page) and XLSX.

Amounts leave as exact decimal text (``"12.50"``): JSON strings, CSV cells. The XLSX has them as numbers
so a spreadsheet can add them up (Excel keeps every number as a binary double; cents are exact below
10**13). Lists of documents (ASNs, invoices) are one space-separated cell in CSV and XLSX.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import polars as pl

from hub.matching._categories import EXCEPTIONS, INFORMATIONAL
from hub.matching._engine import MatchResult
from hub.matching._numbers import CENTS, format_price, format_quantity, format_scaled

FORMATS = ("json", "csv", "html", "xlsx")
_QUANTITIES = ("ordered_qty", "shipped_qty", "invoiced_qty")
_PRICES = ("po_unit_price", "invoice_unit_price")
_HUNDREDTHS = ("variance_pct", "value_at_stake")
_LISTS = ("invoice_numbers", "asn_numbers")


def present(findings: pl.DataFrame) -> pl.DataFrame:
    """Findings with every figure as exact decimal text (quantities in eaches, prices, percent, money)."""
    return findings.with_columns(
        *[format_quantity(pl.col(c)).alias(c) for c in _QUANTITIES],
        *[format_price(pl.col(c)).alias(c) for c in _PRICES],
        *[format_scaled(pl.col(c), CENTS).alias(c) for c in _HUNDREDTHS],
        pl.col("first_ship_date").dt.to_string("%Y-%m-%d"))


def summary(result: MatchResult) -> dict[str, Any]:
    """Counts and value at stake: overall and per category (every category listed, zeros included)."""
    totals = result.exceptions.group_by("category").agg(count=pl.len(), value=pl.col("value_at_stake").sum())
    known = {row["category"]: row for row in totals.iter_rows(named=True)}
    counts = result.informational.group_by("category").len()
    info = dict(counts.iter_rows())
    total = sum(int(row["value"] or 0) for row in known.values())
    return {
        "po_lines": result.po_lines,
        "matched": result.matched.height,
        "exceptions": result.exceptions.height,
        "value_at_stake": _cents(total),
        "by_category": [{"category": c, "count": int(known[c]["count"]) if c in known else 0,
                         "value_at_stake": _cents(int(known[c]["value"] or 0) if c in known else 0)}
                        for c in EXCEPTIONS],
        "informational": [{"category": c, "count": int(info.get(c, 0))} for c in INFORMATIONAL],
    }


@dataclass(frozen=True)
class Hold:
    """A held invoice as the report ages it (the store's holds; ``hub match`` on exports has none)."""

    invoice_number: str
    customer: str
    po_number: str
    amount: Decimal
    held_since: dt.date
    categories: tuple[str, ...] = ()


AGE_BUCKETS = ("0-30", "31-60", "61-90", "90+")


def _bucket(days: int) -> str:
    return AGE_BUCKETS[0 if days <= 30 else 1 if days <= 60 else 2 if days <= 90 else 3]


def customers(result: MatchResult) -> list[dict[str, Any]]:
    """Per customer: exceptions and value at stake (documents without a known PO under ``(no PO)``)."""
    grouped = result.exceptions.group_by(pl.col("customer").fill_null("(no PO)")).agg(
        count=pl.len(), value=pl.col("value_at_stake").sum()).sort("value", "customer", descending=[True, False])
    return [{"customer": row["customer"], "exceptions": int(row["count"]),
             "value_at_stake": _cents(int(row["value"] or 0))} for row in grouped.iter_rows(named=True)]


def aging(result: MatchResult, as_of: dt.date, holds: Sequence[Hold] = ()) -> dict[str, list[dict[str, Any]]]:
    """Unbilled shipments (``shipped_not_invoiced``, by first ship date) and held invoices (by the day they were
    held), counted and valued per age bucket in days as of ``as_of``."""
    def empty() -> dict[str, list[int]]:
        return {bucket: [0, 0] for bucket in AGE_BUCKETS}

    unbilled, held = empty(), empty()
    rows = result.exceptions.filter(pl.col("category") == "shipped_not_invoiced").select(
        "first_ship_date", "value_at_stake")
    for shipped, value in rows.iter_rows():
        cell = unbilled[_bucket((as_of - shipped).days if shipped is not None else 0)]
        cell[0], cell[1] = cell[0] + 1, cell[1] + int(value or 0)
    for hold in holds:
        cell = held[_bucket((as_of - hold.held_since).days)]
        cell[0], cell[1] = cell[0] + 1, cell[1] + int((hold.amount * 100).to_integral_value())

    def listed(table: dict[str, list[int]]) -> list[dict[str, Any]]:
        return [{"age_days": b, "count": n, "value": _cents(v)} for b, (n, v) in table.items()]
    return {"unbilled_shipments": listed(unbilled), "held_invoices": listed(held)}


def _cents(value: int) -> str:
    sign, value = ("-", -value) if value < 0 else ("", value)
    return f"{sign}{value // 100}.{value % 100:02d}"


def to_json(result: MatchResult) -> dict[str, Any]:
    """The documented JSON report: ``summary``, ``exceptions``, ``matched``, ``informational``."""
    return {"summary": summary(result), "exceptions": present(result.exceptions).to_dicts(),
            "matched": result.matched.to_dicts(), "informational": present(result.informational).to_dicts()}


def _flat(findings: pl.DataFrame, finding: str) -> pl.DataFrame:
    return present(findings).with_columns(*[pl.col(c).list.join(" ") for c in _LISTS]).select(
        pl.lit(finding).alias("finding"), pl.all())


def to_csv(result: MatchResult) -> str:
    """One CSV: exceptions, then informational findings, then matched lines (column ``finding`` says which)."""
    matched = result.matched.select(pl.lit("matched").alias("finding"), pl.lit("matched").alias("category"),
                                    pl.all())
    rows = pl.concat([_flat(result.exceptions, "exception"), _flat(result.informational, "informational"),
                      matched], how="diagonal")
    return rows.write_csv()


def to_xlsx(result: MatchResult, *, as_of: dt.date | None = None, holds: Sequence[Hold] = ()) -> bytes:
    """A workbook: Summary, Customers, Aging (as of ``as_of``, default today), Exceptions, Informational, Matched
    (amounts as numbers)."""
    import xlsxwriter  # type: ignore[import-untyped]  # ships no type information

    def numeric(findings: pl.DataFrame) -> pl.DataFrame:
        flat = _flat(findings, "").drop("finding")
        return flat.with_columns(*[pl.col(c).cast(pl.Decimal(38, 3)) for c in _QUANTITIES],
                                 *[pl.col(c).cast(pl.Decimal(38, 4)) for c in _PRICES],
                                 *[pl.col(c).cast(pl.Decimal(38, 2)) for c in _HUNDREDTHS])

    facts = summary(result)
    overview = pl.DataFrame(facts["by_category"]).with_columns(pl.col("value_at_stake").cast(pl.Decimal(38, 2)))
    per_customer = pl.DataFrame(customers(result), schema={"customer": pl.String, "exceptions": pl.Int64,
                                                           "value_at_stake": pl.String})
    ages = aging(result, as_of or dt.date.today(), holds)
    aged = pl.DataFrame([{"what": what.replace("_", " "), **row} for what, rows in ages.items() for row in rows])
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer) as workbook:
        overview.write_excel(workbook, worksheet="Summary", autofit=True)
        per_customer.with_columns(pl.col("value_at_stake").cast(pl.Decimal(38, 2))).write_excel(
            workbook, worksheet="Customers", autofit=True)
        aged.with_columns(pl.col("value").cast(pl.Decimal(38, 2))).write_excel(workbook, worksheet="Aging",
                                                                                autofit=True)
        numeric(result.exceptions).write_excel(workbook, worksheet="Exceptions", autofit=True)
        numeric(result.informational).write_excel(workbook, worksheet="Informational", autofit=True)
        result.matched.write_excel(workbook, worksheet="Matched", autofit=True)
    return buffer.getvalue()


_STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0 0 2em; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f3f3f3; }
h2 { margin-top: 1.5em; }
svg.chart text { font: 12px system-ui, sans-serif; fill: #222; }
svg.chart rect { fill: #4a78b5; }
"""

_HTML_COLUMNS = ("po_number", "line_no", "sku", "customer", "invoice_number", "invoice_numbers", "asn_numbers",
                 "ordered_qty", "shipped_qty", "invoiced_qty", "po_unit_price", "po_uom", "invoice_unit_price",
                 "invoice_uom", "variance_pct", "value_at_stake", "first_ship_date", "detail")
_NUMERIC = set(_QUANTITIES) | set(_PRICES) | set(_HUNDREDTHS)


def _cell(name: str, value: Any) -> str:
    shown = " ".join(value) if isinstance(value, list) else ("" if value is None else str(value))
    klass = ' class="n"' if name in _NUMERIC else ""
    return f"<td{klass}>{html.escape(shown)}</td>"


def _table(rows: list[dict[str, Any]]) -> str:
    head = "".join(f'<th{" class=n" if c in _NUMERIC else ""}>{html.escape(c)}</th>' for c in _HTML_COLUMNS)
    body = "\n".join("<tr>" + "".join(_cell(c, row[c]) for c in _HTML_COLUMNS) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def _chart(label: str, bars: Sequence[tuple[str, str]]) -> str:
    """A horizontal bar chart as inline SVG (no script, no network): one bar per (name, amount text)."""
    values = [Decimal(amount) for _, amount in bars]
    top = max(values, default=Decimal(0)) or Decimal(1)
    height = 22 * len(bars) + 8
    parts = [f'<svg class=chart role=img aria-label="{html.escape(label)}" width=640 height={height} '
             f'xmlns="http://www.w3.org/2000/svg">']
    for i, ((name, amount), value) in enumerate(zip(bars, values, strict=True)):
        y, width = 4 + 22 * i, int(360 * value / top) if value > 0 else 0
        parts.append(f'<text x=0 y={y + 14}>{html.escape(name)}</text><rect x=180 y={y} width={width} height=16>'
                     f'</rect><text x={186 + width} y={y + 14}>{html.escape(amount)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _aging_html(ages: dict[str, list[dict[str, Any]]], as_of: dt.date) -> list[str]:
    lines = [f"<h2 id=aging>Aging as of {as_of.isoformat()} (days)</h2>"]
    for what, rows in ages.items():
        name = what.replace("_", " ")
        lines.append(f"<h3>{name}</h3><table><thead><tr><th>age (days)</th><th class=n>count</th>"
                     "<th class=n>value</th></tr></thead><tbody>")
        lines += [f"<tr><td>{row['age_days']}</td><td class=n>{row['count']}</td><td class=n>{row['value']}</td></tr>"
                  for row in rows]
        lines.append("</tbody></table>")
        lines.append(_chart(f"{name} by age", [(row["age_days"], row["value"]) for row in rows]))
    return lines


def _holds_html(holds: Sequence[Hold], as_of: dt.date) -> list[str]:
    if not holds:
        return []
    esc = html.escape
    lines = ["<h2 id=held>Held invoices</h2><table><thead><tr><th>invoice</th><th>customer</th><th>PO</th>"
             "<th class=n>amount</th><th>held since</th><th class=n>days</th><th>why</th></tr></thead><tbody>"]
    lines += [f"<tr><td>{esc(h.invoice_number)}</td><td>{esc(h.customer)}</td><td>{esc(h.po_number)}</td>"
              f"<td class=n>{h.amount:.2f}</td><td>{h.held_since.isoformat()}</td>"
              f"<td class=n>{(as_of - h.held_since).days}</td><td>{esc(', '.join(h.categories))}</td></tr>"
              for h in holds]
    lines.append("</tbody></table>")
    return lines


def to_html(result: MatchResult, title: str = "Three-way match", *, as_of: dt.date | None = None,
            holds: Sequence[Hold] = ()) -> str:
    """One self-contained page: totals, exceptions by category (with a chart), per customer, aging of unbilled
    shipments and held invoices as of ``as_of`` (default today), then the exceptions by category."""
    as_of = as_of or dt.date.today()
    facts = summary(result)
    esc = html.escape
    lines = [f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{esc(title)}</title>",
             f"<style>{_STYLE}</style></head><body>", f"<h1>{esc(title)}</h1>",
             f"<p>{facts['po_lines']} PO lines: {facts['matched']} matched, {facts['exceptions']} exceptions, "
             f"value at stake {esc(facts['value_at_stake'])}.</p>",
             "<h2>Exceptions by category</h2><table><thead><tr><th>category</th><th class=n>count</th>"
             "<th class=n>value at stake</th></tr></thead><tbody>"]
    for row in facts["by_category"]:
        lines.append(f"<tr><td><a href=\"#{row['category']}\">{row['category']}</a></td><td class=n>{row['count']}"
                     f"</td><td class=n>{esc(row['value_at_stake'])}</td></tr>")
    lines.append(f"<tr><th>total</th><th class=n>{facts['exceptions']}</th>"
                 f"<th class=n>{esc(facts['value_at_stake'])}</th></tr></tbody></table>")
    lines.append(_chart("value at stake by category", [(r["category"], r["value_at_stake"])
                                                       for r in facts["by_category"]]))
    lines.append("<h2 id=customers>Per customer</h2><table><thead><tr><th>customer</th><th class=n>exceptions</th>"
                 "<th class=n>value at stake</th></tr></thead><tbody>")
    lines += [f"<tr><td>{esc(row['customer'])}</td><td class=n>{row['exceptions']}</td>"
              f"<td class=n>{esc(row['value_at_stake'])}</td></tr>" for row in customers(result)]
    lines.append("</tbody></table>")
    lines += _aging_html(aging(result, as_of, holds), as_of)
    lines += _holds_html(holds, as_of)
    lines.append("<h2>Informational (not exceptions)</h2><table><tbody>")
    lines += [f"<tr><td>{row['category']}</td><td class=n>{row['count']}</td></tr>" for row in facts["informational"]]
    lines.append("</tbody></table>")
    shown = present(result.exceptions)
    for category in EXCEPTIONS:
        rows = shown.filter(pl.col("category") == category).to_dicts()
        if rows:
            lines.append(f"<h2 id=\"{category}\">{category} ({len(rows)})</h2>")
            lines.append(_table(rows))
    lines.append("</body></html>")
    return "\n".join(lines)
