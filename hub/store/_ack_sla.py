"""The partner's 997/999 for every X12 document we send (855, 810, 856, 846): recorded, and awaited within an SLA.

Each outbound kind has its own table (``po_acknowledgments``, ``invoices_810``, ``asn_notices``,
``inventory_846s``) with the same ack columns: ``partner_id``, ``reference`` (ours), ``outbound_id``,
``group_control`` (our GS06, what the partner's AK102 names), ``ack_due_hours`` (the partner's
``ack_sla_hours`` when it was queued), ``fa_status`` and ``fa_received_at``. One code path serves
them all: a document written and not answered within its SLA opens ``ack_overdue``; the 997 closes
it, and a rejection opens ``outbound_rejected``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, null, select, update

from hub.store._exceptions import OPEN, RESOLVED, ExceptionKind, close_exception, open_exception
from hub.store._outbound import SENT
from hub.store._tables import (
    asn_notices,
    exceptions,
    inventory_846s,
    invoices_810,
    outbound_documents,
    po_acknowledgments,
)

TRACKED: dict[str, tuple[str, Table]] = {
    "855": ("PR", po_acknowledgments),
    "810": ("IN", invoices_810),
    "856": ("SH", asn_notices),
    "846": ("IB", inventory_846s),
}
"""Outbound kind -> the GS01 of its group (what a partner's AK101 names) and the table that records it."""
_BY_GROUP = {group: table for group, table in TRACKED.values()}


@dataclass(frozen=True)
class AwaitedAck:
    """A document written to the partner and not answered by a 997/999 yet."""

    kind: str
    partner_id: str
    reference: str
    order_id: int | None
    group_control: str
    ack_due_hours: int
    sent_at: dt.datetime | None


def awaited_acks(conn: Connection, kind: str, *, limit: int = 10_000) -> list[AwaitedAck]:
    """``kind`` documents written to the partner (not only queued) and not answered yet, oldest first."""
    table = TRACKED[kind][1]
    order_id = table.c.order_id if "order_id" in table.c else null()
    rows = conn.execute(
        select(table.c.partner_id, table.c.reference, order_id.label("order_id"), table.c.group_control,
               table.c.ack_due_hours, outbound_documents.c.sent_at)
        .join(outbound_documents, outbound_documents.c.id == table.c.outbound_id)
        .where(table.c.fa_received_at.is_(None) & (outbound_documents.c.state == SENT))
        .order_by(table.c.id).limit(limit))
    return [AwaitedAck(kind, **row._mapping) for row in rows]


def open_overdue_outbound_acks(conn: Connection, kinds: Iterable[str], *, now: dt.datetime) -> list[str]:
    """An ``ack_overdue`` for each document of ``kinds`` unanswered past its SLA (idempotent); their references."""
    overdue = []
    for kind in kinds:
        for doc in awaited_acks(conn, kind):
            if doc.sent_at is None or doc.sent_at + dt.timedelta(hours=doc.ack_due_hours) > now:
                continue
            open_exception(
                conn, channel="sftp", kind=ExceptionKind.ACK_OVERDUE, partner_id=doc.partner_id,
                order_id=doc.order_id, document_ref=doc.reference, now=now,
                reason=f"no 997/999 from {doc.partner_id} for our {doc.reference} (GS06 {doc.group_control}) "
                       f"written {doc.sent_at:%Y-%m-%d %H:%M} UTC: its ack SLA is {doc.ack_due_hours} h")
            overdue.append(doc.reference)
    return overdue


def apply_outbound_functional_ack(
    conn: Connection, *, partner_id: str, functional_ack: tuple[str, str, str], document_ref: str,
    raw_sha256: str | None, now: dt.datetime,
) -> Any | None:
    """A partner's 997/999 (AK101, AK102, status) answering one of our documents: its row; None if it answers none.

    The first answer is kept; the document's ``ack_overdue`` closes; a rejection (R, or P for part of the
    group) opens ``outbound_rejected`` for a person (once: the exception queue is idempotent).
    """
    functional_id, group_control, status = functional_ack
    table = _BY_GROUP.get(functional_id)
    if table is None or not group_control:
        return None
    key = (table.c.partner_id == partner_id) & (table.c.group_control == group_control)
    conn.execute(update(table).where(key & table.c.fa_received_at.is_(None))
                 .values(fa_status=(status or "A")[:1], fa_received_at=now))
    row = conn.execute(select(table).where(key)).first()
    if row is None:
        return None
    order_id = getattr(row, "order_id", None)
    # A row recorded before its 997 was tracked (backfilled) has no status of its own: this answer's counts.
    verdict = row.fa_status or (status or "A")[:1]
    if verdict in ("R", "P"):
        open_exception(conn, channel="sftp", kind=ExceptionKind.OUTBOUND_REJECTED, partner_id=partner_id,
                       order_id=order_id, document_ref=row.reference, raw_sha256=raw_sha256, now=now,
                       reason=f"{partner_id}'s functional ack ({document_ref}) rejected our {row.reference} "
                              f"(GS06 {group_control}), status {verdict}: its AK3/AK4 say why")
    overdue = conn.execute(select(exceptions.c.id).where(
        (exceptions.c.state == OPEN) & (exceptions.c.kind == ExceptionKind.ACK_OVERDUE)
        & (exceptions.c.partner_id == partner_id) & (exceptions.c.document_ref == row.reference))).scalars().all()
    for exception_id in overdue:
        close_exception(conn, exception_id, state=RESOLVED, now=now,
                        note=f"the partner's functional ack arrived ({document_ref})")
    return row
