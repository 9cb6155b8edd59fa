"""Exact decimal numbers as scaled integers in polars columns (money never goes through a float).

Every amount is held as an Int128 count of a fixed unit: unit prices in 1/10,000 (``PRICE_SCALE``),
quantities in 1/1,000 (``QTY_SCALE``), percentages as fractions in 1/1,000,000 (``FRACTION_SCALE``),
reported values in cents. Products of these stay exact integers (Int128 holds 38 digits), so a tolerance
check such as ``|difference| <= 2 % of base`` is decided by integer comparison, never by rounding. Division
happens only when a figure is *reported* (value at stake in cents, variance in hundredths of a percent),
rounded half away from zero.

Why not polars' Decimal dtype: polars 2 keeps the larger scale of the two operands on multiplication
(``1.1234 * 0.02`` at scale 4 rounds), so exactness would depend on a rule that changed between versions.
"""

from __future__ import annotations

import polars as pl

PRICE_SCALE = 4
QTY_SCALE = 3
FRACTION_SCALE = 6  # 2 % is 0.02, held as 20,000
CENTS = 2


def _number_pattern(scale: int) -> str:
    """Plain ASCII digits only (Rust's \\d would accept other scripts' digits), at most ``scale`` decimals and 15
    integer digits, so any value times the largest scale factor stays far inside Int128 even after two
    multiplications."""
    fraction = rf"(\.[0-9]{{1,{scale}}})?" if scale else ""
    return rf"^[-+]?[0-9]{{1,15}}{fraction}$"


def trimmed(column: str) -> pl.Expr:
    """The column's text, trimmed; an empty cell is null."""
    # replace, not when/then: half the time of a conditional over every cell of a million-line export.
    return pl.col(column).cast(pl.String).str.strip_chars().replace("", None)


def parse_scaled(column: str, scale: int) -> tuple[pl.Expr, pl.Expr]:
    """(value as Int128 in units of 10**-scale, null when blank; True where the text is not such a number).

    ``column`` holds trimmed text, null when blank (``trimmed``).

    Once the text is known to have at most ``scale`` decimals, polars' own decimal parser reads it exactly
    (a Decimal at that scale times 10**scale is the integer): faster than splitting the text ourselves.
    """
    raw = pl.col(column)
    well_formed = raw.str.contains(_number_pattern(scale))
    value = (raw.cast(pl.Decimal(38, scale), strict=False) * pl.lit(10**scale)).cast(pl.Int128)
    return pl.when(well_formed).then(value).otherwise(None), raw.is_not_null() & ~well_formed


def _negate(expr: pl.Expr) -> pl.Expr:
    """-expr (polars 2.1 has no unary minus for Int128)."""
    return pl.lit(0, pl.Int128) - expr


def round_div(numerator: pl.Expr, denominator: pl.Expr | int) -> pl.Expr:
    """numerator / denominator (denominator > 0) rounded half away from zero, as an integer."""
    den = denominator if isinstance(denominator, pl.Expr) else pl.lit(denominator, pl.Int128)
    magnitude = (numerator.abs() * 2 + den) // (den * 2)
    return pl.when(numerator < 0).then(_negate(magnitude)).otherwise(magnitude)


def format_scaled(expr: pl.Expr, scale: int) -> pl.Expr:
    """A scaled integer as decimal text with exactly ``scale`` places (``12345``, scale 2: ``"123.45"``)."""
    magnitude = expr.abs()
    whole = (magnitude // (10**scale)).cast(pl.String)
    body = whole if scale == 0 else pl.concat_str(
        whole, pl.lit("."), (magnitude % (10**scale)).cast(pl.String).str.pad_start(scale, "0"))
    return pl.when(expr.is_null()).then(None).when(expr < 0).then(pl.lit("-") + body).otherwise(body)


def format_quantity(expr: pl.Expr) -> pl.Expr:
    """A quantity without trailing zeros (``120``, ``2.5``)."""
    return format_scaled(expr, QTY_SCALE).str.replace(r"\.?0+$", "")


def format_price(expr: pl.Expr) -> pl.Expr:
    """A unit price with two to four places (``12.50``, ``0.1275``)."""
    return format_scaled(expr, PRICE_SCALE).str.replace(r"(\.\d{2}\d*?)0+$", "${1}")
