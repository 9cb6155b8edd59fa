"""Numbers as customers write them: ``1,234.50``, ``1.234,50``, ``7,25``, ``$8.99``."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_CURRENCY = re.compile(r"^[\s$€£]*(?:USD|EUR|GBP|CHF)?\s*|\s*(?:USD|EUR|GBP|CHF|[$€£])?\s*$")


def parse_number(text: str, *, decimal_comma: bool | None = None) -> Decimal | None:
    """A decimal, or None; ``decimal_comma`` decides ``1,234`` and ``7,25`` when the caller knows."""
    text = _CURRENCY.sub("", text.strip()).replace("\u00a0", "").replace(" ", "").replace("'", "")
    if not text or not re.fullmatch(r"[+-]?[\d.,]+", text):
        return None
    if "," in text and "." in text:
        # The later separator is the decimal one.
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")
        else:
            text = text.replace(",", "")
    elif "," in text:
        whole, _, frac = text.rpartition(",")
        # Unknown: "1,234" is thousands, "7,25" a decimal comma.
        comma_is_decimal = decimal_comma if decimal_comma is not None else not (len(frac) == 3 and whole)
        text = text.replace(",", ".") if comma_is_decimal and text.count(",") == 1 else text.replace(",", "")
    elif decimal_comma and text.count(".") >= 1 and re.fullmatch(r"\d{1,3}(\.\d{3})+", text):
        text = text.replace(".", "")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def looks_decimal_comma(text: str) -> bool | None:
    """True for ``7,25``/``1.234,5``, False for ``7.25``/``1,234.5``, None when it tells nothing (``10``, ``1,234``)."""
    text = text.strip().lstrip("$€£").strip()
    if re.fullmatch(r"\d{1,3}[.,]\d{3}", text):
        return None  # 1.234 or 1,234: thousands or three decimals, the text alone cannot say
    if re.fullmatch(r"\d{1,3}(\.\d{3})*,\d{1,2}|\d+,\d{1,2}|\d+,\d{4,}", text):
        return True
    if re.fullmatch(r"\d{1,3}(,\d{3})*\.\d+|\d+\.\d{1,2}|\d+\.\d{4,}", text):
        return False
    return None
