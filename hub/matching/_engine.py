"""The three-way match: ordered vs shipped vs invoiced per PO line, set-based (joins and group-bys only).

Quantities are compared in eaches (a case is the PO line's ``pack_size`` eaches). Unit prices are compared
per each without dividing: the invoice price times the PO's eaches per unit against the PO price times the
invoice's eaches per unit. Quantity differences are valued at the PO price, price differences on the
invoiced quantity, so a line with both is not counted twice. Every figure is an exact scaled integer
(``_numbers``); only the reported value (cents) and variance (hundredths of a percent) are rounded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import polars as pl

from hub.matching._inputs import CASE, MatchDataError
from hub.matching._numbers import (
    CENTS,
    FRACTION_SCALE,
    PRICE_SCALE,
    QTY_SCALE,
    format_price,
    format_quantity,
    round_div,
)
from hub.matching._tolerances import Tolerances

# variance_pct: for price_variance and price findings the invoice's price per each against the PO's, signed
# (+ billed above the PO); for quantity findings the size of the difference against its base (ordered for
# shipping, shipped for billing), so a shortfall and an excess both read as positive percentages, except
# within_tolerance quantity findings which keep their sign.

# One row per finding. Quantities are eaches in thousandths, prices in ten-thousandths of the currency per
# the unit beside them, variance_pct in hundredths of a percent, value_at_stake in cents (see _numbers).
COLUMNS: dict[str, pl.DataType] = {
    "category": pl.String(), "po_number": pl.String(), "line_no": pl.String(), "sku": pl.String(),
    "customer": pl.String(), "invoice_number": pl.String(), "invoice_numbers": pl.List(pl.String()),
    "asn_numbers": pl.List(pl.String()), "ordered_qty": pl.Int128(), "shipped_qty": pl.Int128(),
    "invoiced_qty": pl.Int128(), "po_unit_price": pl.Int128(), "po_uom": pl.String(),
    "invoice_unit_price": pl.Int128(), "invoice_uom": pl.String(), "variance_pct": pl.Int128(),
    "value_at_stake": pl.Int128(), "first_ship_date": pl.Date(), "detail": pl.String(),
}
_KEY = ["po_number", "line_no"]
_TO_CENTS = 10 ** (QTY_SCALE + PRICE_SCALE - CENTS)  # quantity x price -> cents


@dataclass(frozen=True)
class MatchResult:
    """Exceptions and informational findings (rows as ``COLUMNS``), and the PO lines that matched."""

    exceptions: pl.DataFrame
    informational: pl.DataFrame
    matched: pl.DataFrame  # po_number, line_no
    po_lines: int


def _rows(frame: pl.LazyFrame, category: str, detail: pl.Expr, **exprs: pl.Expr | str) -> pl.LazyFrame:
    """``frame``'s findings in the common columns: given expressions (or column names), else the same-named
    column, else null."""
    def column(name: str) -> pl.Expr:
        if name == "category":
            return pl.lit(category)
        if name == "detail":
            return detail
        if name in exprs:
            given = exprs[name]
            return pl.col(given) if isinstance(given, str) else given
        return pl.col(name) if name in names else pl.lit(None)

    names = set(frame.collect_schema().names())

    def typed(name: str, dtype: pl.DataType) -> pl.Expr:
        value = column(name).cast(dtype)
        return value.fill_null(pl.lit([], dtype)) if isinstance(dtype, pl.List) else value  # documents: never null
    return frame.select([typed(name, dtype).alias(name) for name, dtype in COLUMNS.items()])


def _within(diff: pl.Expr, base: pl.Expr, pct: pl.Expr, absolute: pl.Expr, unit: pl.Expr | int = 1) -> pl.Expr:
    """``diff`` is within tolerance: zero, or inside every limit that is set (at least one set); equal is within."""
    size = diff.abs()
    pct_ok = pct.is_null() | (size * 10**FRACTION_SCALE <= pct * base)
    abs_ok = absolute.is_null() | (size <= absolute * unit)
    return (size == 0) | ((pct.is_not_null() | absolute.is_not_null()) & pct_ok & abs_ok)


def _pct(diff: pl.Expr, base: pl.Expr) -> pl.Expr:
    """diff / base in hundredths of a percent, null when base is 0."""
    return pl.when(base > 0).then(round_div(diff * 10**4, base)).otherwise(None)


def _qty_value(diff: pl.Expr) -> pl.Expr:
    """A difference in eaches valued at the PO line's price per each, in cents."""
    return round_div(diff.abs() * pl.col("po_unit_price"), pl.col("f_po") * _TO_CENTS)


