"""XLSX/ODS order attachments: the first sheet whose header names a SKU and a quantity column (python-calamine)."""

from __future__ import annotations

import io
from decimal import Decimal

from mappings.email._csv import SheetResult, read_rows

MAX_ROWS = 10_000


def read_workbook(data: bytes) -> SheetResult:
    """The order lines of the first sheet with an order table."""
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:  # pragma: no cover - python-calamine is a declared dependency
        return SheetResult(problems=[(1, "spreadsheets cannot be read here (python-calamine missing)")])
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - calamine raises its own types for any broken file
        return SheetResult(problems=[(1, f"not a readable spreadsheet ({type(exc).__name__})")])
    first: SheetResult | None = None
    for name in book.sheet_names:
        rows = [[_cell(value) for value in row] for row in book.get_sheet_by_name(name).to_python()[: MAX_ROWS + 1]]
        result = read_rows(rows)
        if result.lines or result.columns:
            return result
        first = first or result
    return first or SheetResult(problems=[(1, "the workbook has no sheet")])


def _cell(value: object) -> str:
    """A cell as text; floats without the binary noise (8.99, not 8.9900000000000002)."""
    if isinstance(value, float):
        text = format(Decimal(repr(value)).normalize(), "f")
        return text
    return "" if value is None else str(value)
