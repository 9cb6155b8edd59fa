"""An order's status in the store and what saving one did, as StrEnums equal to the strings stored and compared."""

from __future__ import annotations

from enum import StrEnum


class OrderStatus(StrEnum):
    """Whether a stored order stands (``orders.status``)."""

    OPEN = "open"
    CANCELLED = "cancelled"


class SaveAction(StrEnum):
    """What saving an order did (``SavedOrder.action``); the intake counts and reports by it."""

    CREATED = "created"
    REPLACED = "replaced"
    """An X12 replacement (BEG01 05) took the stored order's place."""
    UPDATED = "updated"
    """A newer version of a channel order."""
    UNCHANGED = "unchanged"
    """A channel order version not newer than the stored one."""
    CANCELLED = "cancelled"
    ALREADY_STORED = "already_stored"
    """This very document was saved before: a replay or a resumed run stores nothing twice."""
    DUPLICATE = "duplicate"
    """Another document already created this order number."""
    UNKNOWN_ORDER = "unknown_order"
    """A cancellation or replacement of an order never received."""
