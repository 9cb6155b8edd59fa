"""Order lines, PO number and ship-to written in a message's own words, earlier messages left out.

Lines in the common forms: ``10 x WID-100 @ 8.99``, ``qty 6 WID-200 @ 7.25``, ``WID-300 x 4 $7.25 ea``,
``5 pcs WID-400 - Blue widget @ $12.00 each``. An item number of letters only (``12 x LAMP-LED @ 19.50``)
is read only with a quantity and a price on the line and when it looks like one (capitals or a ``-``/``_``/
``.``/``/`` in it, three characters at least), so prose (``Thanks x 2 @ home``) stays prose; a line shaped
like an order line that still cannot be read is handed back by :func:`doubtful_lines`, so the order is
held for review instead of being silently short. Quoted history is never read: ``>`` lines, and
everything after ``On ... wrote:``, an Outlook ``-----Original Message-----`` or ``From:``/``Sent:``
block, a ``____`` rule, or a ``-- `` signature.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from mappings.email._numbers import parse_number

NUM = r"\d{1,3}(?:[.,]\d{3})*(?:[.,]\d+)?|\d+(?:[.,]\d+)?"
# An item number: letters, digits and - _ . / with at least one digit (so words like "the" are no SKU).
SKU = r"(?=[A-Za-z0-9._/-]*\d)[A-Za-z0-9][A-Za-z0-9._/-]{1,39}"
# An item number of letters (and - _ . /) only: read only with a quantity and a price (see _item_like).
WORD_SKU = r"[A-Za-z][A-Za-z._/-]{1,38}[A-Za-z]"
_UNITS = r"x|\u00d7|\*|pcs?\.?|pieces?|units?|ea\.?|each|cases?|boxes?|cs|bx"


def _qty_first(sku: str) -> re.Pattern[str]:
    # (?!\d): "123 x LAMP" is 123 of LAMP, not 1 of "23".
    return re.compile(rf"^(?:(?:qty|quantity)\s*:?\s*)?(?P<qty>{NUM})(?!\d)\s*(?:(?P<unit>{_UNITS})\s*)?(?:of\s+)?"
                      rf"(?P<sku>{sku})\b(?P<rest>.*)$", re.IGNORECASE)


def _sku_first(sku: str) -> re.Pattern[str]:
    return re.compile(rf"^(?P<sku>{sku})\s*(?:[x\u00d7*:]|qty\s*:?|-)\s*(?P<qty>{NUM})\s*(?:(?P<unit>{_UNITS})\b)?"
                      rf"(?P<rest>.*)$", re.IGNORECASE)


_QTY_FIRST, _SKU_FIRST = _qty_first(SKU), _sku_first(SKU)
_WORD_QTY_FIRST, _WORD_SKU_FIRST = _qty_first(WORD_SKU), _sku_first(WORD_SKU)
_NOT_ITEMS = frozenset({"x", "pcs", "qty", "pieces", "piece", "units", "unit", "each", "cases", "case", "boxes",
                        "box", "of", "the", "and", "for", "per", "usd", "eur"})
# The shape of an order line, read or not: a quantity ("10 x", "qty 6", "x 4", "5 pcs") and a price
# ("@ 8.99", "$7.25", "7.25 ea"). A line with both that no form reads is doubtful, never silently skipped.
_N = rf"(?:{NUM})"
_QUANTITY_SHAPE = re.compile(rf"(?:^|\s)(?:(?:qty|quantity)\s*:?\s*{_N}|{_N}\s*(?:x|\u00d7|\*|pcs?\.?|pieces?|units?"
                             rf"|cases?|boxes?)(?=\s)|(?:x|\u00d7)\s*{_N}\b)", re.IGNORECASE)
_PRICE_SHAPE = re.compile(rf"(?:@|\bat\b)\s*(?:\$|€|USD\s?|EUR\s?)?\s*{_N}|[$€]\s*{_N}|{_N}\s*(?:\$|€|USD|EUR)"
                          rf"|{_N}\s*/?\s*(?:ea|each)\b", re.IGNORECASE)
_PRICE_IN_REST = re.compile(r"(?:@|\bat\b|\$|€|USD|EUR|\b(?:ea|each)\b)", re.IGNORECASE)
_PRICE_RE = re.compile(rf"(?:@|\bat\b)?\s*(?:\$|USD\s?|EUR\s?|€)?\s*(?P<price>{NUM})\s*(?:\$|€|USD|EUR)?\s*"
                       rf"(?:/\s*)?(?P<each>ea|each|per\s+\w+|pc|unit)?\b", re.IGNORECASE)
_UOM = {"cs": "CA", "case": "CA", "cases": "CA", "box": "BX", "boxes": "BX", "bx": "BX"}

_QUOTE_STARTS = (
    re.compile(r"^\s*On\b.{0,200}\bwrote:\s*$", re.IGNORECASE),
    re.compile(r"^\s*(Am|Le|El|Il)\b.{0,200}\b(schrieb|a écrit|escribió|ha scritto)\s*.{0,40}:\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*(Original Message|Ursprüngliche Nachricht|Message d'origine|Forwarded message)\s*-{2,}",
               re.IGNORECASE),
    re.compile(r"^\s*_{10,}\s*$"),
    re.compile(r"^-- $"),
)
_OUTLOOK_HEADER = re.compile(r"^\s*\*?(From|Von|De)\s*:\*?\s", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(Sent|Date|Gesendet|Envoyé|To|An|À|Subject|Betreff)\s*:", re.IGNORECASE)
# A PO number needs a marker: "PO", "P.O. #", "purchase order", "order no.", "Bestellnummer"... (plain
# "order 12 units" is no PO number) and a digit in it.
_NUMBER_WORD = r"(?:number|no\.?|nr\.?|num\.?|#)"
_PO = re.compile(rf"\b(?:P\.?\s?O\.?(?:\s*{_NUMBER_WORD})?|purchase\s+order(?:\s*{_NUMBER_WORD})?"
                 rf"|order\s*{_NUMBER_WORD}|bestellnummer|bestellung\s*{_NUMBER_WORD}|commande\s*(?:n°|no\.?|#)|pedido\s*(?:n°|no\.?|#))"
                 r"\s*[:#]?\s*(?P<po>(?=[A-Z0-9/-]*\d)[A-Z0-9][A-Z0-9/-]{1,30})\b", re.IGNORECASE)
_SHIP_TO = re.compile(
    r"^\s*(?:ship\s*-?\s*to|deliver(?:y)?\s+to|shipping\s+address|delivery\s+address)\s*:?\s*(?P<rest>.*)$",
    re.IGNORECASE)
_CITY_LINE = re.compile(r"^(?P<city>[^,\d][^,]*),\s*(?P<region>[A-Z]{2})\s+(?P<postal>\d{5}(?:-\d{4})?)\s*$")


@dataclass
class BodyLine:
    """An order line read from the body, with the body line it came from (1-based, in the unquoted text)."""

    line_no: int
    text: str
    sku: str
    quantity: Decimal
    unit_price: Decimal | None
    description: str | None
    uom: str


@dataclass
class ShipTo:
    """A ship-to address read from the body, with the lines it came from."""

    lines: list[str]
    first_line: int
    last_line: int
    name: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None


def own_text(text: str) -> list[str]:
    """The message's own lines: quoted replies, forwarded history and the signature cut off."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[str] = []
    for n, line in enumerate(lines):
        if any(pattern.match(line) for pattern in _QUOTE_STARTS):
            break
        if _OUTLOOK_HEADER.match(line) and any(_OUTLOOK_NEXT.match(after) for after in lines[n + 1:n + 3]):
            break
        # "On Mon, 3 Dec 2026 at 10:00, Buyer <b@x>" + "wrote:" split over two lines.
        if re.match(r"^\s*On\b", line, re.IGNORECASE) and n + 1 < len(lines) and \
                re.match(r"^.{0,80}wrote:\s*$", lines[n + 1], re.IGNORECASE):
            break
        out.append("" if line.lstrip().startswith(">") else line)
    return out


