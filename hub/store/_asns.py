"""856s we send (``asn_notices``): which ERP deliveries have their ship notice, and which orders still wait for one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, exists, select, update

from hub.store._exceptions import ExceptionKind, open_exception
from hub.store._order_states import OrderStatus
from hub.store._outbox import DONE
from hub.store._tables import asn_notices, control_numbers, inserted_id, orders, outbox


@dataclass(frozen=True)
class AsnNotice:
    """One 856 we queued: the delivery it tells about, its outbound document, numbers and cartons."""

    id: int
    partner_id: str
    order_id: int
    picking_id: int
    picking_name: str
    reference: str
    outbound_id: int
    group_control: str
    set_control: str
    ssccs: list[str]
    complete: bool
    created_at: dt.datetime
    fa_status: str | None
    fa_received_at: dt.datetime | None


@dataclass(frozen=True)
class OrderToShip:
    """An order in the ERP (its sale order id there) whose deliveries may still need an 856."""

    order_id: int
    sale_order_id: int | None
    """None when the target's record id is not an Odoo id (nothing to read there)."""


def orders_awaiting_asn(conn: Connection, *, partner_id: str, target: str, after_id: int = 0,
                        limit: int = 500) -> list[OrderToShip]:
    """X12 orders of ``partner_id`` delivered to ``target`` (the ERP) that no 856 has yet shown shipped in full.

    By id, from the first after ``after_id`` (pages); never test orders (they are not in a production
    ERP) nor cancelled ones (nothing ships).
    """
    o = orders.c
    complete = exists().where((asn_notices.c.order_id == o.id) & asn_notices.c.complete)
    rows = conn.execute(
        select(o.id, outbox.c.external_id)
        .join(outbox, (outbox.c.order_id == o.id) & (outbox.c.target == target))
        .where((o.id > after_id) & (o.partner_id == partner_id) & (o.source == "x12") & ~o.is_test
               & (o.status == OrderStatus.OPEN) & (outbox.c.state == DONE)
               & outbox.c.external_id.is_not(None) & ~complete)
        .order_by(o.id).limit(limit)
    ).all()
    return [OrderToShip(int(row.id), int(row.external_id) if str(row.external_id).isdigit() else None)
            for row in rows]


def pickings_with_asn(conn: Connection, *, partner_id: str, picking_ids: Iterable[int]) -> set[int]:
    """Which of these ERP deliveries already have an 856 for ``partner_id``."""
    wanted = sorted(set(picking_ids))
    if not wanted:
        return set()
    return {int(i) for i in conn.execute(select(asn_notices.c.picking_id).where(
        (asn_notices.c.partner_id == partner_id) & asn_notices.c.picking_id.in_(wanted))).scalars()}


def record_asn(
    conn: Connection, *, partner_id: str, order_id: int, picking_id: int, picking_name: str, reference: str,
    outbound_id: int, group_control: str, set_control: str, ssccs: list[str], complete: bool, now: dt.datetime,
) -> int:
    """Record the 856 queued for one delivery (unique per partner and picking: a second one fails the transaction)."""
    return inserted_id(conn.execute(asn_notices.insert().values(
        partner_id=partner_id, order_id=order_id, picking_id=picking_id, picking_name=picking_name[:80],
        reference=reference, outbound_id=outbound_id, group_control=group_control, set_control=set_control,
        ssccs=ssccs, complete=complete, created_at=now)))


def asns_of(conn: Connection, *, partner_id: str | None = None, order_id: int | None = None) -> list[AsnNotice]:
    """The 856s queued, oldest first."""
    query = select(asn_notices).order_by(asn_notices.c.id)
    if partner_id is not None:
        query = query.where(asn_notices.c.partner_id == partner_id)
    if order_id is not None:
        query = query.where(asn_notices.c.order_id == order_id)
    return [AsnNotice(**row._mapping) for row in conn.execute(query)]


def reserve_serials(conn: Connection, series: str, count: int) -> range:
    """``count`` consecutive numbers of ``series`` (a ``control_numbers`` row, kind ``sscc``), gap-free.

    One statement for a delivery's cartons instead of one per carton; the row stays locked until the
    transaction (or savepoint) ends, and a rollback gives the numbers back, like control numbers.
    """
    key = (control_numbers.c.partner_id == series) & (control_numbers.c.kind == "sscc")
    if conn.execute(update(control_numbers).where(key).values(last_value=control_numbers.c.last_value + count)
                    ).rowcount != 1:
        conn.execute(control_numbers.insert().values(partner_id=series, kind="sscc", last_value=count))
    last = int(conn.execute(select(control_numbers.c.last_value).where(key)).scalar_one())
    return range(last - count + 1, last + 1)


def apply_asn_functional_ack(
    conn: Connection, *, partner_id: str, functional_ack: tuple[str, str, str], document_ref: str,
    raw_sha256: str | None, now: dt.datetime,
) -> AsnNotice | None:
    """A partner's 997/999 (AK101, AK102, status) that answers one of our 856s: recorded; None if it answers none.

    A rejection (R, or P for part of the group) opens ``outbound_rejected`` for a person.
    """
    functional_id, group_control, status = functional_ack
    if functional_id != "SH" or not group_control:
        return None
    key = (asn_notices.c.partner_id == partner_id) & (asn_notices.c.group_control == group_control)
    conn.execute(update(asn_notices).where(key & asn_notices.c.fa_received_at.is_(None))
                 .values(fa_status=(status or "A")[:1], fa_received_at=now))
    row = conn.execute(select(asn_notices).where(key)).first()
    if row is None:
        return None
    notice = AsnNotice(**row._mapping)
    if (notice.fa_status or "A") in ("R", "P"):
        open_exception(conn, channel="sftp", kind=ExceptionKind.OUTBOUND_REJECTED, partner_id=partner_id,
                       order_id=notice.order_id, document_ref=notice.reference, raw_sha256=raw_sha256, now=now,
                       reason=f"{partner_id}'s functional ack ({document_ref}) rejected our 856 (GS06 "
                              f"{notice.group_control}), status {notice.fa_status}: its AK3/AK4 say why")
    return notice