def _amount() -> pl.Expr:
    """An invoice line's own amount (quantity x unit price as written), in cents."""
    return round_div(pl.col("qty") * pl.col("invoice_unit_price"), _TO_CENTS)


def _same_sku() -> pl.Expr:
    """A document line names its PO line's SKU (trimmed on reading; compared case-insensitively)."""
    return pl.col("sku").str.to_uppercase() == pl.col("po_sku").str.to_uppercase()


def _doc_qty() -> pl.Expr:
    """A document line's quantity in eaches (null for cases when the pack size is unknown)."""
    return pl.col("qty") * pl.col("_f")


def _qty(column: str) -> pl.Expr:
    return format_quantity(pl.col(column))


def _factor(uom: str | pl.Expr) -> pl.Expr:
    """Eaches per unit of a document line: the PO line's pack size for cases, 1 for eaches."""
    unit = pl.col(uom) if isinstance(uom, str) else uom
    return pl.when(unit == CASE).then(pl.col("pack_size")).otherwise(pl.lit(1, pl.Int128)).cast(pl.Int128)


def _unconvertible(frame: pl.LazyFrame) -> pl.LazyFrame:
    """The CSV lines of counted document lines in cases whose PO line has no pack size."""
    return frame.filter(pl.col("_f").is_null()).select("_line")


def _raise_unconvertible(bad: pl.DataFrame, name: str) -> None:
    if not bad.is_empty():
        lines = ", ".join(str(n) for n in bad["_line"].head(5).to_list())
        raise MatchDataError([f"{name}: cases cannot be converted to eaches, the PO line has no pack_size: "
                              f"line {lines}" + (f" and {bad.height - 5} more" if bad.height > 5 else "")])