def body_lines(lines: list[str]) -> list[BodyLine]:
    """The order lines among ``lines`` (from :func:`own_text`)."""
    found = []
    for n, line in enumerate(lines, start=1):
        parsed = parse_line(line)
        if parsed is not None:
            sku, qty, price, description, uom = parsed
            found.append(BodyLine(n, line.strip(), sku, qty, price, description, uom))
    return found


def parse_line(line: str) -> tuple[str, Decimal, Decimal | None, str | None, str] | None:
    """(sku, quantity, unit price, description, uom) of one line in a common form, or None."""
    text = _clean(line)
    for pattern in (_QTY_FIRST, _SKU_FIRST, _WORD_QTY_FIRST, _WORD_SKU_FIRST):
        match = pattern.match(text)
        if match is None:
            continue
        quantity = parse_number(match["qty"])
        if quantity is None or quantity <= 0 or match["sku"].lower() in ("x", "pcs", "qty"):
            continue
        price, description = _price_and_words(match["rest"])
        if price is None and not match["unit"] and not re.search(r"\bqty|quantity\b", text, re.IGNORECASE) \
                and pattern is _QTY_FIRST:
            continue  # "3 2026-12-01 ..." or "2 PO123": a number and a code, no sign of an order line
        if pattern in (_WORD_QTY_FIRST, _WORD_SKU_FIRST) and (price is None or not _item_like(match["sku"])):
            continue  # letters only: an item number only with a price on the line and the look of one
        unit = (match["unit"] or "").lower().rstrip(".")
        return match["sku"], quantity, price, description, _UOM.get(unit, "EA")
    return None


