"""Documents we owe partners (997, TA1, ...): queued with the intake that caused them, sent later."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, select, update

from hub.store._tables import inserted_id, outbound_documents


class OutboundState(StrEnum):
    """Where a document we owe a partner (a 997, TA1, ...) stands (``outbound_documents.state``)."""

    PENDING = "pending"
    SENT = "sent"
    """Written to the partner's outbound folder."""
    FAILED = "failed"
    """The sender could not write it: it waits for a replay (an ``ack_not_sent`` exception says why)."""


PENDING, SENT, FAILED = OutboundState.PENDING, OutboundState.SENT, OutboundState.FAILED


@dataclass(frozen=True)
class OutboundDocument:
    """One document to write to a partner's outbound folder."""

    id: int
    partner_id: str
    kind: str
    receipt_id: int | None
    control_number: str
    file_name: str
    content: str
    state: OutboundState


def queue_outbound(
    conn: Connection, *, partner_id: str, kind: str, receipt_id: int | None, control_number: str, file_name: str,
    content: str, now: dt.datetime
) -> int:
    """Queue a document for sending (its control number is unique per partner)."""
    return inserted_id(conn.execute(
        outbound_documents.insert().values(
            partner_id=partner_id, kind=kind, receipt_id=receipt_id, control_number=control_number,
            file_name=file_name, content=content, state=PENDING, created_at=now,
        )
    ))


def pending_outbound(conn: Connection, *, partner_id: str | None = None, limit: int = 1000) -> list[OutboundDocument]:
    """Documents not yet written to the partner, oldest first."""
    query = select(outbound_documents).where(outbound_documents.c.state == PENDING).order_by(outbound_documents.c.id)
    if partner_id is not None:
        query = query.where(outbound_documents.c.partner_id == partner_id)
    return [_doc(row) for row in conn.execute(query.limit(limit))]


def outbound_for_receipt(conn: Connection, receipt_id: int) -> list[OutboundDocument]:
    """Every document we queued in answer to a receipt."""
    rows = conn.execute(
        select(outbound_documents).where(outbound_documents.c.receipt_id == receipt_id)
        .order_by(outbound_documents.c.id)
    )
    return [_doc(row) for row in rows]


def mark_outbound_sent(conn: Connection, document_id: int, *, now: dt.datetime) -> None:
    """Record that a document reached the partner's folder."""
    conn.execute(update(outbound_documents).where(outbound_documents.c.id == document_id)
                 .values(state=SENT, sent_at=now))


def mark_outbound_failed(conn: Connection, document_id: int) -> None:
    """Take a document the sender cannot write out of the queue (it waits for a replay, not for the next run)."""
    conn.execute(update(outbound_documents).where(
        (outbound_documents.c.id == document_id) & (outbound_documents.c.state == PENDING)).values(state=FAILED))


def get_outbound(conn: Connection, document_id: int) -> OutboundDocument | None:
    """One outbound document, or None."""
    row = conn.execute(select(outbound_documents).where(outbound_documents.c.id == document_id)).first()
    return _doc(row) if row is not None else None


def requeue_outbound(conn: Connection, document_id: int, *, content: str) -> bool:
    """Queue a failed document again with corrected content; False if it was not failed."""
    result = conn.execute(update(outbound_documents).where(
        (outbound_documents.c.id == document_id) & (outbound_documents.c.state == FAILED)
    ).values(state=PENDING, content=content))
    return result.rowcount == 1


def _doc(row) -> OutboundDocument:
    fields = {k: row._mapping[k] for k in OutboundDocument.__dataclass_fields__}
    return OutboundDocument(**{**fields, "state": OutboundState(fields["state"])})
