"""What every API channel mapper (Shopify, marketplaces) shares: findings, mapped orders, results.

Problems and per-document results are the X12 side's own (``mappings._results``): ``hub map`` prints
the same JSON for every source, and the hub's API-channel intake stores a :class:`MappedOrder`
whatever channel made it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import ValidationError

from canonical.model import Order
from mappings._results import DocumentResult, Problem

T = TypeVar("T")

# What malformed wire data raises while one order is read: the canonical model refusing a value
# (ValidationError is a ValueError), a field of the wrong type or shape, a Decimal out of range.
# Each is that order's problem, never the page's: the order is rejected, its neighbours go on.
BAD_ORDER_ERRORS: tuple[type[BaseException], ...] = (
    ValueError, TypeError, KeyError, IndexError, AttributeError, ArithmeticError, RecursionError,
)

OK, HELD, REJECTED = "ok", "held", "rejected"


@dataclass
class Findings:
    """Problems collected while reading one order; an error means it cannot be mapped."""

    problems: list[Problem] = field(default_factory=list)

    def error(self, location: str, message: str) -> None:
        """Record a problem that stops the order from being mapped."""
        self.problems.append(Problem("error", message, location))

    def warning(self, location: str, message: str) -> None:
        """Record something a person should review; the order is still mapped."""
        self.problems.append(Problem("warning", message, location))

    def note(self, location: str, message: str) -> None:
        """Record a plain fact about the order (e.g. why it is not sent to the warehouse)."""
        self.problems.append(Problem("note", message, location))

    @property
    def has_errors(self) -> bool:
        """Whether any problem stops the mapping."""
        return any(p.severity == "error" for p in self.problems)

    @property
    def warnings(self) -> list[Problem]:
        """The warnings recorded so far."""
        return [p for p in self.problems if p.severity == "warning"]


def validation_problems(exc: ValidationError, findings: Findings, where: str,
                        wire_names: Mapping[str, str] | None = None) -> None:
    """Record each error of a canonical model as a located problem (never the refused value: it may be personal)."""
    names = wire_names or {}
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        loc = [str(part) for part in error["loc"]]
        if loc:
            loc[0] = names.get(loc[0], loc[0])
        findings.error(".".join([where, *loc]), str(error["msg"]))


def build(make: Callable[[], T], findings: Findings, where: str,
          wire_names: Mapping[str, str] | None = None) -> T | None:
    """``make()`` (a canonical line, charge, party...), or None with its validation errors located under ``where``."""
    try:
        return make()
    except ValidationError as exc:
        validation_problems(exc, findings, where, wire_names)
        return None


def unexpected_shape(exc: BaseException, *, channel_order_id: str, updated_at: dt.datetime | None,
                     where: str) -> MappedOrder:
    """The rejection of an order whose JSON broke the mapping in a way it does not check for.

    The message names the kind of error only: its text may quote the order's (personal) data.
    """
    findings = Findings()
    if isinstance(exc, ValidationError):
        validation_problems(exc, findings, f"{where} (canonical {exc.title})")
    else:
        findings.error(where, f"the order's JSON has a shape the mapping does not handle ({type(exc).__name__})")
    return MappedOrder(channel_order_id, updated_at, None, REJECTED, [str(p) for p in findings.problems], False,
                       "could not be mapped", findings=findings.problems)


@dataclass
class MappedOrder:
    """One channel order after mapping, as the hub's API-channel intake stores it."""

    channel_order_id: str
    updated_at: dt.datetime | None
    """The channel's last-modified time (tz-aware); None only when rejected for lacking it."""
    order: Order | None
    state: str  # 'ok' | 'held' | 'rejected'
    problems: list[str] = field(default_factory=list)
    push: bool = True
    reason_not_pushed: str | None = None
    cancelled: bool = False
    """The channel cancelled the order; ``order`` may be None when nothing is left to show."""
    findings: list[Problem] = field(default_factory=list, repr=False)
    """The same problems as structured data (severity, message, JSON path)."""


@dataclass
class MapResult:
    """Everything mapping saved API bodies produced."""

    outcome: str
    reason: str | None
    documents: list[DocumentResult] = field(default_factory=list)

    @property
    def orders(self) -> list[Order]:
        """The canonical orders that could be mapped."""
        return [d.order for d in self.documents if d.order is not None]

    @property
    def mapped_orders(self) -> list[MappedOrder]:
        """Every order as the intake would store it."""
        return [d.mapped for d in self.documents if d.mapped is not None]

    def to_json(self) -> dict[str, Any]:
        """What ``hub map --source shopify|amazon`` prints (the same shape as ``--source x12``)."""
        return {"outcome": self.outcome, "reason": self.reason, "documents": [d.to_json() for d in self.documents],
                "acks": []}
