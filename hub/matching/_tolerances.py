"""Match tolerances: price % and absolute, quantity % and absolute; global, per customer, per SKU.

Each limit is optional. A difference is within tolerance when it is zero, or when at least one limit is
set and it is within *every* limit set (2 % and 0.50 means "at most 2 % and at most 0.50": the stricter one
decides). Most specific wins, limit by limit: a SKU's own limit, else its customer's, else the global one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl

from hub.matching._numbers import FRACTION_SCALE, PRICE_SCALE, QTY_SCALE

# Per limit: the power of ten from the written value to its raw integer. Percentages are written as percent
# (2 means 2 %) and held as a fraction in millionths (20,000), so they take up to 4 decimals; a price limit
# is money per unit of the PO line's unit price; a quantity limit is in eaches.
_SCALES = {"price_pct": FRACTION_SCALE - 2, "price_abs": PRICE_SCALE, "qty_pct": FRACTION_SCALE - 2,
           "qty_abs": QTY_SCALE}
LIMITS = tuple(_SCALES)


class ToleranceError(ValueError):
    """A tolerance that cannot be used (not a number, negative, too many decimals, unknown name)."""


def _exact(value: Any, name: str) -> Decimal | None:
    """A limit as given (number or text, ``2%`` allowed for percentages); None when not set."""
    if value is None or value == "":
        return None
    written = str(value).strip()
    if name.endswith("_pct"):
        written = written.removesuffix("%").strip()
    try:
        number = Decimal(written)
    except InvalidOperation:
        raise ToleranceError(f"{name}: {value!r} is not a number") from None
    scale = _SCALES[name]
    if not number.is_finite() or number < 0:
        raise ToleranceError(f"{name}: {value!r} must be a number of at least 0")
    if number.scaleb(scale) != number.scaleb(scale).to_integral_value():
        raise ToleranceError(f"{name}: {value!r} has more than {scale} decimals")
    return number


@dataclass(frozen=True)
class Tolerance:
    """One set of limits; None means that limit is not set here."""

    price_pct: Decimal | None = None
    price_abs: Decimal | None = None
    qty_pct: Decimal | None = None
    qty_abs: Decimal | None = None

    @classmethod
    def parse(cls, values: Mapping[str, Any] | None) -> Tolerance:
        """Limits from a mapping such as ``{"price_pct": "2%", "price_abs": "0.50"}``."""
        values = values or {}
        unknown = set(values) - set(LIMITS)
        if unknown:
            raise ToleranceError(f"unknown tolerance(s) {', '.join(sorted(unknown))} (known: {', '.join(LIMITS)})")
        return cls(**{name: _exact(values.get(name), name) for name in LIMITS})

    def raw(self) -> dict[str, int | None]:
        """Each limit as the scaled integer the engine compares with."""
        return {name: None if getattr(self, name) is None
                else int(getattr(self, name).scaleb(_SCALES[name])) for name in LIMITS}


@dataclass(frozen=True)
class Tolerances:
    """The global limits, then per customer and per SKU overrides (SKUs compared trimmed, upper-case)."""

    default: Tolerance = field(default_factory=Tolerance)
    customers: Mapping[str, Tolerance] = field(default_factory=dict)
    skus: Mapping[str, Tolerance] = field(default_factory=dict)

    @classmethod
    def parse(cls, document: Mapping[str, Any] | None) -> Tolerances:
        """From ``{"global": {...}, "customers": {NAME: {...}}, "skus": {SKU: {...}}}`` (a YAML/JSON file)."""
        document = document or {}
        unknown = set(document) - {"global", "customers", "skus"}
        if unknown:
            raise ToleranceError(f"unknown section(s) {', '.join(sorted(unknown))} (known: global, customers, skus)")
        try:
            return cls(Tolerance.parse(document.get("global")),
                       {str(k).strip(): Tolerance.parse(v) for k, v in (document.get("customers") or {}).items()},
                       {str(k).strip().upper(): Tolerance.parse(v) for k, v in (document.get("skus") or {}).items()})
        except (AttributeError, TypeError) as error:
            raise ToleranceError(f"each section maps a name to its limits ({error})") from None

    def with_default(self, **limits: Decimal | None) -> Tolerances:
        """The same with some global limits replaced (command-line options over a file)."""
        chosen = {name: value for name, value in limits.items() if value is not None}
        default = Tolerance(**{f.name: chosen.get(f.name, getattr(self.default, f.name)) for f in fields(Tolerance)})
        return Tolerances(default, self.customers, self.skus)

    def resolve(self, lines: pl.LazyFrame) -> pl.LazyFrame:
        """Per PO line (``po_number``, ``line_no``, ``sku``, ``customer``): the limits that apply, raw integers."""
        keyed = lines.select("po_number", "line_no", pl.col("sku").str.to_uppercase().alias("_sku"), "customer")
        keyed = keyed.join(_table(self.customers, "customer", "c_").lazy(), on="customer", how="left")
        keyed = keyed.join(_table(self.skus, "_sku", "s_").lazy(), on="_sku", how="left")
        default = self.default.raw()
        return keyed.select("po_number", "line_no", *[
            pl.coalesce(f"s_{name}", f"c_{name}", pl.lit(default[name], pl.Int128)).alias(f"tol_{name}")
            for name in LIMITS])


def _table(overrides: Mapping[str, Tolerance], key: str, prefix: str) -> pl.DataFrame:
    schema: dict[str, pl.DataType] = {key: pl.String(), **{f"{prefix}{name}": pl.Int128() for name in LIMITS}}
    rows = [{key: name, **{f"{prefix}{k}": v for k, v in tolerance.raw().items()}}
            for name, tolerance in overrides.items()]
    return pl.DataFrame(rows, schema=schema)