def doubtful_lines(lines: list[str]) -> list[tuple[int, str]]:
    """(line number, text) of the lines among ``lines`` shaped like an order line (quantity and price) that
    :func:`parse_line` cannot read: an order read without them would be short."""
    return [(n, line.strip()) for n, line in enumerate(lines, start=1)
            if parse_line(line) is None and _QUANTITY_SHAPE.search(_clean(line)) and _PRICE_SHAPE.search(line)]


def _clean(line: str) -> str:
    text = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s+", "", line.strip())  # list bullets "- ", "1. "
    return text.replace("\t", " ")


def _item_like(sku: str) -> bool:
    """A letters-only word that looks like an item number: capitals (LAMP, LAMP-LED) or a separator (lamp-led)."""
    if sku.lower() in _NOT_ITEMS or len(sku) < 3:
        return False
    return sku.isupper() or any(sep in sku for sep in "-_./")


def _price_and_words(rest: str) -> tuple[Decimal | None, str | None]:
    if not _PRICE_IN_REST.search(rest):
        words = rest.strip(" -\u2013:,")
        return None, words or None
    match = None
    for candidate in _PRICE_RE.finditer(rest):
        if candidate.group(0).strip() and ("@" in candidate.group(0) or "$" in candidate.group(0) or "€" in
                                           candidate.group(0) or candidate["each"] or "at" in candidate.group(0)
                                           or "USD" in candidate.group(0) or "EUR" in candidate.group(0)):
            match = candidate
            break
    if match is None:
        return None, rest.strip(" -\u2013:,") or None
    price = parse_number(match["price"])
    words = (rest[:match.start()] + " " + rest[match.end():]).strip(" -\u2013:,")
    return price, words or None


def po_number(subject: str, lines: list[str]) -> tuple[str, str] | None:
    """The customer's PO number and where it was read (``subject`` or ``body line N``)."""
    match = _PO.search(subject)
    if match:
        return match["po"], "subject"
    for n, line in enumerate(lines, start=1):
        if parse_line(line) is not None:
            continue
        match = _PO.search(line)
        if match:
            return match["po"], f"body line {n}"
    return None


def ship_to(lines: list[str]) -> ShipTo | None:
    """The ship-to block: a ``Ship to:`` line, then address lines up to a blank line or an order line."""
    for n, line in enumerate(lines, start=1):
        match = _SHIP_TO.match(line)
        if match is None:
            continue
        block = [match["rest"].strip()] if match["rest"].strip() else []
        last = n
        for m in range(n, min(len(lines), n + 6)):
            text = lines[m].strip()
            if not text or parse_line(text) is not None:
                break
            block.append(text)
            last = m + 1
        if not block:
            return None
        result = ShipTo(block, n, last, name=block[0])
        city = _CITY_LINE.match(block[-1])
        if city:
            result.city, result.region, result.postal_code = city["city"].strip(), city["region"], city["postal"]
        return result
    return None