def match(orders: pl.DataFrame, shipments: pl.DataFrame, invoices: pl.DataFrame,
          tolerances: Tolerances | None = None) -> MatchResult:
    """Match prepared orders, shipments and invoices (``prepare_*``) at PO-line level.

    Lazy, with the frames several findings read computed once (``_shared``); the findings themselves are
    collected together at the end, in parallel."""
    tolerances = tolerances or Tolerances()
    # Each PO line gets a number (_pid): documents are joined to their PO line once, on the two text keys;
    # everything after groups and joins on that integer.
    po = orders.lazy().with_row_index("_pid").with_columns(pl.col("pack_size").cast(pl.Int128)).with_columns(
        f_po=_factor("uom")).rename({"uom": "po_uom", "unit_price": "po_unit_price"})
    po = po.with_columns(ordered_qty=pl.col("qty") * pl.col("f_po")).drop("qty", "_line")
    if tolerances.customers or tolerances.skus:
        po = po.join(tolerances.resolve(po), on=_KEY, how="left")
    else:
        po = po.with_columns(pl.lit(value, pl.Int128).alias(f"tol_{name}")
                             for name, value in tolerances.default.raw().items())
    po = _shared(po)
    # What a finding shows of its PO line, joined on _pid to the few document lines that are findings.
    extra = po.select("_pid", pl.col("sku").alias("po_sku"), "customer", "po_uom", "po_unit_price", "pack_size",
                      "f_po", "ordered_qty")
    known_pos = orders.lazy().select("po_number").unique().with_columns(_po_known=pl.lit(True))

    ships = _linked(shipments, po, "uom", [])
    ships_no_po = ships.filter(pl.col("_pid").is_null()).join(known_pos, on="po_number", how="left")
    ships_wrong_sku = ships.filter(pl.col("_pid").is_not_null() & ~pl.col("_same_sku")).join(
        extra.drop("ordered_qty"), on="_pid", how="left")
    ships_ok = ships.filter(pl.col("_pid").is_not_null() & pl.col("_same_sku"))
    shipped = _shared(ships_ok.group_by("_pid").agg(
        shipped_qty=(pl.col("qty") * pl.col("_f")).sum(),
        asn_numbers=pl.col("asn_number").drop_nulls().unique(maintain_order=True),
        first_ship_date=pl.col("ship_date").min()))

    # Price per each compared without division: invoice price x PO eaches/unit vs PO price x invoice eaches/unit.
    # Computed on every invoice line (null where there is no PO line) so that one frame is kept, not two.
    diff = pl.col("invoice_unit_price") * pl.col("f_po") - pl.col("po_unit_price") * pl.col("_f")
    base = pl.col("po_unit_price") * pl.col("_f")
    billed = invoices.rename({"unit_price": "invoice_unit_price", "uom": "invoice_uom"})
    bills = _linked(billed.with_columns(_first=_first_occurrences(billed)), po, "invoice_uom", [
        diff.alias("_diff"),
        _within(diff, base, pl.col("tol_price_pct"), pl.col("tol_price_abs"), pl.col("_f")).alias("_price_ok"),
        _pct(diff, base).alias("variance_pct"),
        (pl.col("qty") * pl.col("_f")).alias("invoiced_qty")])
    duplicates = bills.filter(~pl.col("_first")).join(extra, on="_pid", how="left")
    firsts = bills.filter(pl.col("_first"))
    bills_no_po = firsts.filter(pl.col("_pid").is_null()).join(known_pos, on="po_number", how="left")
    bills_wrong_sku = firsts.filter(pl.col("_pid").is_not_null() & ~pl.col("_same_sku")).join(
        extra, on="_pid", how="left")
    bills_ok = firsts.filter(pl.col("_pid").is_not_null() & pl.col("_same_sku"))
    invoiced = bills_ok.group_by("_pid").agg(
        invoiced_qty=pl.col("invoiced_qty").sum(),
        invoice_numbers=pl.col("invoice_number").unique(maintain_order=True))

    # Each PO line's totals and flags, computed on the numbers alone and set beside the PO lines (as in _linked).
    own = ["_pid", "ordered_qty", "tol_qty_pct", "tol_qty_abs"]
    totals = po.select(own).join(shipped, on="_pid", how="left", maintain_order="left").join(
        invoiced, on="_pid", how="left", maintain_order="left").with_columns(
        pl.col("shipped_qty").fill_null(0), pl.col("invoiced_qty").fill_null(0))
    flags = _flag_lines(totals).drop(own).collect(engine=_ENGINE)
    lines = po.collect().hstack(flags).lazy()

    # The line's shipments stand beside a price variance too: they are documents behind it.
    price = bills_ok.filter(~pl.col("_price_ok")).join(shipped, on="_pid", how="left").join(extra, on="_pid",
                                                                                          how="left")
    line_level = [
        _rows(lines.filter("_over_shipped"), "over_shipped",
              pl.format("shipped {} EA, ordered {} EA", _qty("shipped_qty"), _qty("ordered_qty")),
              variance_pct=_pct(pl.col("_ship_diff"), pl.col("ordered_qty")),
              value_at_stake=_qty_value(pl.col("_ship_diff"))),
        _rows(lines.filter("_not_shipped"), "invoiced_not_shipped",
              pl.format("invoiced {} EA, nothing shipped", _qty("invoiced_qty")),
              value_at_stake=_qty_value(pl.col("invoiced_qty"))),
        _rows(lines.filter("_over_billed"), "over_billed",
              pl.format("invoiced {} EA, shipped {} EA", _qty("invoiced_qty"), _qty("shipped_qty")),
              variance_pct=_pct(pl.col("_bill_diff"), pl.col("shipped_qty")),
              value_at_stake=_qty_value(pl.col("_bill_diff"))),
        _rows(lines.filter("_not_invoiced"), "shipped_not_invoiced",
              pl.format("shipped {} EA, invoiced {} EA", _qty("shipped_qty"), _qty("invoiced_qty")),
              variance_pct=_pct(pl.col("_unbilled"), pl.col("shipped_qty")),
              value_at_stake=_qty_value(pl.col("_unbilled"))),
    ]
    invoice_level = [
        _rows(price, "price_variance",
              pl.format("invoiced at {} per {}, PO price {} per {}", format_price(pl.col("invoice_unit_price")),
                        "invoice_uom", format_price(pl.col("po_unit_price")), "po_uom"),
              sku="po_sku", invoice_numbers=pl.concat_list("invoice_number"),
              value_at_stake=round_div(pl.col("_diff").abs() * pl.col("qty"), pl.col("f_po") * _TO_CENTS)),
        _rows(bills_no_po, "invoice_without_po", _no_po_detail("invoice"), invoiced_qty=_doc_qty(),
              value_at_stake=_amount(), invoice_numbers=pl.concat_list("invoice_number")),
        _rows(bills_wrong_sku, "sku_mismatch",
              pl.format("invoice {} bills SKU {}, the PO line is SKU {}", "invoice_number", "sku", "po_sku"),
              invoiced_qty=_doc_qty(), value_at_stake=_amount(), invoice_numbers=pl.concat_list("invoice_number")),
        _rows(duplicates, "duplicate_invoice",
              pl.format("invoice {} bills this line again (invoices line {})", "invoice_number", "_line"),
              invoiced_qty=_doc_qty(), value_at_stake=_amount(), invoice_numbers=pl.concat_list("invoice_number")),
    ]
    shipment_level = [
        _rows(ships_no_po, "shipment_without_po", _no_po_detail("shipment"), asn_numbers=_asn_list(),
              shipped_qty=_doc_qty()),
        _rows(ships_wrong_sku, "sku_mismatch",
              pl.format("shipment {} ships SKU {}, the PO line is SKU {}", pl.col("asn_number").fill_null("-"),
                        "sku", "po_sku"),
              asn_numbers=_asn_list(), shipped_qty=_doc_qty(),
              value_at_stake=round_div(pl.col("qty") * pl.col("_f") * pl.col("po_unit_price"),
                                       pl.col("f_po") * _TO_CENTS)),
    ]
    # Each finding collected on its own, then put together: one plan for all of them costs several hundred MB
    # more at a million lines (the shared frames it reads are cached whole for the plan), for no time saved.
    exceptions = pl.concat(_collected([*line_level, *invoice_level, *shipment_level])).lazy()

    informational = pl.concat(_collected([
        _rows(lines.filter("_partial"), "partial_shipment_billed",
              pl.format("shipped {} of {} EA, invoiced {} EA", _qty("shipped_qty"), _qty("ordered_qty"),
                        _qty("invoiced_qty")),
              variance_pct=_pct(pl.col("_short"), pl.col("ordered_qty"))),
        _rows(lines.filter("_open"), "open_not_shipped",
              pl.format("ordered {} EA, nothing shipped or invoiced yet", _qty("ordered_qty"))),
        _rows(lines.filter("_ship_within"), "within_tolerance",
              pl.format("shipped {} EA of {} ordered, within the quantity tolerance", _qty("shipped_qty"),
                        _qty("ordered_qty")),
              variance_pct=_pct(pl.col("_ship_diff"), pl.col("ordered_qty")),
              value_at_stake=_qty_value(pl.col("_ship_diff"))),
        _rows(lines.filter("_bill_within"), "within_tolerance",
              pl.format("invoiced {} EA of {} shipped, within the quantity tolerance", _qty("invoiced_qty"),
                        _qty("shipped_qty")),
              variance_pct=_pct(pl.col("_bill_diff"), pl.col("shipped_qty")),
              value_at_stake=_qty_value(pl.col("_bill_diff"))),
        _rows(bills_ok.filter(pl.col("_price_ok") & (pl.col("_diff") != 0)).join(extra, on="_pid", how="left"),
              "within_tolerance",
              pl.format("invoiced at {} per {}, PO price {} per {}, within the price tolerance",
                        format_price(pl.col("invoice_unit_price")), "invoice_uom",
                        format_price(pl.col("po_unit_price")), "po_uom"),
              sku="po_sku", value_at_stake=round_div(pl.col("_diff").abs() * pl.col("qty"),
                                                     pl.col("f_po") * _TO_CENTS)),
    ])).lazy()

    flagged = exceptions.filter(pl.col("po_number").is_not_null()).select(_KEY).unique()
    matched = lines.filter(pl.col("_complete")).select(_KEY).join(flagged, on=_KEY, how="anti").sort(_KEY)
    found, info, good, bad_ships, bad_bills = pl.collect_all([
        exceptions.sort("category", "po_number", "line_no", "invoice_number", nulls_last=True),
        informational.sort("category", "po_number", "line_no", nulls_last=True), matched,
        _unconvertible(ships_ok), _unconvertible(bills_ok)], engine=_ENGINE)
    _raise_unconvertible(bad_ships, "shipments")
    _raise_unconvertible(bad_bills, "invoices")
    return MatchResult(found, info, good, orders.height)


