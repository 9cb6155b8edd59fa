"""What processing an X12 file produces: per file, per interchange (its documents: ``mappings._results``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from canonical.model import Order
from canonical.outcomes import DocumentOutcome, ReceiptOutcome
from mappings._results import DocumentResult, Problem
from mappings._results import order_json as order_json  # kept importable from here

# An X12 file's (and an interchange's) outcomes, and a transaction set's.
FILE_OUTCOMES = (ReceiptOutcome.ACCEPTED, ReceiptOutcome.ACCEPTED_WITH_WARNINGS, ReceiptOutcome.PARTIALLY_ACCEPTED,
                 ReceiptOutcome.REJECTED, ReceiptOutcome.DUPLICATE, ReceiptOutcome.NOT_X12)
DOCUMENT_OUTCOMES = (DocumentOutcome.ACCEPTED, DocumentOutcome.ACCEPTED_WITH_WARNINGS, DocumentOutcome.REJECTED,
                     DocumentOutcome.UNSUPPORTED)


@dataclass
class OutboundAck:
    """An acknowledgment interchange we would send back to the partner."""

    kind: str  # '997' | '999' | 'TA1'
    partner_id: str | None
    text: str
    interchange_control_number: str
    file_name: str


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
        value: str | None = None,
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
            value=value,
        )
