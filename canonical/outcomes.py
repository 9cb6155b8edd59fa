"""What became of a received document and of each order document in it, as the mappings decide and the store records.

They live at the bottom layer because the mappings produce them and the hub stores them. Members are
``StrEnum``s: each equals the string stored in the database (``receipts.outcome``,
``interchanges.outcome``) and printed by ``hub map``, so rows written before the enums still compare equal.
"""

from __future__ import annotations

from enum import StrEnum


class ReceiptOutcome(StrEnum):
    """What processing made of a received file, API page or webhook body (and of one X12 interchange)."""

    ACCEPTED = "accepted"
    ACCEPTED_WITH_WARNINGS = "accepted_with_warnings"
    PARTIALLY_ACCEPTED = "partially_accepted"
    """Some order documents were accepted, others rejected."""
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    """Every X12 interchange in it was accepted before (same sender and ISA13)."""
    FAILED = "failed"
    """Processing broke for a reason nobody foresaw (the hub's intake, not a mapping, says so); an exception
    holds it for a replay."""
    NOT_X12 = "not_x12"
    NOT_SHOPIFY = "not_shopify"
    NOT_AMAZON = "not_amazon"
    IGNORED = "ignored"
    """No order meant: a newsletter, mailing-list message or auto-reply (email); recorded, not processed."""


class DocumentOutcome(StrEnum):
    """What became of one order document (an X12 transaction set, a channel order)."""

    ACCEPTED = "accepted"
    ACCEPTED_WITH_WARNINGS = "accepted_with_warnings"
    REJECTED = "rejected"
    UNSUPPORTED = "unsupported"
    """An X12 transaction set we do not take (an 860, ...)."""
    HELD = "held"
    """A marketplace order not for delivery yet (pending payment, ...)."""
    INCOMPLETE = "incomplete"
    """A marketplace order whose items could not all be read."""


class MappedOrderState(StrEnum):
    """How a channel order came out of its mapping: an order to store, one held back, or none."""

    OK = "ok"
    HELD = "held"
    REJECTED = "rejected"

