"""The three exports read and checked: orders, shipments and invoices as typed polars frames.

Every cell is read as text and converted here, so a bad number is reported with its file, row and column
instead of being guessed at by a CSV reader. Problems are gathered per kind (at most a few examples each)
and raised together as one ``MatchDataError``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from hub.matching._numbers import PRICE_SCALE, QTY_SCALE, parse_scaled, text

ORDER_COLUMNS = ("po_number", "line_no", "sku", "qty", "unit_price", "uom", "pack_size")
SHIPMENT_COLUMNS = ("po_number", "line_no", "sku", "qty_shipped", "ship_date", "asn_number", "uom")
INVOICE_COLUMNS = ("invoice_number", "invoice_date", "po_number", "line_no", "sku", "qty_invoiced", "unit_price",
                   "uom")
OPTIONAL_ORDER_COLUMNS = ("customer",)

# Units people write for single items and for cases (a case holds the PO line's pack_size eaches).
EACH_UOMS = frozenset({"EA", "EACH", "PC", "PCS", "PCE", "UN", "UNIT", "UNITS"})
CASE_UOMS = frozenset({"CS", "CA", "CASE", "CASES", "CT", "CTN", "CARTON"})
EACH, CASE = "EA", "CS"

_EXAMPLES = 5  # offending rows quoted per problem


class MatchDataError(Exception):
    """The exports cannot be matched as they are; ``problems`` says where and why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class _Check:
    """Collects the problems of one file."""

    name: str
    problems: list[str]

    def rows(self, frame: pl.DataFrame, bad: pl.Expr, what: str, column: str | None = None) -> None:
        """Record ``what`` for the rows where ``bad`` holds, quoting the first few (CSV line and value)."""
        hits = frame.filter(bad)
        if hits.is_empty():
            return
        quoted = [f"line {row['_line']}" + (f" {row[column]!r}" if column else "")
                  for row in hits.head(_EXAMPLES).iter_rows(named=True)]
        more = f" and {hits.height - _EXAMPLES} more" if hits.height > _EXAMPLES else ""
        self.problems.append(f"{self.name}: {what}: {', '.join(quoted)}{more}")


def read_export(path: Path, name: str) -> pl.DataFrame:
    """A CSV export as text columns (header names trimmed and lower-cased), with its CSV line numbers."""
    try:
        frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy", truncate_ragged_lines=False)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, OSError) as error:
        raise MatchDataError([f"{name}: not a readable CSV file ({_ragged(path) or str(error).splitlines()[0]})"]
                             ) from error
    return frame.rename({column: column.strip().lower() for column in frame.columns})


def _ragged(path: Path) -> str | None:
    """Where a row has more or fewer cells than the header (only run once reading failed)."""
    try:
        with path.open(encoding="utf-8", errors="replace", newline="") as handle:
            reader = csv.reader(handle)
            width = len(next(reader, []))
            for row in reader:
                if row and len(row) != width:
                    return (f"line {reader.line_num} has {len(row)} cells, the header {width}: "
                            "a comma in an unquoted number or text?")
    except (OSError, csv.Error):
        pass  # the reader's own message is all we can say
    return None


def _with_lines(frame: pl.DataFrame) -> pl.DataFrame:
    """Add ``_line``: the CSV line of each row (the header is line 1)."""
    return frame.with_row_index("_line", offset=2)


