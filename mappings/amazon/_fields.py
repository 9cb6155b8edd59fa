"""Reading SP-API JSON fields with a JSON-path location for every problem found."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any


@dataclass
class Problem:
    """Something wrong or worth knowing about a marketplace document, located by JSON path."""

    severity: str  # 'error' | 'warning' | 'note'
    message: str
    location: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        """The problem as plain JSON data."""
        return {"severity": self.severity, "message": self.message, "location": self.location}


@dataclass
class Findings:
    """Problems collected while reading one order; errors mean it cannot be mapped."""

    problems: list[Problem] = field(default_factory=list)

    def error(self, location: str, message: str) -> None:
        """Record a problem that stops the order from being mapped."""
        self.problems.append(Problem("error", message, location))

    def warning(self, location: str, message: str) -> None:
        """Record a problem a person should review; the order is still mapped."""
        self.problems.append(Problem("warning", message, location))

    def note(self, location: str, message: str) -> None:
        """Record a plain fact about the order (e.g. why it is not sent to the warehouse)."""
        self.problems.append(Problem("note", message, location))

    @property
    def has_errors(self) -> bool:
        """Whether any error was recorded."""
        return any(p.severity == "error" for p in self.problems)

    @property
    def warnings(self) -> list[Problem]:
        """The warnings recorded so far."""
        return [p for p in self.problems if p.severity == "warning"]


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
