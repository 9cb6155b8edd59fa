"""CSV order attachments: charset, delimiter, decimal comma and header words found out, rows read with provenance.

The charset is the one the part declares, else UTF-8 (with or without BOM) when the bytes are valid
UTF-8, else charset-normalizer's best guess, else windows-1252 (which decodes any byte). The
delimiter is ``csv.Sniffer``'s, checked: the header row must name a SKU and a quantity column
(synonyms.yaml) with it, else every common delimiter is tried. Decimal commas are decided once per
file from the numbers in its quantity and price columns.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import yaml

from mappings.email._numbers import looks_decimal_comma, parse_number

MAX_ROWS = 10_000
DELIMITERS = ";,\t|"
FIELDS = ("sku", "quantity", "unit_price", "description", "uom", "po_number")


@dataclass
class SheetLine:
    """One order line read from a table, with its row (1-based, the header is row 1)."""

    row: int
    sku: str
    quantity: Decimal
    unit_price: Decimal | None
    description: str | None
    uom: str | None
    po_number: str | None


@dataclass
class SheetResult:
    """What one table gave: its lines, the problems of rows that could not be read, how it was read."""

    lines: list[SheetLine] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    """Field -> the header as the customer wrote it."""
    charset: str | None = None
    delimiter: str | None = None
    decimal_comma: bool = False


@lru_cache(maxsize=1)
def synonyms() -> dict[str, str]:
    """Normalized header word -> field, from ``mappings/email/synonyms.yaml``."""
    data = yaml.safe_load((Path(__file__).parent / "synonyms.yaml").read_text(encoding="utf-8"))
    return {normalize_header(word): name for name, words in data.items() for word in words}


def normalize_header(text: str) -> str:
    """Case, accents' case, spaces and punctuation ignored: ``Art.-Nr.`` -> ``artnr``."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def decode_csv(data: bytes, declared: str | None) -> tuple[str, str]:
    """(text, charset used)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace"), "utf-16"
    if declared and declared.lower() not in ("us-ascii", "ascii"):
        try:
            return data.decode(declared), declared.lower()
        except (LookupError, UnicodeDecodeError):
            pass  # a wrong declaration (common): guess instead
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=["cp1252", "iso8859_1", "iso8859_15", "cp850", "mac_roman"]).best()
    if best is not None and best.encoding:
        return str(best), best.encoding
    return data.decode("windows-1252", errors="replace"), "windows-1252"


def header_columns(header: list[str]) -> dict[str, int]:
    """Field -> column index, for the header cells that name a known field (first one wins)."""
    words = synonyms()
    columns: dict[str, int] = {}
    for index, cell in enumerate(header):
        name = words.get(normalize_header(cell))
        if name and name not in columns:
            columns[name] = index
    return columns


def read_csv(data: bytes, declared_charset: str | None = None) -> SheetResult:
    """The order lines of a CSV file; a file without SKU and quantity columns gives none (and says so)."""
    text, charset = decode_csv(data, declared_charset)
    result = SheetResult(charset=charset)
    delimiter = _delimiter(text)
    if delimiter is None:
        result.problems.append((1, "no header row naming an item number and a quantity column"))
        return result
    result.delimiter = delimiter
    try:
        rows = list(itertools.islice(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), MAX_ROWS + 1))
    except csv.Error as exc:
        result.problems.append((1, f"the CSV file cannot be read ({exc})"))
        return result
    return read_rows(rows, result)


def read_rows(rows: list[list[str]], result: SheetResult | None = None) -> SheetResult:
    """The order lines of a table whose first non-empty row is its header (CSV, XLSX, HTML)."""
    result = result or SheetResult()
    start = next((n for n, row in enumerate(rows) if any(cell.strip() for cell in row)), None)
    if start is None:
        result.problems.append((1, "the table is empty"))
        return result
    columns = header_columns(rows[start])
    if "sku" not in columns or "quantity" not in columns:
        result.problems.append((start + 1, "no header row naming an item number and a quantity column"))
        return result
    result.columns = {name: rows[start][index].strip() for name, index in columns.items()}
    body = rows[start + 1:]
    result.decimal_comma = _decimal_comma(body, columns)
    for offset, row in enumerate(body, start=start + 2):
        cell = {name: (row[index].strip() if index < len(row) else "") for name, index in columns.items()}
        if not cell["sku"] and not cell["quantity"]:
            continue  # blank rows, and "Total" rows at the bottom
        if not cell["sku"]:
            result.problems.append((offset, f"no item number ({result.columns['sku']!r} is empty)"))
            continue
        quantity = parse_number(cell["quantity"], decimal_comma=result.decimal_comma)
        if quantity is None or quantity <= 0:
            result.problems.append((offset, f"quantity {cell['quantity']!r} is not a number above 0"))
            continue
        price = None
        if cell.get("unit_price"):
            price = parse_number(cell["unit_price"], decimal_comma=result.decimal_comma)
            if price is None or price < 0:
                result.problems.append((offset, f"price {cell['unit_price']!r} is not a number"))
                continue
        result.lines.append(SheetLine(offset, cell["sku"], quantity, price, cell.get("description") or None,
                                      cell.get("uom") or None, cell.get("po_number") or None))
    return result


def _delimiter(text: str) -> str | None:
    """The delimiter whose header row names a SKU and a quantity column: the Sniffer's first, then each other."""
    sample = "\n".join(text.splitlines()[:50])
    candidates = []
    try:
        candidates.append(csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter)
    except csv.Error:
        pass
    candidates += [d for d in DELIMITERS if d not in candidates]
    for delimiter in candidates:
        try:
            rows = [row for row in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
                    if any(c.strip() for c in row)]
        except csv.Error:
            continue
        if rows and {"sku", "quantity"} <= header_columns(rows[0]).keys():
            return delimiter
    return None


def _decimal_comma(rows: list[list[str]], columns: dict[str, int]) -> bool:
    votes = {True: 0, False: 0}
    for row in rows:
        for name in ("quantity", "unit_price"):
            index = columns.get(name)
            if index is not None and index < len(row):
                vote = looks_decimal_comma(row[index])
                if vote is not None:
                    votes[vote] += 1
    return votes[True] > votes[False]


def sheet_rows_from_text(text: str) -> list[list[str]]:
    """Tab-separated lines (HTML tables as text) as rows."""
    return [re.split(r"\t", line) for line in text.splitlines()]
