"""Three-way match of orders, shipments and invoices (polars, no Dagster): ``docs/three-way-match.md``."""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from hub.matching._categories import EXCEPTIONS, INFORMATIONAL

if TYPE_CHECKING:  # the rest loads polars: on first use, not when the Dagster definitions import the categories
    from hub.matching._daily import DailyMatch, run_daily_match
    from hub.matching._engine import COLUMNS, MatchResult, match
    from hub.matching._inputs import (
        INVOICE_COLUMNS,
        ORDER_COLUMNS,
        SHIPMENT_COLUMNS,
        MatchDataError,
        prepare_invoices,
        prepare_orders,
        prepare_shipments,
        read_export,
    )
    from hub.matching._reports import (
        FORMATS,
        Hold,
        aging,
        customers,
        present,
        summary,
        to_csv,
        to_html,
        to_json,
        to_xlsx,
    )
    from hub.matching._tolerances import Tolerance, ToleranceError, Tolerances

_LAZY = {
    **dict.fromkeys(("COLUMNS", "MatchResult", "match"), "_engine"),
    **dict.fromkeys(("INVOICE_COLUMNS", "ORDER_COLUMNS", "SHIPMENT_COLUMNS", "MatchDataError", "prepare_invoices",
                     "prepare_orders", "prepare_shipments", "read_export"), "_inputs"),
    **dict.fromkeys(("FORMATS", "Hold", "aging", "customers", "present", "summary", "to_csv", "to_html", "to_json",
                     "to_xlsx"), "_reports"),
    **dict.fromkeys(("DailyMatch", "run_daily_match"), "_daily"),
    **dict.fromkeys(("Tolerance", "ToleranceError", "Tolerances"), "_tolerances"),
}


def __getattr__(name: str) -> Any:
    """A name of the polars half, imported on first use (PEP 562)."""
    if name not in _LAZY:
        raise AttributeError(f"module 'hub.matching' has no attribute {name!r}")
    return getattr(import_module(f"hub.matching.{_LAZY[name]}"), name)


__all__ = [
    "COLUMNS", "EXCEPTIONS", "FORMATS", "INFORMATIONAL", "INVOICE_COLUMNS", "ORDER_COLUMNS", "SHIPMENT_COLUMNS",
    "DailyMatch", "Hold", "MatchDataError", "MatchResult", "Tolerance", "ToleranceError", "Tolerances", "aging",
    "customers", "match", "prepare_invoices", "prepare_orders", "prepare_shipments", "present", "read_export",
    "run_daily_match", "summary", "to_csv", "to_html", "to_json", "to_xlsx",
]
