"""The invariants every fault scenario ends with: nothing lost, nothing doubled, nothing stuck.

Each scenario injects its fault, lets the hub recover the way production would (a retry, the next
tick, a replay), then calls :func:`assert_store_invariants` (and the ERP / ack helpers where the
scenario involves them). The checks read the store as an operator's reconciliation would.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

from sqlalchemy import func, select

from hub import store as st

ACCEPTED_OUTCOMES = {"accepted", "accepted_with_warnings", "duplicate"}


def orders_per_po(store: st.HubStore) -> Counter:
    """How many stored orders each (source, partner, PO number) has: exactly one each, or it doubled."""
    orders = st.tables.orders
    with store.transaction() as conn:
        rows = conn.execute(
            select(orders.c.source, orders.c.partner_id, orders.c.source_ref, func.count())
            .group_by(orders.c.source, orders.c.partner_id, orders.c.source_ref)
        ).all()
    return Counter({(source, partner, ref): count for source, partner, ref, count in rows})


def unaccounted_receipts(store: st.HubStore) -> list[tuple[int, str, str | None]]:
    """Receipts with no outcome yet, or an outcome other than clean acceptance and no exception."""
    receipts, exceptions = st.tables.receipts, st.tables.exceptions
    with store.transaction() as conn:
        rows = conn.execute(
            select(receipts.c.id, receipts.c.state, receipts.c.outcome).where(
                (receipts.c.state != "processed")
                | (
                    receipts.c.outcome.not_in(sorted(ACCEPTED_OUTCOMES))
                    & ~select(exceptions.c.id).where(exceptions.c.receipt_id == receipts.c.id).exists()
                )
            )
        ).all()
    return [tuple(row) for row in rows]


def stuck_deliveries(store: st.HubStore, *, now: dt.datetime, older_than: dt.timedelta) -> list[tuple[int, str]]:
    """Outbox rows still in flight after ``older_than``: a run that died and was never reclaimed."""
    outbox = st.tables.outbox
    with store.transaction() as conn:
        rows = conn.execute(
            select(outbox.c.id, outbox.c.state).where(
                (outbox.c.state == st.IN_FLIGHT) & (outbox.c.updated_at <= now - older_than)
            )
        ).all()
    return [tuple(row) for row in rows]


def unsent_acks(store: st.HubStore) -> list[tuple[int, str]]:
    """Outbound documents (997, TA1, ...) still waiting to reach the partner."""
    outbound = st.tables.outbound_documents
    with store.transaction() as conn:
        rows = conn.execute(
            select(outbound.c.id, outbound.c.file_name).where(outbound.c.state != "sent")
        ).all()
    return [tuple(row) for row in rows]


def assert_store_invariants(
    store: st.HubStore,
    *,
    expected_pos: Iterable[tuple[str, str, str]] | None = None,
    acks_sent: bool = True,
    now: dt.datetime | None = None,
    stuck_after: dt.timedelta = dt.timedelta(minutes=2),
) -> None:
    """Nothing lost, nothing doubled, nothing stuck, as the store sees it.

    ``expected_pos``: the (source, partner, PO number) keys the scenario sent; each must be stored
    exactly once (none missing). Without it, only doubling is checked.
    """
    counts = orders_per_po(store)
    doubled = {key: n for key, n in counts.items() if n != 1}
    assert not doubled, f"orders stored more than once: {doubled}"
    if expected_pos is not None:
        missing = set(expected_pos) - set(counts)
        assert not missing, f"orders lost: {sorted(missing)}"
    assert not unaccounted_receipts(store), f"receipts without an outcome or exception: {unaccounted_receipts(store)}"
    if acks_sent:
        assert not unsent_acks(store), f"acks never sent: {unsent_acks(store)}"
    stuck = stuck_deliveries(store, now=now or st.utcnow(), older_than=stuck_after)
    assert not stuck, f"deliveries stuck in flight: {stuck}"


def assert_each_once(names: Iterable[str], what: str) -> None:
    """Every name (an ERP reference, an ack file name) appears exactly once."""
    counts = Counter(names)
    doubled = {name: n for name, n in counts.items() if n > 1}
    assert not doubled, f"{what} doubled: {doubled}"
