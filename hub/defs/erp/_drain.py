"""The push drains its outbox: passes of the delivery service until nothing is due or the time budget is spent.

The delivery service (``hub.delivery.deliver_due_orders``) claims at most ``batch`` due deliveries a
pass. One pass per run left a 10,000-order file 9,500 orders behind until the next push an
unknown time later; here a run keeps passing while passes come back full, so the orders of the
files just taken in reach the target in the same run, and stops at the budget so one run never
holds the target's pool for ever (the outbox sensor starts the next run when work remains).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

from hub import store as st
from hub.delivery import PushSummary, deliver_due_orders
from hub.targets import OrderTarget

# Deliveries claimed per pass (the service's own default).
PUSH_BATCH = 500
# Default of HUB_PUSH_TIME_BUDGET_SECONDS.
DEFAULT_BUDGET_S = 120.0


@dataclass
class Drained:
    """What one drain did: the passes' summaries added up, how many passes, and why it stopped."""

    summary: PushSummary
    passes: int
    budget_spent: bool
    """True when it stopped at the budget with its last pass full: more may be due."""


def drain_outbox(store: st.HubStore, target: OrderTarget, *, budget_s: float = DEFAULT_BUDGET_S,
                 batch: int | None = None, clock: Callable[[], float] = time.monotonic,
                 push: Callable[..., PushSummary] = deliver_due_orders) -> Drained:
    """Deliver to ``target`` pass after pass until a pass claims fewer than ``batch`` (default ``PUSH_BATCH``:
    nothing more is due), the target is on hold (a write in doubt), or ``budget_s`` seconds are spent (checked
    between passes)."""
    batch = batch or PUSH_BATCH
    deadline = clock() + budget_s
    total, passes = PushSummary(), 0
    while True:
        summary = push(store, target, limit=batch)
        passes += 1
        _add(total, summary)
        if summary.on_hold_until is not None or summary.attempted < batch:
            return Drained(total, passes, budget_spent=False)
        if clock() >= deadline:
            return Drained(total, passes, budget_spent=True)


def _add(total: PushSummary, summary: PushSummary) -> None:
    """Add one pass's counts to ``total`` (every int field, so new counters are added too); keep the hold."""
    for field in dataclasses.fields(summary):
        value = getattr(summary, field.name)
        if isinstance(value, int) and not isinstance(value, bool):
            setattr(total, field.name, getattr(total, field.name) + value)
    if summary.on_hold_until is not None:
        total.on_hold_until = summary.on_hold_until
