"""810s we send (``invoices_810``): which posted invoices have theirs (their 997s: ``hub.store._ack_sla``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, exists, select

from hub.store._invoices import InvoiceState, StoredInvoice, _invoice
from hub.store._tables import inserted_id, invoices, invoices_810


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
