"""810s we send (``invoices_810``): which posted invoices have theirs, and the partner's 997 for each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, exists, select, update

from hub.store._exceptions import OPEN, RESOLVED, ExceptionKind, close_exception, open_exception
from hub.store._invoices import InvoiceState, StoredInvoice, _invoice
from hub.store._outbound import SENT
from hub.store._tables import exceptions, inserted_id, invoices, invoices_810, outbound_documents

INVOICE_GROUP = "IN"
"""GS01 of an 810 group: what a partner's AK101 names when it acknowledges one."""


@dataclass(frozen=True)
class Invoice810Row:
    """One 810 we queued: the invoice it carries, its outbound document, numbers, SLA and the partner's 997."""

    id: int
    invoice_id: int
    partner_id: str
    reference: str
    outbound_id: int
    invoice_number: str
    group_control: str
    set_control: str
    ack_due_hours: int
    created_at: dt.datetime
    fa_status: str | None
    fa_received_at: dt.datetime | None


def invoices_without_810(conn: Connection, *, partner_ids: Sequence[str], limit: int = 500) -> list[StoredInvoice]:
    """Invoices and credit notes of these partners posted in accounting and not sent as an 810 yet, oldest first.

    Only ``posted`` ones: an invoice held by the three-way match (or released and not posted yet) waits; one
    without its order (``order_id``) has no PO to name and is left out.
    """
    if not partner_ids:
        return []
    sent = exists().where(invoices_810.c.invoice_id == invoices.c.id)
    rows = conn.execute(select(invoices).where(
        invoices.c.partner_id.in_(list(partner_ids)) & (invoices.c.state == InvoiceState.POSTED)
        & invoices.c.order_id.is_not(None) & ~sent
    ).order_by(invoices.c.id).limit(limit)).mappings().all()
    return [_invoice(row) for row in rows]


def is_first_invoice(conn: Connection, invoice: StoredInvoice) -> bool:
    """Whether ``invoice`` is the first invoice (not credit note) of its PO: the one that carries the order's SAC."""
    earlier = conn.execute(select(invoices.c.id).where(
        (invoices.c.partner_id == invoice.partner_id) & (invoices.c.po_number == invoice.po_number)
        & (invoices.c.kind == invoice.kind) & (invoices.c.id < invoice.id)).limit(1)).first()
    return earlier is None


def record_invoice_810(
    conn: Connection, *, invoice_id: int, partner_id: str, reference: str, outbound_id: int, invoice_number: str,
    group_control: str, set_control: str, ack_due_hours: int, now: dt.datetime,
) -> int:
    """Record the 810 queued for an invoice (unique per invoice: a second one fails the transaction)."""
    return int(inserted_id(conn.execute(invoices_810.insert().values(
        invoice_id=invoice_id, partner_id=partner_id, reference=reference, outbound_id=outbound_id,
        invoice_number=invoice_number, group_control=group_control, set_control=set_control,
        ack_due_hours=ack_due_hours, created_at=now))))


def invoice_810s_of(conn: Connection, *, partner_id: str | None = None) -> list[Invoice810Row]:
    """The 810s queued, oldest first."""
    query = select(invoices_810).order_by(invoices_810.c.id)
    if partner_id is not None:
        query = query.where(invoices_810.c.partner_id == partner_id)
    return [Invoice810Row(**row._mapping) for row in conn.execute(query)]


def unanswered_invoice_810s(conn: Connection, *, limit: int = 10_000) -> list[tuple[Invoice810Row, dt.datetime]]:
    """810s written to the partner and not yet answered by a 997/999, with the time each was written."""
    rows = conn.execute(
        select(invoices_810, outbound_documents.c.sent_at)
        .join(outbound_documents, outbound_documents.c.id == invoices_810.c.outbound_id)
        .where(invoices_810.c.fa_received_at.is_(None) & (outbound_documents.c.state == SENT))
        .order_by(invoices_810.c.id).limit(limit))
    return [(Invoice810Row(**{k: row._mapping[k] for k in Invoice810Row.__dataclass_fields__}), row.sent_at)
            for row in rows]


def apply_invoice_functional_ack(
    conn: Connection, *, partner_id: str, functional_ack: tuple[str, str, str], document_ref: str,
    raw_sha256: str | None, now: dt.datetime,
) -> Invoice810Row | None:
    """A partner's 997/999 (AK101, AK102, status) that answers one of our 810s: recorded; None if it answers none.

    Its ``ack_overdue`` closes; a rejection (R, or P for part of the group) opens ``outbound_rejected``.
    """
    functional_id, group_control, status = functional_ack
    if functional_id != INVOICE_GROUP or not group_control:
        return None
    key = (invoices_810.c.partner_id == partner_id) & (invoices_810.c.group_control == group_control)
    conn.execute(update(invoices_810).where(key & invoices_810.c.fa_received_at.is_(None))
                 .values(fa_status=(status or "A")[:1], fa_received_at=now))
    row = conn.execute(select(invoices_810).where(key)).first()
    if row is None:
        return None
    sent = Invoice810Row(**row._mapping)
    if (sent.fa_status or "A") in ("R", "P"):  # they refused our 810: a person must look (opened once)
        open_exception(conn, channel="sftp", kind=ExceptionKind.OUTBOUND_REJECTED, partner_id=partner_id,
                       document_ref=sent.reference, raw_sha256=raw_sha256, now=now,
                       reason=f"{partner_id}'s functional ack ({document_ref}) rejected our 810 for invoice "
                              f"{sent.invoice_number} (GS06 {sent.group_control}), status {sent.fa_status}: "
                              "its AK3/AK4 say why")
    overdue = conn.execute(select(exceptions.c.id).where(
        (exceptions.c.state == OPEN) & (exceptions.c.kind == ExceptionKind.ACK_OVERDUE)
        & (exceptions.c.document_ref == sent.reference))).scalars().all()
    for exception_id in overdue:
        close_exception(conn, exception_id, state=RESOLVED, now=now,
                        note=f"the partner's functional ack arrived ({document_ref})")
    return sent
