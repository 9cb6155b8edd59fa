"""Reading SP-API JSON fields with a JSON-path location for every problem found."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from mappings._channel import Findings


def text(obj: dict[str, Any], key: str) -> str | None:
    """A non-empty string field, stripped, or None."""
    value = obj.get(key)
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def timestamp(obj: dict[str, Any], key: str, where: str, findings: Findings, *, required: bool) -> dt.datetime | None:
    """An ISO 8601 date-time field as a tz-aware datetime (SP-API sends UTC, e.g. ``2024-05-01T10:00:00Z``)."""
    value = obj.get(key)
    if value is None or value == "":
        if required:
            findings.error(f"{where}.{key}", "missing")
        return None
    if not isinstance(value, str):
        findings.error(f"{where}.{key}", "not an ISO 8601 date-time")
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        findings.error(f"{where}.{key}", f"not an ISO 8601 date-time: {value[:40]!r}")
        return None
    # A time without an offset would be ambiguous; SP-API documents UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def money(obj: dict[str, Any], key: str, where: str, findings: Findings) -> tuple[Decimal, str] | None:
    """A ``Money`` field (``{"CurrencyCode": "USD", "Amount": "12.34"}``) as (amount, currency), or None if absent."""
    value = obj.get(key)
    if value is None:
        return None
    path = f"{where}.{key}"
    if not isinstance(value, dict):
        findings.error(path, "not a Money object")
        return None
    raw_amount = value.get("Amount")
    currency = value.get("CurrencyCode")
    if raw_amount is None and currency is None:
        return None  # Amazon sends empty Money objects for amounts not known yet
    try:
        # Amounts are strings on the wire; a number is accepted through its text so no float creeps in.
        amount = Decimal(str(raw_amount))
    except (InvalidOperation, ValueError):
        findings.error(f"{path}.Amount", f"not a decimal amount: {str(raw_amount)[:40]!r}")
        return None
    if not amount.is_finite():
        findings.error(f"{path}.Amount", "not a finite amount")
        return None
    if not isinstance(currency, str) or len(currency) != 3 or not currency.isascii() or not currency.isupper():
        findings.error(f"{path}.CurrencyCode", f"not an ISO 4217 currency code: {str(currency)[:10]!r}")
        return None
    return amount, currency