# polars 2.1's default engine ("auto") runs these plans on its streaming engine, which panics in
# ``pl.format`` over a filtered frame of a million lines (binview "assertion failed: i < self.len()");
# the in-memory engine computes the same plans correctly and, here, no slower.
_ENGINE: Final = "in-memory"


def _linked(documents: pl.DataFrame, po: pl.LazyFrame, uom: str, computed: list[pl.Expr]) -> pl.LazyFrame:
    """The document lines with their PO line's ``_pid`` (null: none), eaches per unit ``_f``, ``_same_sku`` and
    the ``computed`` columns, which may read the PO line's price, pack and tolerance columns.

    Only the key, SKU, unit, quantity and price columns go through the join (PO lines are unique per key, so a
    left join keeps one row per document line, in order); the results are added beside the document columns,
    which stay the input's own buffers instead of copies made by the join."""
    needed = [c for c in (*_KEY, "sku", uom, "qty", "invoice_unit_price", "invoice_number") if c in documents.columns]
    reference = po.select(*_KEY, "_pid", pl.col("sku").alias("po_sku"), "pack_size", "f_po", "po_unit_price",
                          "tol_price_pct", "tol_price_abs")
    link = _join_on_key(documents.lazy().select(needed), reference)
    link = link.with_columns(_f=_factor(uom), _same_sku=_same_sku()).select("_pid", "_f", "_same_sku", *computed)
    found = link.collect(engine=_ENGINE)
    assert found.height == documents.height, "the PO lines are unique per (po_number, line_no)"  # noqa: S101
    return documents.hstack(found).lazy()


