"""What the hub needs of a system it delivers orders to, and what such a system answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

from canonical.errors import RejectedDocument
from canonical.model import Order


class Action(StrEnum):
    """What a push or a cancellation did in the target (the delivery loop reads nothing else)."""

    CREATED = "created"  # the order is in the target now
    UPDATED = "updated"  # its record followed the order's changes
    UNCHANGED = "unchanged"  # the record matched the order already
    NEEDS_REVIEW = "needs_review"  # it differs, but the target's people own it now: nothing changed
    CANCELLED = "cancelled"
    ALREADY_CANCELLED = "already_cancelled"
    NOT_THERE = "not_there"  # a cancellation of an order the target never got
    REFUSED = "refused"  # the target refused to cancel (or would leave goods or bills behind)


@dataclass(frozen=True)
class Delivered:
    """The target's answer for one order: what it did and which of its records holds the order.

    ``record`` is the target's name for it (an Odoo sale order ``S00042``), ``record_id`` its key;
    ``changes`` say what differed, ``reason`` why nothing was done (needs review, refused).
    """

    action: Action
    record: str = ""
    record_id: str | None = None
    changes: tuple[str, ...] = ()
    reason: str = ""


@dataclass(frozen=True)
class Found:
    """A record the target holds under one of our orders' references."""

    record: str
    live: bool  # False: cancelled in the target


@dataclass(frozen=True)
class Reconciliation:
    """The result of comparing the store with one target, each list sorted.

    ``missing``: open orders with no record; ``doubled``: open orders with more than one live record
    (how many); ``cancelled_in_target``: open orders whose only records are cancelled;
    ``not_cancelled``: cancelled orders whose record is still live.
    """

    expected: int
    found: int
    missing: list[str]
    doubled: dict[str, int]
    cancelled_in_target: list[str]
    not_cancelled: list[str]
    cancelled_expected: int = 0

    @property
    def cancelled_in_erp(self) -> list[str]:
        """The ERP's name of ``cancelled_in_target``."""
        return self.cancelled_in_target

    @property
    def passed(self) -> bool:
        """Nothing missing, doubled or cancelled on one side only."""
        return not (self.missing or self.doubled or self.cancelled_in_target or self.not_cancelled)


# partner id -> PO number -> whether the order should be live in the target (False: cancelled)
Expected = Mapping[str, Mapping[str, bool]]


@runtime_checkable
class OrderTarget(Protocol):
    """A system stored orders are delivered to, once each, by the outbox (``hub.delivery``).

    ``name`` is the outbox ``target`` of its deliveries (and the exception channel), ``label``
    names it in messages ("the ERP"). ``write_settle`` is how long a write sent without an answer
    may still commit in it. A push or cancel that got no answer raises a ``RetriableError`` with
    ``write_in_doubt`` set; the next push must then look the order up before creating anything.
    """

    name: str
    label: str
    write_settle: dt.timedelta

    def push(self, order: Order) -> Delivered:
        """Make the target hold ``order``: create it, or make its record follow the order's changes."""
        ...

    def cancel(self, order: Order) -> Delivered:
        """Cancel the order in the target (``NOT_THERE`` if it never got it)."""
        ...

    def look_up(self, partner_id: str, po_numbers: Sequence[str]) -> dict[str, list[Found]]:
        """The records the target holds per PO number of ``partner_id`` (every asked one is a key)."""
        ...

    def reconcile(self, expected: Expected) -> Reconciliation:
        """Compare what the target holds with ``expected`` (``reconcile_by_look_up`` does it by look-ups)."""
        ...


DEFAULT_BATCH_SIZE = 100
"""Orders per batch a batching target gets unless its profile says otherwise (Odoo: one create call)."""
MAX_BATCH_SIZE = 500
"""The most orders per batch a profile may ask for: within what an ERP takes in one call (the sandbox's
ceiling, ``sandbox.erp_server.MAX_RECORDS_PER_CALL``)."""


@runtime_checkable
class BatchOrderTarget(OrderTarget, Protocol):
    """An :class:`OrderTarget` that can also take many orders in one exchange (optional capability).

    The delivery loop uses :meth:`push_batch` when ``batch_size`` is above 1, with up to
    ``max_in_flight`` batches sent at once, and falls back to :meth:`OrderTarget.push` one order at a
    time otherwise; cancellations always go one by one. Looking up "by our references" is already a
    batch operation: :meth:`OrderTarget.look_up` takes every PO number of a partner at once.

    ``push_batch`` answers per order, in order: a :class:`Delivered`, or the ``RejectedDocument`` that
    refused that order alone (e.g. an unknown product), nothing of it written. It *raises*:
    ``RejectedDocument`` when the target refused the batch as a whole without naming the order at
    fault (nothing of the batch written; the loop splits the batch in halves until the order is
    alone, and only that one goes to the exception queue); ``RetriableError`` (``write_in_doubt`` when
    a write got no answer) for the whole batch, whose next attempt must look every order up first;
    ``ConfigurationError`` to stop the pass.
    """

    batch_size: int
    max_in_flight: int

    def push_batch(self, orders: Sequence[Order]) -> list[Delivered | RejectedDocument]:
        """Make the target hold every order of ``orders`` (created or following its changes); one answer each."""
        ...


def batch_capacity(target: OrderTarget) -> tuple[int, int]:
    """(orders per batch, batches in flight) the target takes; (1, 1) when it cannot batch."""
    if not isinstance(target, BatchOrderTarget):
        return 1, 1
    return max(1, int(target.batch_size)), max(1, int(target.max_in_flight))


def reconcile_by_look_up(target: OrderTarget, expected: Expected) -> Reconciliation:
    """Open orders must have exactly one live record; cancelled ones none (a cancelled one, or none at all).

    Orders are named ``partner:PO`` when more than one partner is involved, else by the bare PO number.
    """
    missing, doubled, cancelled_in_target, not_cancelled, found = [], {}, [], [], 0
    for partner_id, refs in expected.items():
        held = target.look_up(partner_id, list(refs))
        for ref, should_be_live in refs.items():
            present = held.get(ref, [])
            live = sum(1 for record in present if record.live)
            key = (partner_id, ref)
            if should_be_live:
                found += len(present)
                if not present:
                    missing.append(key)
                elif live == 0:
                    cancelled_in_target.append(key)
                elif live > 1:
                    doubled[key] = live
            elif live:
                not_cancelled.append(key)

    def label(partner_id: str, ref: str) -> str:
        return f"{partner_id}:{ref}" if len(expected) > 1 else ref

    return Reconciliation(
        expected=sum(1 for refs in expected.values() for live in refs.values() if live),
        found=found,
        missing=sorted(label(p, r) for p, r in missing),
        doubled={label(p, r): n for (p, r), n in sorted(doubled.items())},
        cancelled_in_target=sorted(label(p, r) for p, r in cancelled_in_target),
        not_cancelled=sorted(label(p, r) for p, r in not_cancelled),
        cancelled_expected=sum(1 for refs in expected.values() for live in refs.values() if not live),
    )
