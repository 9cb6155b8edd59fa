"""The exception queue: what could not be processed, why, where, and whether it was replayed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, select, update

from hub.store._tables import exceptions, inserted_id


class ExceptionState(StrEnum):
    """Where an exception stands (``exceptions.state``)."""

    OPEN = "open"
    REPLAYED = "replayed"
    """A replay after a fix cleared it."""
    RESOLVED = "resolved"
    """Handled by hand (``resolution`` says how) or superseded."""


OPEN, REPLAYED, RESOLVED = ExceptionState.OPEN, ExceptionState.REPLAYED, ExceptionState.RESOLVED


class ExceptionKind(StrEnum):
    """What went wrong (``exceptions.kind``); a replay decides by it what to do again.

    The catalogue of the kinds the hub opens. It is not checked when an exception is stored: a target
    ``<name>`` opens ``<name>_rejected``, ``<name>_unreachable``, ``<name>_cancel_refused`` and
    ``<name>_update_needs_review``, of which the ``ERP_`` members are the built-in target ``erp``'s.
    """

    # Partner SFTP folders
    REJECTED_FILE = "rejected_file"
    """A file the intake refused before archiving it (over the size limit, ...); it stays in the inbox."""
    QUARANTINED_FILE = "quarantined_file"
    """An inbox entry the intake will not read (a symbolic link, not a regular file, a name it refuses, an upload
    never finished); closed by itself once the entry is renamed or removed."""
    QUARANTINED_FOLDER = "quarantined_folder"
    """A partner folder the intake will not use (an inbox that is a symbolic link, an archive processed files
    cannot be moved to); closed by itself once the folder is fixed."""
    # Any received document
    INTAKE_NOT_FINISHED = "intake_not_finished"
    """A receipt whose runs all ended without processing it."""
    REJECTED_DOCUMENT = "rejected_document"
    """An order document (X12 transaction set, API body) the mapping rejected as a whole, or a receipt whose
    processing failed for a reason nobody foresaw (its outcome ``failed``)."""
    DUPLICATE_ORDER = "duplicate_order"
    """An original for a PO already stored from another document."""
    UNKNOWN_ORDER = "unknown_order"
    """A change or cancellation of a PO never received."""
    # X12 files
    NOT_X12 = "not_x12"
    """A file that is not an X12 interchange at all."""
    UNREADABLE_DATA = "unreadable_data"
    """The file breaks off in bytes that are not X12; what came before was processed."""
    FILE_NOT_ACCEPTED = "file_not_accepted"
    """A file whose outcome is not clean though nothing else names why (e.g. a file half made of a resend)."""
    REJECTED_INTERCHANGE = "rejected_interchange"
    """An interchange whose envelope was refused (a TA1): one exception for it, not one per transaction set."""
    UNSUPPORTED_TRANSACTION_SET = "unsupported_transaction_set"
    """A transaction set we do not take yet (an 860, ...): acknowledged, not processed."""
    # API channels
    REJECTED_ORDER = "rejected_order"
    """One order of an archived page or body that could not be mapped (a replay maps the body again)."""
    UNREADABLE_PAGE = "unreadable_page"
    """An answer that is not an orders page at all; the cursor held."""
    # Documents we owe partners and deliveries to the ERP
    ACK_NOT_SENT = "ack_not_sent"
    """An ack (997, TA1) that could not be written to the partner's folder; a replay queues it again."""
    OUTBOUND_INVALID = "outbound_invalid"
    """An 855 or 810 we built fails validation against our maps: nothing queued, no control number used; the next
    acknowledgment run builds it again and closes this once it passes."""
    ACK_OVERDUE = "ack_overdue"
    """A document we sent (an 855 or 810) has no 997/999 from the partner within its ack SLA; closed when one
    arrives."""
    OUTBOUND_REJECTED = "outbound_rejected"
    """The partner's 997/999 rejected (R, or P for part of the group) a document we sent (an 855 or 810):
    its AK3/AK4 say what they refused; the archived 997 is the exception's raw document."""
    ERP_REJECTED = "erp_rejected"
    """The ERP refused the order, or the stored order no longer passes the canonical model's rules."""
    ERP_UNREACHABLE = "erp_unreachable"
    """The delivery gave up after its attempts (the ERP not answering or answering with errors)."""
    ERP_CANCEL_REFUSED = "erp_cancel_refused"
    """The order was cancelled but the ERP refused, or its sale order has delivered or invoiced quantities."""
    ERP_UPDATE_NEEDS_REVIEW = "erp_update_needs_review"
    """The order changed but its sale order is confirmed, locked or cancelled in the ERP: left untouched."""
    # Fulfilments sent back to the channels (hub/targets/channel_fulfilment: target ``<source>_fulfilment``)
    SHOPIFY_FULFILMENT_REJECTED = "shopify_fulfilment_rejected"
    """The Shopify store refused a shipped order's fulfilment (``userErrors``, or refused to plan it); a replay
    releases the refused parts and the next fulfilment run plans them again; closed when it succeeds."""
    AMAZON_FULFILMENT_REJECTED = "amazon_fulfilment_rejected"
    """The marketplace refused a shipped order's shipment confirmation (HTTP 400); replayed as for Shopify."""


