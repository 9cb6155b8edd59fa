"""855s we send (``po_acknowledgments``): which PO versions are acknowledged, and the partner's 997 for each."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Connection, and_, exists, func, select, update

from hub.store._approvals import ApprovalState
from hub.store._exceptions import OPEN, RESOLVED, ExceptionKind, close_exception, open_exception
from hub.store._order_states import OrderStatus
from hub.store._outbound import SENT
from hub.store._outbox import DEAD, DONE
from hub.store._tables import approvals, exceptions, inserted_id, orders, outbound_documents, outbox, po_acknowledgments


class ErpVerdict(StrEnum):
    """What the hub knows about an order once its targets are done with it (all it can tell an 855 today)."""

    ACCEPTED = "accepted"
    """Delivered to every target: accepted as ordered."""
    REFUSED = "refused"
    """A target refused it (an open ``<target>_rejected`` exception), or a person rejected it on approval."""


@dataclass(frozen=True)
class OrderToAcknowledge:
    """An order revision that has no 855 yet, and the verdict the 855 carries."""

    order_id: int
    revision: int
    verdict: ErpVerdict
    our_reference: str | None
    """The first target's reference for it (the ERP sale order name), when accepted."""


@dataclass(frozen=True)
class PoAck:
    """One 855 we queued: its outbound document, numbers, SLA and the partner's functional ack."""

    id: int
    order_id: int
    revision: int
    partner_id: str
    reference: str
    outbound_id: int
    ack_type: str
    group_control: str
    set_control: str
    ack_due_hours: int
    created_at: dt.datetime
    fa_status: str | None
    fa_received_at: dt.datetime | None


def orders_to_acknowledge(
    conn: Connection, *, partner_id: str, targets: Sequence[str], limit: int = 500
) -> list[OrderToAcknowledge]:
    """Open orders of ``partner_id`` whose revision has no 855 and whose targets, or a person, are done with them.

    Accepted: every target's delivery is done. Refused: some target's delivery is dead with its
    ``<target>_rejected`` exception open, or a person rejected the order held for approval (it was
    never pushed). Anything else (pending, failed, unreachable, awaiting approval) waits.
    """
    if not targets:
        return []
    o = orders.c
    already = exists().where((po_acknowledgments.c.order_id == o.id) & (po_acknowledgments.c.revision == o.revision))
    # Only orders the targets are done with are listed, so orders that wait (or never will be acknowledged:
    # unreachable, skipped) cannot fill the page and starve newer ones.
    mine = (outbox.c.order_id == o.id) & outbox.c.target.in_(list(targets))
    all_done = select(func.count()).where(mine & (outbox.c.state == DONE)).scalar_subquery() == len(targets)
    any_refused = exists().where(mine & (outbox.c.state == DEAD) & exists().where(
        (exceptions.c.order_id == o.id) & (exceptions.c.state == OPEN)
        & (exceptions.c.kind == outbox.c.target.concat("_rejected"))))
    rejected = exists().where((approvals.c.order_id == o.id) & (approvals.c.state == ApprovalState.REJECTED))
    rows = conn.execute(
        select(o.id, o.revision, rejected.label("rejected")).where(
            (o.partner_id == partner_id) & (o.source == "x12") & (o.status == OrderStatus.OPEN)
            & ~o.is_test & ~already & ((o.not_pushed_reason.is_(None) & (all_done | any_refused)) | rejected)
        ).order_by(o.id).limit(limit)
    ).all()
    found: list[OrderToAcknowledge] = []
    for row in rows:
        if row.rejected:
            found.append(OrderToAcknowledge(row.id, row.revision, ErpVerdict.REFUSED, None))
            continue
        deliveries = {d.target: d for d in conn.execute(
            select(outbox.c.target, outbox.c.state, outbox.c.external_ref).where(outbox.c.order_id == row.id))}
        if not targets or any(t not in deliveries for t in targets):
            continue
        if all(deliveries[t].state == DONE for t in targets):
            reference = deliveries[targets[0]].external_ref
            found.append(OrderToAcknowledge(row.id, row.revision, ErpVerdict.ACCEPTED, reference))
            continue
        refused = [t for t in targets if deliveries[t].state == DEAD and conn.execute(
            select(exceptions.c.id).where(and_(exceptions.c.order_id == row.id, exceptions.c.state == OPEN,
                                               exceptions.c.kind == f"{t}_rejected")).limit(1)).first() is not None]
        if refused:
            found.append(OrderToAcknowledge(row.id, row.revision, ErpVerdict.REFUSED, None))
    return found


