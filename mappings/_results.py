"""What mapping a document produces, whatever its source: located problems and one result per document.

``hub map`` prints the same JSON for every source (X12, Shopify, marketplaces): a document's ref,
outcome, problems and order, the order's optional business details only where it has them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from canonical.model import Order

if TYPE_CHECKING:
    from mappings._channel import MappedOrder

# Business details an order may or may not carry: ``order_json`` leaves them out when empty, so the
# machine-readable form stays as compact as the document it came from.
_ORDER_DETAILS = frozenset(
    {"carrier", "terms", "shipping_terms", "contacts", "taxes_included", "tax_total", "presentment_currency",
     "presentment_total"}
)
_LINE_DETAILS = frozenset(
    {"tax_amount", "price_basis", "pack", "inner_pack", "pack_size", "pack_size_uom", "pack_weight", "pack_weight_uom",
     "distribution", "attributes", "references", "dates", "parties"}
)
_PARTY_DETAILS = frozenset({"entity_code", "id_scheme", "references", "contacts"})
_CHARGE_DETAILS = frozenset({"percent", "percent_basis", "rate", "quantity", "handling"})


@dataclass
class Problem:
    """An error, warning or note about a document, located for a person.

    An X12 problem is also coded for the 997/999/TA1 (segment, element, code); an API channel's is
    located by JSON path and has no coding.
    """

    severity: str  # 'error' | 'warning' | 'note'
    message: str
    location: str
    segment_id: str | None = None
    segment_position: int | None = None
    element_position: int | None = None
    code: str | None = None
    acknowledged: bool = True
    """Whether the partner hears about it in the 997/TA1 (internal review notes are not sent)."""
    trigger: tuple[str, int, int | None] | None = None
    """The segment id, position and element whose presence made this a problem (a 999 CTX), if any."""
    value: str | None = None
    """The offending element's value as received, for an element-level X12 problem (never sent in an ack)."""

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"

    @property
    def coded(self) -> bool:
        """Whether it carries X12 coding (where in the set, which code, whether the partner is told)."""
        return any(
            (self.segment_id, self.segment_position is not None, self.element_position is not None, self.code,
             not self.acknowledged, self.trigger)
        )

    def to_json(self) -> dict[str, Any]:
        """The problem as plain JSON data; the X12 coding fields only on a coded problem."""
        if self.coded:
            return dataclasses.asdict(self)
        return {"severity": self.severity, "message": self.message, "location": self.location}


@dataclass
class DocumentResult:
    """One document (an X12 transaction set, an API channel's order) and what became of it."""

    ref: str
    outcome: str  # a canonical.outcomes.DocumentOutcome (members equal their strings)
    errors: list[Problem] = field(default_factory=list)
    order: Order | None = None
    mapped: MappedOrder | None = None
    """API channels: the order as the hub's intake stores it."""
    transaction_set: str | None = None
    """X12: the transaction set id (ST01, e.g. ``850``); None for an API channel's order."""
    functional_ack: tuple[str, str, str] | None = None
    """X12 997/999 received: (AK101, AK102, status), so the intake can match it to a document we sent."""

    def to_json(self) -> dict[str, Any]:
        """The result in the shape ``hub map`` prints for every source."""
        return {
            "ref": self.ref,
            "transaction_set": self.transaction_set,
            "outcome": self.outcome,
            "errors": [p.to_json() for p in self.errors],
            "order": order_json(self.order) if self.order is not None else None,
        }


def order_json(order: Order) -> dict[str, Any]:
    """The order in canonical JSON, its optional business details only where the document had them."""
    data = _compact(order.model_dump(mode="json"), _ORDER_DETAILS)
    data["parties"] = [_compact(p, _PARTY_DETAILS) for p in data["parties"]]
    data["charges"] = _charges(data["charges"])
    data["lines"] = [_line_json(line) for line in data["lines"]]
    return data


def _compact(data: dict[str, Any], details: frozenset[str]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in details or v not in (None, [], {})}


def _charges(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [_compact(c, _CHARGE_DETAILS) for c in items]


def _line_json(line: dict[str, Any]) -> dict[str, Any]:
    data = {**_compact(line, _LINE_DETAILS), "charges": _charges(line["charges"])}
    if "parties" in data:  # a ship-to or mark-for per line (line-level N1 loop)
        data["parties"] = [_compact(p, _PARTY_DETAILS) for p in data["parties"]]
    return data