@dataclass(frozen=True)
class QueuedException:
    """One entry of the exception queue."""

    id: int
    channel: str
    partner_id: str | None
    receipt_id: int | None
    raw_sha256: str | None
    order_id: int | None
    document_ref: str | None
    kind: str
    reason: str
    location: str | None
    state: ExceptionState
    replays: int
    created_at: dt.datetime
    updated_at: dt.datetime
    resolution: str | None = None
    """How it was handled, when resolved by hand (or what superseded it)."""


def open_exception(
    conn: Connection,
    *,
    channel: str,
    kind: str,
    reason: str,
    now: dt.datetime,
    partner_id: str | None = None,
    receipt_id: int | None = None,
    raw_sha256: str | None = None,
    order_id: int | None = None,
    document_ref: str | None = None,
    location: str | None = None,
) -> int:
    """Queue an exception, or return the open one already queued for the same thing (idempotent)."""
    same = (
        (exceptions.c.state == OPEN)
        & (exceptions.c.kind == kind)
        & _eq(exceptions.c.receipt_id, receipt_id)
        & _eq(exceptions.c.order_id, order_id)
        & _eq(exceptions.c.document_ref, document_ref)
    )
    existing = conn.execute(select(exceptions.c.id).where(same)).first()
    if existing is not None:
        conn.execute(update(exceptions).where(exceptions.c.id == existing.id)
                     .values(reason=reason, location=location, updated_at=now))
        return existing.id
    return inserted_id(conn.execute(
        exceptions.insert().values(
            channel=channel,
            partner_id=partner_id,
            receipt_id=receipt_id,
            raw_sha256=raw_sha256,
            order_id=order_id,
            document_ref=document_ref,
            kind=kind,
            reason=reason,
            location=location,
            state=OPEN,
            replays=0,
            created_at=now,
            updated_at=now,
        )
    ))


def list_exceptions(
    conn: Connection, *, state: ExceptionState | None = OPEN, limit: int = 500, receipt_id: int | None = None,
    order_id: int | None = None,
) -> list[QueuedException]:
    """Exceptions, newest first, optionally of one state, one receipt or one order."""
    query = select(exceptions).order_by(exceptions.c.id.desc()).limit(limit)
    if state is not None:
        query = query.where(exceptions.c.state == state)
    if receipt_id is not None:
        query = query.where(exceptions.c.receipt_id == receipt_id)
    if order_id is not None:
        query = query.where(exceptions.c.order_id == order_id)
    return [_queued(row) for row in conn.execute(query)]


def get_exception(conn: Connection, exception_id: int) -> QueuedException | None:
    """One exception by id."""
    row = conn.execute(select(exceptions).where(exceptions.c.id == exception_id)).first()
    return None if row is None else _queued(row)


def close_exception(
    conn: Connection, exception_id: int, *, state: ExceptionState, now: dt.datetime, note: str | None = None
) -> None:
    """Mark an exception replayed (it worked) or resolved (handled by hand; ``note`` says how)."""
    values: dict = {"state": state, "updated_at": now}
    if state == REPLAYED:
        values["replays"] = exceptions.c.replays + 1
    if note is not None:
        values["resolution"] = note
    conn.execute(update(exceptions).where(exceptions.c.id == exception_id).values(**values))


def count_replay(conn: Connection, exception_id: int, *, now: dt.datetime) -> None:
    """Count a replay that did not clear the exception."""
    conn.execute(update(exceptions).where(exceptions.c.id == exception_id)
                 .values(replays=exceptions.c.replays + 1, updated_at=now))


def _queued(row) -> QueuedException:
    return QueuedException(**{**row._mapping, "state": ExceptionState(row.state)})


def _eq(column, value):
    return column.is_(None) if value is None else column == value
