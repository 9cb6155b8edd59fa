"""Invoices the hub sends to accounting targets, held ones included, and the audit trail of each change.

A row is written *before* its document goes to the target (state ``sending``), so a run that dies or a
reply that is lost leaves a row whose reference the next run looks up in the target first. A held invoice
is only here until a person releases it (``release_invoice``) or a re-match finds it within tolerance.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, func, select, update

from hub.store._exceptions import OPEN
from hub.store._outbox import DONE
from hub.store._tables import exceptions, inserted_id, invoice_events, invoices, outbox


class InvoiceState(StrEnum):
    """Where an invoice stands (``invoices.state``)."""

    HELD = "held"
    """The match found an exception: stored here, not sent, until released."""
    RELEASED = "released"
    """Released (by a person with a note, or by a clean re-match): sent on the next pass."""
    SENDING = "sending"
    """Being created or posted in the target: the next pass looks its reference up before anything else."""
    POSTED = "posted"
    """Posted in the target."""


@dataclass(frozen=True)
class StoredInvoice:
    """One row of ``invoices``; ``lines`` as stored (quantities and prices as text), ``findings`` the exceptions."""

    id: int
    target: str
    partner_id: str
    po_number: str
    order_id: int | None
    reference: str
    kind: str
    state: InvoiceState
    lines: list[dict[str, Any]]
    amount: Decimal
    refund_of: str | None
    findings: list[dict[str, Any]]
    record: str | None
    record_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class InvoiceEvent:
    """One audited change: who, when, what and why."""

    at: dt.datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str
    note: str


def add_invoice(conn: Connection, *, target: str, partner_id: str, po_number: str, order_id: int | None,
                reference: str, kind: str, state: InvoiceState, lines: list[dict[str, Any]], amount: Decimal,
                refund_of: str | None, findings: list[dict[str, Any]], actor: str, note: str,
                now: dt.datetime) -> int:
    """Store a new invoice in ``state`` with its first audit event; its id."""
    invoice_id = int(inserted_id(conn.execute(invoices.insert().values(
        target=target, partner_id=partner_id, po_number=po_number, order_id=order_id, reference=reference,
        kind=kind, state=state, lines=lines, amount=amount, refund_of=refund_of, findings=findings,
        created_at=now, updated_at=now))))
    _audit(conn, invoice_id, actor=actor, action="created", from_state=None, to_state=state, note=note, now=now)
    return invoice_id


def change_invoice(conn: Connection, invoice_id: int, *, state: InvoiceState, actor: str, action: str, note: str,
                   now: dt.datetime, expect: InvoiceState | None = None, **values: Any) -> bool:
    """Move an invoice to ``state`` (only from ``expect`` if given) with other ``values``, audited; False if it
    was not in ``expect`` (someone else changed it first)."""
    before = get_invoice(conn, invoice_id)
    if before is None or (expect is not None and before.state != expect):
        return False
    query = update(invoices).where(invoices.c.id == invoice_id)
    if expect is not None:
        query = query.where(invoices.c.state == expect)  # compare-and-set: two releases, one wins
    if conn.execute(query.values(state=state, updated_at=now, **values)).rowcount != 1:
        return False
    _audit(conn, invoice_id, actor=actor, action=action, from_state=before.state, to_state=state, note=note, now=now)
    return True


def release_invoice(conn: Connection, invoice_id: int, *, actor: str, note: str, now: dt.datetime) -> bool:
    """Release a held invoice (a person's decision, ``note`` says why); False if it is not held."""
    if not note.strip() or not actor.strip():
        raise ValueError("a release needs who released it and why")
    return change_invoice(conn, invoice_id, state=InvoiceState.RELEASED, actor=actor, action="released",
                          note=note.strip(), now=now, expect=InvoiceState.HELD)


def get_invoice(conn: Connection, invoice_id: int) -> StoredInvoice | None:
    """One invoice, or None."""
    row = conn.execute(select(invoices).where(invoices.c.id == invoice_id)).mappings().first()
    return None if row is None else _invoice(row)


def invoices_of_order(conn: Connection, *, target: str, partner_id: str, po_number: str) -> list[StoredInvoice]:
    """The order's invoices and credit notes in ``target``, oldest first."""
    rows = conn.execute(select(invoices).where(
        (invoices.c.target == target) & (invoices.c.partner_id == partner_id) & (invoices.c.po_number == po_number)
    ).order_by(invoices.c.id)).mappings().all()
    return [_invoice(row) for row in rows]


def list_invoices(conn: Connection, *, state: InvoiceState | None = None, limit: int = 1000) -> list[StoredInvoice]:
    """Invoices in ``state`` (all if None), oldest first."""
    query = select(invoices).order_by(invoices.c.id).limit(limit)
    if state is not None:
        query = query.where(invoices.c.state == state)
    return [_invoice(row) for row in conn.execute(query).mappings().all()]


def held_by_category(conn: Connection) -> dict[str, int]:
    """How many held invoices name each exception category (one invoice may name several)."""
    counts: dict[str, int] = {}
    for invoice in list_invoices(conn, state=InvoiceState.HELD, limit=100_000):
        for category in sorted({finding.get("category", "") for finding in invoice.findings}):
            counts[category] = counts.get(category, 0) + 1
    return counts


def invoice_events_of(conn: Connection, invoice_id: int) -> list[InvoiceEvent]:
    """The audit trail of one invoice, oldest first."""
    rows = conn.execute(select(invoice_events).where(invoice_events.c.invoice_id == invoice_id)
                        .order_by(invoice_events.c.id)).mappings().all()
    return [InvoiceEvent(row["at"], row["actor"], row["action"], row["from_state"], row["to_state"], row["note"])
            for row in rows]


def count_invoices(conn: Connection, *, target: str, partner_id: str, po_number: str, kind: str) -> int:
    """How many documents of ``kind`` the order has in ``target`` (numbers the next reference)."""
    return int(conn.execute(select(func.count()).select_from(invoices).where(
        (invoices.c.target == target) & (invoices.c.partner_id == partner_id) & (invoices.c.po_number == po_number)
        & (invoices.c.kind == kind))).scalar_one())


def _audit(conn: Connection, invoice_id: int, *, actor: str, action: str, from_state: str | None, to_state: str,
           note: str, now: dt.datetime) -> None:
    conn.execute(invoice_events.insert().values(invoice_id=invoice_id, at=now, actor=actor[:120], action=action,
                                                from_state=from_state, to_state=to_state, note=note))


def _invoice(row: Any) -> StoredInvoice:
    return StoredInvoice(
        id=row["id"], target=row["target"], partner_id=row["partner_id"], po_number=row["po_number"],
        order_id=row["order_id"], reference=row["reference"], kind=row["kind"], state=InvoiceState(row["state"]),
        lines=list(row["lines"] or []), amount=row["amount"], refund_of=row["refund_of"],
        findings=list(row["findings"] or []), record=row["record"], record_id=row["record_id"],
        created_at=row["created_at"], updated_at=row["updated_at"])


def delivered_order_ids(conn: Connection, target: str) -> list[int]:
    """Orders delivered to ``target`` (their outbox delivery done): the ones to invoice there, oldest first."""
    return [int(i) for i in conn.execute(select(outbox.c.order_id).where(
        (outbox.c.target == target) & (outbox.c.state == DONE)).order_by(outbox.c.order_id)).scalars()]


def open_invoice_exception(conn: Connection, *, kind: str, reference: str) -> int | None:
    """The open exception ``kind`` queued for the document ``reference`` (its ``document_ref``), if any."""
    return conn.execute(select(exceptions.c.id).where(
        (exceptions.c.state == OPEN) & (exceptions.c.kind == kind) & (exceptions.c.document_ref == reference)
    )).scalar()
