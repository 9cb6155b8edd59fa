"""Reading Shopify order JSON: money in the shop's currency, timestamps, text; problems located by JSON path."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from mappings._channel import Findings


def text(obj: Any, key: str) -> str | None:
    """A non-blank string field, stripped; None for null, blank or missing."""
    value = obj.get(key) if isinstance(obj, dict) else None
    if value is None or isinstance(value, (dict, list)):
        return None
    value = str(value).strip()
    return value or None


def timestamp(obj: dict[str, Any], key: str, where: str, findings: Findings, *, required: bool) -> dt.datetime | None:
    """An ISO 8601 timestamp with its offset (Shopify sends the shop's local offset)."""
    value = obj.get(key)
    if value in (None, ""):
        if required:
            findings.error(f"{where}.{key}", "missing")
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        findings.error(f"{where}.{key}", f"not an ISO 8601 timestamp: {str(value)[:40]!r}")
        return None
    if parsed.tzinfo is None:
        findings.error(f"{where}.{key}", "timestamp without a UTC offset")
        return None
    return parsed


def decimal(value: Any, where: str, findings: Findings) -> Decimal | None:
    """A decimal amount from Shopify's string (or number) form."""
    if value is None or isinstance(value, bool):
        findings.error(where, "missing amount")
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        findings.error(where, f"not a number: {str(value)[:40]!r}")
        return None
    if not number.is_finite():
        findings.error(where, "not a finite number")
        return None
    return number


def shop_money(obj: dict[str, Any], key: str, where: str, findings: Findings, *, currency: str,
               required: bool = True) -> Decimal | None:
    """``key`` in the shop's currency: ``<key>_set.shop_money.amount`` when sent, else the plain ``key``.

    The plain REST fields are in the shop currency too; the ``_set`` form is preferred because it
    names its currency, which is checked against the order's.
    """
    money_set = obj.get(f"{key}_set")
    if isinstance(money_set, dict) and isinstance(money_set.get("shop_money"), dict):
        money = money_set["shop_money"]
        code = money.get("currency_code")
        if code and code != currency:
            findings.error(f"{where}.{key}_set.shop_money.currency_code",
                           f"{code} is not the shop currency {currency}")
            return None
        return decimal(money.get("amount"), f"{where}.{key}_set.shop_money.amount", findings)
    if obj.get(key) is None:
        if required:
            findings.error(f"{where}.{key}", "missing amount")
        return None
    return decimal(obj.get(key), f"{where}.{key}", findings)


def presentment_money(obj: dict[str, Any], key: str) -> tuple[Decimal, str] | None:
    """``<key>_set.presentment_money`` as (amount, currency), when sent and readable."""
    money_set = obj.get(f"{key}_set")
    money = money_set.get("presentment_money") if isinstance(money_set, dict) else None
    if not isinstance(money, dict) or not money.get("currency_code"):
        return None
    try:
        return Decimal(str(money.get("amount"))), str(money["currency_code"])
    except InvalidOperation:
        return None


def prorate(amount: Decimal, part: Decimal, whole: Decimal, *, like: Decimal) -> Decimal:
    """``amount * part / whole`` rounded half up to the decimals of ``like`` (the currency's minor unit)."""
    if part == whole:
        return amount
    like_exponent, amount_exponent = like.as_tuple().exponent, amount.as_tuple().exponent
    assert isinstance(like_exponent, int) and isinstance(amount_exponent, int), "money is a finite number"
    exponent = min(like_exponent, amount_exponent)
    return (amount * part / whole).quantize(Decimal(1).scaleb(exponent), rounding=ROUND_HALF_UP)