def _hash(value: pl.Expr) -> pl.Expr:
    """A 64-bit hash, only ever a shortcut: equal values hash alike, and the values are compared where hashes meet."""
    return value.hash(seed=0)


def _collected(plans: list[pl.LazyFrame]) -> list[pl.DataFrame]:
    return [plan.collect(engine=_ENGINE) for plan in plans]


def _first_occurrences(invoices: pl.DataFrame) -> pl.Series:
    """True for the first line of each (invoice_number, po_number, line_no, SKU upper-cased): the rest bill a line
    again. Found through a 64-bit hash of the four (a third of the memory of comparing them whole), exactly: equal
    lines have equal hashes, so only lines whose hash repeats are compared whole, among themselves."""
    line = pl.struct("invoice_number", "po_number", "line_no", pl.col("sku").str.to_uppercase().alias("_sku"))
    repeated = invoices.select(_hash(line).is_duplicated()).to_series()
    first = pl.Series("_first", [True] * invoices.height, dtype=pl.Boolean)
    if repeated.any():
        rows = invoices.with_row_index("_row").filter(repeated)
        exact = rows.select("_row", line.is_first_distinct().alias("_first"))
        first = first.scatter(exact["_row"], exact["_first"])
    return first


def _join_on_key(documents: pl.LazyFrame, reference: pl.LazyFrame) -> pl.LazyFrame:
    """Left join on (po_number, line_no), in the documents' order, through one 64-bit hash of the two texts: a
    join on two text columns costs several times more time and memory. Exact all the same: the PO lines' hashes
    are unique (else the text join is used), so a document line has at most one candidate, and the texts are
    compared after; a candidate whose texts differ (a hash collision, or a null key) is no match."""
    key = _hash(pl.struct(*_KEY))
    ref = reference.with_columns(_k=key)
    unique = ref.select(pl.col("_k").n_unique() == pl.len()).collect(engine=_ENGINE).item()
    if not unique:
        return documents.join(reference, on=_KEY, how="left", maintain_order="left")
    ref = ref.rename({name: f"_ref_{name}" for name in _KEY})
    joined = documents.with_columns(_k=key).join(ref, on="_k", how="left", maintain_order="left")
    same = ((pl.col("po_number") == pl.col("_ref_po_number")) & (pl.col("line_no") == pl.col("_ref_line_no"))
            ).fill_null(False)
    columns = [name for name in reference.collect_schema().names() if name not in _KEY]
    return joined.with_columns(pl.when(same).then(pl.col(c)).otherwise(None).alias(c) for c in columns).drop(
        "_k", "_ref_po_number", "_ref_line_no")