def record_po_ack(
    conn: Connection, *, order_id: int, revision: int, partner_id: str, reference: str, outbound_id: int,
    ack_type: str, group_control: str, set_control: str, ack_due_hours: int, now: dt.datetime,
) -> int:
    """Record the 855 queued for an order revision (unique per revision: a second one fails the transaction)."""
    return inserted_id(conn.execute(po_acknowledgments.insert().values(
        order_id=order_id, revision=revision, partner_id=partner_id, reference=reference, outbound_id=outbound_id,
        ack_type=ack_type, group_control=group_control, set_control=set_control, ack_due_hours=ack_due_hours,
        created_at=now,
    )))


def po_acks_of(conn: Connection, *, partner_id: str | None = None, order_id: int | None = None) -> list[PoAck]:
    """The 855s queued, oldest first."""
    query = select(po_acknowledgments).order_by(po_acknowledgments.c.id)
    if partner_id is not None:
        query = query.where(po_acknowledgments.c.partner_id == partner_id)
    if order_id is not None:
        query = query.where(po_acknowledgments.c.order_id == order_id)
    return [PoAck(**row._mapping) for row in conn.execute(query)]


def record_functional_ack(
    conn: Connection, *, partner_id: str, group_control: str, status: str, now: dt.datetime
) -> PoAck | None:
    """The partner's 997/999 for our group ``group_control`` arrived; the 855 it answers, or None if none matches."""
    key = (po_acknowledgments.c.partner_id == partner_id) & (po_acknowledgments.c.group_control == group_control)
    conn.execute(update(po_acknowledgments).where(key & po_acknowledgments.c.fa_received_at.is_(None))
                 .values(fa_status=status[:1], fa_received_at=now))
    row = conn.execute(select(po_acknowledgments).where(key)).first()
    return PoAck(**row._mapping) if row is not None else None


def unanswered_po_acks(conn: Connection, *, limit: int = 10_000) -> list[tuple[PoAck, dt.datetime]]:
    """855s written to the partner and not yet answered by a 997/999, with the time each was written."""
    rows = conn.execute(
        select(po_acknowledgments, outbound_documents.c.sent_at)
        .join(outbound_documents, outbound_documents.c.id == po_acknowledgments.c.outbound_id)
        .where(po_acknowledgments.c.fa_received_at.is_(None) & (outbound_documents.c.state == SENT))
        .order_by(po_acknowledgments.c.id).limit(limit)
    )
    acks = []
    for row in rows:
        fields = {k: row._mapping[k] for k in PoAck.__dataclass_fields__}
        acks.append((PoAck(**fields), row.sent_at))
    return acks


@dataclass(frozen=True)
class OpenException:
    """An open exception as the 855 follow-up reads it."""

    id: int
    partner_id: str | None
    raw_sha256: str | None
    order_id: int | None
    document_ref: str | None
    reason: str


def open_exceptions_of_kind(
    conn: Connection, kind: str, *, partner_ids: Sequence[str], document_ref: str | None = None, limit: int = 1000
) -> list[OpenException]:
    """Open exceptions of ``kind`` for these partners (optionally about one document), oldest first."""
    c = exceptions.c
    query = select(c.id, c.partner_id, c.raw_sha256, c.order_id, c.document_ref, c.reason).where(
        (c.state == OPEN) & (c.kind == kind) & c.partner_id.in_(list(partner_ids)))
    if document_ref is not None:
        query = query.where(c.document_ref == document_ref)
    return [OpenException(**row._mapping) for row in conn.execute(query.order_by(c.id).limit(limit))]


def apply_functional_ack(
    conn: Connection, *, partner_id: str, functional_ack: tuple[str, str, str], document_ref: str,
    raw_sha256: str | None, now: dt.datetime,
) -> PoAck | None:
    """A partner's 997/999 (AK101, AK102, status) that answers one of our 855s: recorded; None if it answers none.

    Its ``ack_overdue`` closes; a rejection (R, or P for part of the group) opens ``outbound_rejected``.
    """
    functional_id, group_control, status = functional_ack
    if functional_id != "PR" or not group_control:
        return None
    po_ack = record_functional_ack(conn, partner_id=partner_id, group_control=group_control, status=status or "A",
                                   now=now)
    if po_ack is None:
        return None
    if (po_ack.fa_status or "A") in ("R", "P"):  # they refused our 855: a person must look
        open_exception(conn, channel="sftp", kind=ExceptionKind.OUTBOUND_REJECTED, partner_id=partner_id,
                       order_id=po_ack.order_id, document_ref=po_ack.reference, raw_sha256=raw_sha256, now=now,
                       reason=f"{partner_id}'s functional ack ({document_ref}) rejected our 855 (GS06 "
                              f"{po_ack.group_control}), status {po_ack.fa_status}: its AK3/AK4 say why")
    for overdue in open_exceptions_of_kind(conn, ExceptionKind.ACK_OVERDUE, partner_ids=[partner_id],
                                           document_ref=po_ack.reference):
        close_exception(conn, overdue.id, state=RESOLVED, now=now,
                        note=f"the partner's functional ack arrived ({document_ref})")
    return po_ack
