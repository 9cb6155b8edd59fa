"""What processing an X12 file produces: per file, per interchange, per transaction set."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from canonical.model import Order

# Business details an 850 may or may not carry: ``to_json`` leaves them out when empty, so the
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

FILE_OUTCOMES = ("accepted", "accepted_with_warnings", "partially_accepted", "rejected", "duplicate", "not_x12")
DOCUMENT_OUTCOMES = ("accepted", "accepted_with_warnings", "rejected", "unsupported")


@dataclass
class Problem:
    """An error or warning about an X12 document, located for a person and coded for the 997/TA1."""

    severity: str  # 'error' | 'warning'
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

    def to_json(self) -> dict[str, Any]:
        """The problem as plain JSON data."""
        return dataclasses.asdict(self)


@dataclass
class OutboundAck:
    """An acknowledgment interchange we would send back to the partner."""

    kind: str  # '997' | '999' | 'TA1'
    partner_id: str | None
    text: str
    interchange_control_number: str
    file_name: str


@dataclass
class DocumentResult:
    """One transaction set (ST..SE) and what became of it."""

    ref: str
    transaction_set: str
    outcome: str
    errors: list[Problem] = field(default_factory=list)
    order: Order | None = None

    def to_json(self) -> dict[str, Any]:
        """The result as plain JSON data (orders in the canonical JSON shape)."""
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


@dataclass
class InterchangeResult:
    """One ISA..IEA interchange: who sent it, its control number and its documents' outcomes."""

    partner_id: str | None
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    control_number: str
    is_test: bool
    version: str
    outcome: str
    reason: str | None
    documents: list[DocumentResult] = field(default_factory=list)
    acks: list[OutboundAck] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    envelope_rejected: bool = False  # the ISA/IEA itself was refused (a TA1 says why); no set was processed
    handed_over: int = 0  # accepted documents given to process_interchange_file's on_document (not kept here)
    """Interchange- and group-level problems (the documents carry their own)."""


@dataclass
class X12FileResult:
    """Everything processing one file produced: interchanges, documents, orders and acks."""

    outcome: str
    reason: str | None
    interchanges: list[InterchangeResult] = field(default_factory=list)
    fault: str | None = None
    """Why reading stopped before the end of the file (data after the last IEA, an unreadable ISA)."""

    @property
    def documents(self) -> list[DocumentResult]:
        """All transaction sets of all interchanges, in file order."""
        return [d for ic in self.interchanges for d in ic.documents]

    @property
    def acks(self) -> list[OutboundAck]:
        """All acknowledgments to send, in file order."""
        return [a for ic in self.interchanges for a in ic.acks]

    @property
    def orders(self) -> list[Order]:
        """The orders of the accepted documents."""
        return [d.order for d in self.documents if d.order is not None]

    def to_json(self) -> dict[str, Any]:
        """What ``hub map --source x12 FILE`` prints."""
        return {
            "outcome": self.outcome,
            "reason": self.reason,
            "documents": [d.to_json() for d in self.documents],
            "acks": [a.text for a in self.acks],
        }


class Locator:
    """Builds located problems for one place in an interchange (``ISA n / GS n / ST n``)."""

    def __init__(self, *parts: str) -> None:
        self.parts = parts

    @property
    def ref(self) -> str:
        """The compact reference, e.g. ``ISA 000000101/GS 1/ST 0001``."""
        return "/".join(self.parts)

    def problem(
        self,
        message: str,
        *,
        severity: str = "error",
        segment_id: str | None = None,
        position: int | None = None,
        element: int | None = None,
        code: str | None = None,
        acknowledged: bool = True,
        trigger: tuple[str, int, int | None] | None = None,
    ) -> Problem:
        """A problem located at this place (optionally a segment and an element in it)."""
        where = list(self.parts)
        if position is not None or segment_id is not None:
            label = f"segment {position}" if position is not None else "segment"
            where.append(f"{label} ({segment_id})" if segment_id else label)
        if element is not None:
            where.append(f"element {element}")
        return Problem(
            severity=severity,
            message=message,
            location=" / ".join(where),
            segment_id=segment_id,
            segment_position=position,
            element_position=element,
            code=code,
            acknowledged=acknowledged,
            trigger=trigger,
        )