def _shared(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Computed once here: a lazy frame that several findings read would be recomputed by each of them."""
    return frame.collect(engine=_ENGINE).lazy()


def _flag_lines(lines: pl.LazyFrame) -> pl.LazyFrame:
    """Each PO line's quantity findings as boolean columns (``_over_shipped``, ``_partial``, ...)."""
    ordered, shipped, invoiced = pl.col("ordered_qty"), pl.col("shipped_qty"), pl.col("invoiced_qty")
    pct, absolute = pl.col("tol_qty_pct"), pl.col("tol_qty_abs")
    lines = lines.with_columns(_ship_diff=shipped - ordered, _bill_diff=invoiced - shipped, _short=ordered - shipped,
                                 _unbilled=shipped - invoiced)
    ship_ok = _within(pl.col("_ship_diff"), ordered, pct, absolute)
    bill_ok = _within(pl.col("_bill_diff"), shipped, pct, absolute)
    lines = lines.with_columns(
        _over_shipped=(shipped > ordered) & ~ship_ok,
        _not_shipped=(invoiced > 0) & (shipped == 0),
        _over_billed=(shipped > 0) & (invoiced > shipped) & ~bill_ok,
        _not_invoiced=(shipped > invoiced) & ~bill_ok,
        _open=(shipped == 0) & (invoiced == 0),
        _ship_within=(shipped != ordered) & (shipped > 0) & ship_ok,
        _bill_within=(invoiced != shipped) & (shipped > 0) & (invoiced > 0) & bill_ok,
        _short_open=(shipped < ordered) & ~ship_ok,
    )
    return lines.with_columns(
        _partial=(shipped > 0) & pl.col("_short_open") & (invoiced > 0) & bill_ok,
        _complete=(shipped > 0) & (invoiced > 0) & ship_ok & bill_ok)


def _asn_list() -> pl.Expr:
    return pl.when(pl.col("asn_number").is_null()).then(pl.lit([], pl.List(pl.String()))).otherwise(
        pl.concat_list("asn_number"))


def _no_po_detail(document: str) -> pl.Expr:
    """Why a document line has no PO line: no PO number, an unknown PO, or no such line on a known PO."""
    return (pl.when(pl.col("po_number").is_null()).then(pl.lit(f"the {document} line names no PO"))
            .when(pl.col("_po_known").is_null()).then(pl.format("PO {} is not among the orders", "po_number"))
            .otherwise(pl.format("PO {} has no line {}", "po_number", pl.col("line_no").fill_null("(empty)"))))