def _require(frame: pl.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise MatchDataError([f"{name}: missing column(s) {', '.join(missing)} "
                              f"(found: {', '.join(frame.columns) or 'none'}; expected: {', '.join(columns)})"])


def _line_no(column: str) -> pl.Expr:
    """PO line numbers compare as numbers when they are digits (``001`` is line ``1``), else as text."""
    value = text(column)
    stripped = value.str.strip_chars_start("0")
    return pl.when(value.str.contains(r"^[0-9]+$")).then(
        pl.when(stripped == "").then(pl.lit("0")).otherwise(stripped)).otherwise(value)


def _uom(check: _Check, frame: pl.DataFrame) -> pl.Expr:
    """The unit as EA or CS; unknown units are a problem (nothing is converted by guess)."""
    unit = text("uom").str.to_uppercase()
    check.rows(frame, unit.is_null(), "uom is empty")
    known = sorted(EACH_UOMS) + sorted(CASE_UOMS)
    check.rows(frame, unit.is_not_null() & ~unit.is_in(known),
               f"uom is not a unit we convert (eaches: {', '.join(sorted(EACH_UOMS))}; "
               f"cases of pack_size: {', '.join(sorted(CASE_UOMS))})", "uom")
    return pl.when(unit.is_in(list(CASE_UOMS))).then(pl.lit(CASE)).when(unit.is_in(list(EACH_UOMS))).then(
        pl.lit(EACH)).otherwise(None)


def _number(check: _Check, frame: pl.DataFrame, column: str, scale: int, *, required: bool = True) -> pl.Expr:
    value, bad = parse_scaled(column, scale)
    check.rows(frame, bad, f"{column} is not a plain decimal number with at most {scale} decimals", column)
    if required:
        check.rows(frame, text(column).is_null(), f"{column} is empty")
    check.rows(frame, value < 0, f"{column} is negative (credit notes and returns are not matched)", column)
    return value


def _required_text(check: _Check, frame: pl.DataFrame, *columns: str) -> None:
    for column in columns:
        check.rows(frame, text(column).is_null(), f"{column} is empty")


def _date(check: _Check, frame: pl.DataFrame, column: str) -> pl.Expr:
    value = text(column).str.to_date("%Y-%m-%d", strict=False)
    check.rows(frame, text(column).is_not_null() & value.is_null(), f"{column} is not a date YYYY-MM-DD", column)
    return value


def _finish(check: _Check, frame: pl.DataFrame, columns: dict[str, pl.Expr]) -> pl.DataFrame:
    if check.problems:
        raise MatchDataError(check.problems)
    return frame.select(**columns)


def prepare_orders(raw: pl.DataFrame, name: str = "orders") -> pl.DataFrame:
    """Orders as typed PO lines: one row per (po_number, line_no), quantities and prices exact."""
    _require(raw, name, ORDER_COLUMNS)
    frame, check = _with_lines(raw), _Check(name, [])
    _required_text(check, frame, "po_number", "line_no", "sku")
    uom = _uom(check, frame)
    pack, pack_bad = parse_scaled("pack_size", 0)
    check.rows(frame, pack_bad | (pack <= 0), "pack_size is not a whole number above 0", "pack_size")
    check.rows(frame, (uom == CASE) & text("pack_size").is_null(), "pack_size is empty on a line ordered in cases")
    po_line = pl.struct(text("po_number").alias("po"), _line_no("line_no").alias("line"))
    check.rows(frame, po_line.is_duplicated() & text("line_no").is_not_null(),
               "the same PO line appears more than once", "line_no")
    columns = {
        "po_number": text("po_number"), "line_no": _line_no("line_no"), "sku": text("sku"),
        "customer": text("customer") if "customer" in frame.columns else pl.lit(None, pl.String),
        "uom": uom, "qty": _number(check, frame, "qty", QTY_SCALE),
        "unit_price": _number(check, frame, "unit_price", PRICE_SCALE), "pack_size": pack, "_line": pl.col("_line"),
    }
    return _finish(check, frame, columns)


def prepare_shipments(raw: pl.DataFrame, name: str = "shipments") -> pl.DataFrame:
    """Shipment (ASN / delivery) lines, typed."""
    _require(raw, name, SHIPMENT_COLUMNS)
    frame, check = _with_lines(raw), _Check(name, [])
    _required_text(check, frame, "po_number", "line_no", "sku")
    columns = {
        "po_number": text("po_number"), "line_no": _line_no("line_no"), "sku": text("sku"),
        "qty": _number(check, frame, "qty_shipped", QTY_SCALE), "uom": _uom(check, frame),
        "ship_date": _date(check, frame, "ship_date"), "asn_number": text("asn_number"), "_line": pl.col("_line"),
    }
    return _finish(check, frame, columns)


def prepare_invoices(raw: pl.DataFrame, name: str = "invoices") -> pl.DataFrame:
    """Invoice lines, typed; po_number and line_no may be empty (then the line has no PO)."""
    _require(raw, name, INVOICE_COLUMNS)
    frame, check = _with_lines(raw), _Check(name, [])
    _required_text(check, frame, "invoice_number", "sku")
    columns = {
        "invoice_number": text("invoice_number"), "invoice_date": _date(check, frame, "invoice_date"),
        "po_number": text("po_number"), "line_no": _line_no("line_no"), "sku": text("sku"),
        "qty": _number(check, frame, "qty_invoiced", QTY_SCALE), "uom": _uom(check, frame),
        "unit_price": _number(check, frame, "unit_price", PRICE_SCALE), "_line": pl.col("_line"),
    }
    return _finish(check, frame, columns)
