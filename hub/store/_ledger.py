"""The interchange ledger and our outbound control numbers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from canonical.errors import FatalError
from canonical.outcomes import ReceiptOutcome
from hub.store._tables import control_numbers, interchanges

# Outcomes after which a resend of the same sender + ISA13 is a duplicate. A rejected interchange
# may be corrected and sent again under the same control number.
BLOCKING_OUTCOMES = frozenset({ReceiptOutcome.ACCEPTED, ReceiptOutcome.ACCEPTED_WITH_WARNINGS,
                               ReceiptOutcome.PARTIALLY_ACCEPTED})

MAX_CONTROL_NUMBER = 999_999_999


def interchange_seen(
    conn: Connection, *, sender_qualifier: str, sender_id: str, control_number: str,
    exclude_receipt_id: int | None = None,
) -> bool:
    """Whether an accepted interchange with this sender and ISA13 is already in the ledger."""
    query = select(interchanges.c.id).where(
        (interchanges.c.sender_qualifier == sender_qualifier)
        & (interchanges.c.sender_id == sender_id.strip())
        & (interchanges.c.control_number == control_number)
        & interchanges.c.blocks_resend
    )
    if exclude_receipt_id is not None:
        query = query.where(interchanges.c.receipt_id != exclude_receipt_id)
    return conn.execute(query.limit(1)).first() is not None


def record_interchange(
    conn: Connection,
    *,
    receipt_id: int,
    partner_id: str | None,
    sender_qualifier: str,
    sender_id: str,
    receiver_qualifier: str,
    receiver_id: str,
    control_number: str,
    is_test: bool,
    outcome: ReceiptOutcome | str,
    now: dt.datetime,
) -> None:
    """Add an interchange to the ledger (a replay of the same receipt records nothing new)."""
    already = conn.execute(
        select(interchanges.c.id).where(
            (interchanges.c.receipt_id == receipt_id)
            & (interchanges.c.sender_qualifier == sender_qualifier)
            & (interchanges.c.sender_id == sender_id.strip())
            & (interchanges.c.control_number == control_number)
        )
    ).first()
    if already is not None:
        return
    conn.execute(
        interchanges.insert().values(
            receipt_id=receipt_id,
            partner_id=partner_id,
            sender_qualifier=sender_qualifier,
            sender_id=sender_id.strip(),
            receiver_qualifier=receiver_qualifier,
            receiver_id=receiver_id.strip(),
            control_number=control_number,
            is_test=is_test,
            outcome=ReceiptOutcome(outcome),
            blocks_resend=outcome in BLOCKING_OUTCOMES,
            received_at=now,
        )
    )


def next_control_number(conn: Connection, partner_id: str, kind: str) -> int:
    """The next of our control numbers for this partner and kind, inside the caller's transaction.

    The row stays locked until the transaction ends, so numbers are gap-free: a rolled back run
    gives its number back, a committed one never hands it out again.
    """
    key = (control_numbers.c.partner_id == partner_id) & (control_numbers.c.kind == kind)
    for _ in range(2):
        result = conn.execute(update(control_numbers).where(key).values(last_value=control_numbers.c.last_value + 1))
        if result.rowcount == 1:
            value = conn.execute(select(control_numbers.c.last_value).where(key)).scalar_one()
            if value > MAX_CONTROL_NUMBER:
                raise FatalError(f"control numbers for {partner_id}/{kind} are exhausted")
            return value
        try:
            with conn.begin_nested():
                conn.execute(control_numbers.insert().values(partner_id=partner_id, kind=kind, last_value=1))
            return 1
        except IntegrityError:
            continue  # another transaction created the row first: increment it
    raise FatalError(f"could not allocate a control number for {partner_id}/{kind}")
