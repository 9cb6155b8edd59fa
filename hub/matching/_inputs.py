"""The three exports read and checked: orders, shipments and invoices as typed polars frames.

Every cell is read as text and converted here, so a bad number is reported with its file, row and column
instead of being guessed at by a CSV reader. Problems are gathered per kind (at most a few examples each)
and raised together as one ``MatchDataError``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import polars as pl

from hub.matching._numbers import PRICE_SCALE, QTY_SCALE, parse_scaled, trimmed

ORDER_COLUMNS = ("po_number", "line_no", "sku", "qty", "unit_price", "uom", "pack_size")
SHIPMENT_COLUMNS = ("po_number", "line_no", "sku", "qty_shipped", "ship_date", "asn_number", "uom")
INVOICE_COLUMNS = ("invoice_number", "invoice_date", "po_number", "line_no", "sku", "qty_invoiced", "unit_price",
                   "uom")
OPTIONAL_ORDER_COLUMNS = ("customer",)

# Units people write for single items and for cases (a case holds the PO line's pack_size eaches).
EACH_UOMS = frozenset({"EA", "EACH", "PC", "PCS", "PCE", "UN", "UNIT", "UNITS"})
CASE_UOMS = frozenset({"CS", "CA", "CASE", "CASES", "CT", "CTN", "CARTON"})
EACH, CASE = "EA", "CS"
UOM = pl.Enum([EACH, CASE])

_EXAMPLES = 5  # offending rows quoted per problem


class MatchDataError(Exception):
    """The exports cannot be matched as they are; ``problems`` says where and why, one line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class _Checks:
    """The problems one file may have, as boolean expressions evaluated together in one pass."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.values: dict[str, pl.Expr] = {}
        self.flags: list[tuple[pl.Expr, str, str | None]] = []

    def add(self, bad: pl.Expr, what: str, column: str | None = None) -> None:
        """``what`` is wrong where ``bad`` holds (``column``'s text quoted); may use ``value(...)`` columns."""
        self.flags.append((bad, what, column))

    def value(self, name: str, expr: pl.Expr) -> pl.Expr:
        """Compute ``expr`` once as the output column ``name``; returns a reference for flags to use."""
        self.values[name] = expr
        return pl.col(f"_v_{name}")

    def run(self, raw: pl.DataFrame) -> pl.DataFrame:
        """The typed frame, or ``MatchDataError`` naming the first few CSV lines of each problem."""
        # Every cell trimmed once (blank -> null), and its CSV line (the header is line 1), before anything.
        frame = raw.select(*[trimmed(c).alias(c) for c in raw.columns]).with_row_index("_line", offset=2)
        computed = frame.with_columns(**{f"_v_{n}": e for n, e in self.values.items()})
        computed = computed.with_columns(*[bad.fill_null(False).alias(f"_bad{i}")
                                           for i, (bad, _, _) in enumerate(self.flags)])
        counts = computed.select(pl.col(f"_bad{i}").sum() for i in range(len(self.flags))).row(0)
        problems = []
        for i, ((_, what, column), count) in enumerate(zip(self.flags, counts, strict=True)):
            if count:
                hits = computed.filter(pl.col(f"_bad{i}")).head(_EXAMPLES).iter_rows(named=True)
                quoted = [f"line {row['_line']}" + (f" {row[column]!r}" if column else "") for row in hits]
                more = f" and {count - _EXAMPLES} more" if count > _EXAMPLES else ""
                problems.append(f"{self.name}: {what}: {', '.join(quoted)}{more}")
        if problems:
            raise MatchDataError(problems)
        return computed.select(pl.col(f"_v_{n}").alias(n) for n in self.values)


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


def _require(frame: pl.DataFrame, name: str, columns: tuple[str, ...]) -> None:
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise MatchDataError([f"{name}: missing column(s) {', '.join(missing)} "
                              f"(found: {', '.join(frame.columns) or 'none'}; expected: {', '.join(columns)})"])


def _line_no(column: str) -> pl.Expr:
    """PO line numbers compare as numbers when they are digits (``001`` is line ``1``), else as text."""
    value = pl.col(column)
    number = value.cast(pl.UInt64, strict=False)  # "001" -> 1; "1A", "+1", " 1" stay as written
    digits_only = number.is_not_null() & value.str.contains(r"^[0-9]+$")
    return pl.when(digits_only).then(number.cast(pl.String)).otherwise(value)


def _uom(check: _Checks) -> pl.Expr:
    """The unit as EA or CS (an enum: one byte a line, not a text); unknown units are a problem (nothing is
    converted by guess)."""
    units = {**dict.fromkeys(EACH_UOMS, EACH), **dict.fromkeys(CASE_UOMS, CASE)}
    unit = pl.col("uom").str.to_uppercase().replace_strict(units, default=None, return_dtype=UOM)
    check.add(pl.col("uom").is_null(), "uom is empty")
    check.add(pl.col("uom").is_not_null() & pl.col("_v_uom").is_null(),
              f"uom is not a unit we convert (eaches: {', '.join(sorted(EACH_UOMS))}; "
              f"cases of pack_size: {', '.join(sorted(CASE_UOMS))})", "uom")
    return unit


def _number(check: _Checks, name: str, column: str, scale: int) -> None:
    value, bad = parse_scaled(column, scale)
    check.add(bad, f"{column} is not a plain decimal number with at most {scale} decimals", column)
    check.add(pl.col(column).is_null(), f"{column} is empty")
    check.add(check.value(name, value) < 0, f"{column} is negative (credit notes and returns are not matched)",
              column)


def _required_text(check: _Checks, *columns: str) -> None:
    for column in columns:
        check.add(pl.col(column).is_null(), f"{column} is empty")


def _date(check: _Checks, column: str) -> None:
    value = check.value(column, pl.col(column).str.to_date("%Y-%m-%d", strict=False))
    check.add(pl.col(column).is_not_null() & value.is_null(), f"{column} is not a date YYYY-MM-DD", column)


def _keys(check: _Checks) -> None:
    check.value("po_number", pl.col("po_number"))
    check.value("line_no", _line_no("line_no"))
    check.value("sku", pl.col("sku"))


def prepare_orders(raw: pl.DataFrame, name: str = "orders") -> pl.DataFrame:
    """Orders as typed PO lines: one row per (po_number, line_no), quantities and prices exact."""
    _require(raw, name, ORDER_COLUMNS)
    check = _Checks(name)
    _required_text(check, "po_number", "line_no", "sku")
    _keys(check)
    check.value("customer", pl.col("customer") if "customer" in raw.columns else pl.lit(None, pl.String))
    uom = check.value("uom", _uom(check))
    _number(check, "qty", "qty", QTY_SCALE)
    _number(check, "unit_price", "unit_price", PRICE_SCALE)
    pack, pack_bad = parse_scaled("pack_size", 0)
    pack = check.value("pack_size", pack)
    check.add(pack_bad | (pack <= 0), "pack_size is not a whole number above 0", "pack_size")
    check.add((uom == CASE) & pack.is_null() & ~pack_bad, "pack_size is empty on a line ordered in cases")
    # A window count is the cheapest duplicate test polars has here (a third of struct.is_duplicated()).
    check.add((pl.len().over("_v_po_number", "_v_line_no") > 1) & pl.col("_v_line_no").is_not_null(),
              "the same PO line appears more than once", "line_no")
    check.value("_line", pl.col("_line"))
    return check.run(raw)


def prepare_shipments(raw: pl.DataFrame, name: str = "shipments") -> pl.DataFrame:
    """Shipment (ASN / delivery) lines, typed."""
    _require(raw, name, SHIPMENT_COLUMNS)
    check = _Checks(name)
    _required_text(check, "po_number", "line_no", "sku")
    _keys(check)
    _number(check, "qty", "qty_shipped", QTY_SCALE)
    check.value("uom", _uom(check))
    _date(check, "ship_date")
    check.value("asn_number", pl.col("asn_number"))
    check.value("_line", pl.col("_line"))
    return check.run(raw)


def prepare_invoices(raw: pl.DataFrame, name: str = "invoices") -> pl.DataFrame:
    """Invoice lines, typed; po_number and line_no may be empty (then the line has no PO)."""
    _require(raw, name, INVOICE_COLUMNS)
    check = _Checks(name)
    _required_text(check, "invoice_number", "sku")
    check.value("invoice_number", pl.col("invoice_number"))
    _date(check, "invoice_date")
    _keys(check)
    _number(check, "qty", "qty_invoiced", QTY_SCALE)
    check.value("uom", _uom(check))
    _number(check, "unit_price", "unit_price", PRICE_SCALE)
    check.value("_line", pl.col("_line"))
    return check.run(raw)
