"""A match result as finance reads it: JSON, CSV, HTML (one page) and XLSX.

Amounts leave as exact decimal text (``"12.50"``): JSON strings, CSV cells. The XLSX has them as numbers
so a spreadsheet can add them up (Excel keeps every number as a binary double; cents are exact below
10**13). Lists of documents (ASNs, invoices) are one space-separated cell in CSV and XLSX.
"""

from __future__ import annotations

import html
import io
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


def to_xlsx(result: MatchResult) -> bytes:
    """A workbook: Summary, Exceptions, Informational, Matched (amounts as numbers)."""
    import xlsxwriter  # type: ignore[import-untyped]  # ships no type information

    def numeric(findings: pl.DataFrame) -> pl.DataFrame:
        flat = _flat(findings, "").drop("finding")
        return flat.with_columns(*[pl.col(c).cast(pl.Decimal(38, 3)) for c in _QUANTITIES],
                                 *[pl.col(c).cast(pl.Decimal(38, 4)) for c in _PRICES],
                                 *[pl.col(c).cast(pl.Decimal(38, 2)) for c in _HUNDREDTHS])

    facts = summary(result)
    overview = pl.DataFrame(facts["by_category"]).with_columns(pl.col("value_at_stake").cast(pl.Decimal(38, 2)))
    buffer = io.BytesIO()
    with xlsxwriter.Workbook(buffer) as workbook:
        overview.write_excel(workbook, worksheet="Summary", autofit=True)
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


def to_html(result: MatchResult, title: str = "Three-way match") -> str:
    """One self-contained page: summary per category with totals, then the exceptions by category."""
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
