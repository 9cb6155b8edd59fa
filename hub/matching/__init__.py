"""Three-way match of orders, shipments and invoices (polars, no Dagster): ``docs/three-way-match.md``."""

from hub.matching._engine import COLUMNS, EXCEPTIONS, INFORMATIONAL, MatchResult, match
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
from hub.matching._reports import FORMATS, present, summary, to_csv, to_html, to_json, to_xlsx
from hub.matching._tolerances import Tolerance, ToleranceError, Tolerances

__all__ = [
    "COLUMNS", "EXCEPTIONS", "FORMATS", "INFORMATIONAL", "INVOICE_COLUMNS", "ORDER_COLUMNS", "SHIPMENT_COLUMNS",
    "MatchDataError", "MatchResult", "Tolerance", "ToleranceError", "Tolerances", "match", "prepare_invoices",
    "prepare_orders", "prepare_shipments", "present", "read_export", "summary", "to_csv", "to_html", "to_json",
    "to_xlsx",
]
