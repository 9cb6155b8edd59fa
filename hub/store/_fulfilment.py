"""The channel fulfilments' outbox: one row per part of a shipped order, written before anything is sent.

``planned`` (what to send is fixed: a retry sends the same), ``sending`` (committed right before the
call: it may have landed, so it is looked up at the channel before being sent again), ``sent`` (the
channel took it), ``rejected`` (the channel refused it; a person looks at ``error``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, and_, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.store._order_states import OrderStatus
from hub.store._shipments import ShipmentState
from hub.store._tables import carrier_shipments, channel_fulfilments, orders


class FulfilmentState(StrEnum):
    """Where one part of a channel fulfilment stands."""

    PLANNED = "planned"
    SENDING = "sending"
    SENT = "sent"
    REJECTED = "rejected"


@dataclass(frozen=True)
class FulfilmentRow:
    """One row of ``channel_fulfilments``."""

    id: int
    channel: str
    partner_id: str
    order_ref: str
    reference: str
    part: str
    shipment_id: int
    tracking_number: str
    request: dict[str, Any]
    state: FulfilmentState
    channel_record: str | None
    attempts: int
    error: str | None
    updated_at: dt.datetime


@dataclass(frozen=True)
class PlannedPart:
    """A part to plan: its key within the order, our reference and the request to send."""

    part: str
    reference: str
    request: dict[str, Any]


@dataclass(frozen=True)
class ShippedOrder:
    """An order of a channel whose label is bought with a tracking number."""

    order_id: int
    order_ref: str
    shipment_id: int
    tracking_number: str
    carrier: str | None
    service: str | None
    shipped_at: dt.datetime  # when the label's shipment was created (tracking updates move updated_at later)


def _row(row: Any) -> FulfilmentRow:
    values = dict(row._mapping)
    values.pop("created_at")
    values["state"] = FulfilmentState(values["state"])
    return FulfilmentRow(**values)


def _now(clock: dt.datetime | None) -> dt.datetime:
    return clock or dt.datetime.now(dt.UTC)


def fulfilments_of(conn: Connection, channel: str, partner_id: str, order_ref: str) -> list[FulfilmentRow]:
    """The rows of one order, in the order they were planned."""
    rows = conn.execute(select(channel_fulfilments).where(
        channel_fulfilments.c.channel == channel, channel_fulfilments.c.partner_id == partner_id,
        channel_fulfilments.c.order_ref == order_ref).order_by(channel_fulfilments.c.id))
    return [_row(row) for row in rows]


def plan_fulfilments(conn: Connection, *, channel: str, partner_id: str, order_ref: str, shipment_id: int,
                     tracking_number: str, parts: Sequence[PlannedPart],
                     clock: dt.datetime | None = None) -> list[FulfilmentRow]:
    """Write the order's parts as ``planned`` (a part planned before, e.g. by a concurrent pass, is kept)."""
    now = _now(clock)
    for part in parts:
        try:
            with conn.begin_nested():
                conn.execute(insert(channel_fulfilments).values(
                    channel=channel, partner_id=partner_id, order_ref=order_ref, reference=part.reference,
                    part=part.part, shipment_id=shipment_id, tracking_number=tracking_number, request=part.request,
                    state=FulfilmentState.PLANNED, attempts=0, created_at=now, updated_at=now))
        except IntegrityError:
            pass
    return fulfilments_of(conn, channel, partner_id, order_ref)


def mark_fulfilment_sending(conn: Connection, row_id: int, clock: dt.datetime | None = None) -> None:
    """Record that the call is about to go out (committed before it is sent)."""
    conn.execute(update(channel_fulfilments).where(channel_fulfilments.c.id == row_id).values(
        state=FulfilmentState.SENDING, attempts=channel_fulfilments.c.attempts + 1, error=None,
        updated_at=_now(clock)))


def mark_fulfilment_sent(conn: Connection, row_id: int, channel_record: str | None,
                         clock: dt.datetime | None = None) -> None:
    """Record that the channel holds this part (sent now, or found there after a lost answer)."""
    conn.execute(update(channel_fulfilments).where(channel_fulfilments.c.id == row_id).values(
        state=FulfilmentState.SENT, channel_record=channel_record, error=None, updated_at=_now(clock)))


def mark_fulfilment_rejected(conn: Connection, row_id: int, error: str, clock: dt.datetime | None = None) -> None:
    """Record the channel's refusal; the part is not sent again until a person replans it."""
    conn.execute(update(channel_fulfilments).where(channel_fulfilments.c.id == row_id).values(
        state=FulfilmentState.REJECTED, error=error[:1000], updated_at=_now(clock)))


def shipped_orders(conn: Connection, channel: str, partner_id: str, *, unfinished_only: bool = False,
                   limit: int = 500) -> list[ShippedOrder]:
    """Open orders of ``channel`` and ``partner_id`` with a bought label and a tracking number, oldest first.

    ``unfinished_only``: those with no part planned yet or a part still planned or sending (not those
    fully sent, nor those with a rejected part waiting for a person).
    """
    query = select(orders.c.id, orders.c.source_ref, carrier_shipments.c.id.label("shipment_id"),
                   carrier_shipments.c.tracking_code, carrier_shipments.c.carrier, carrier_shipments.c.service,
                   carrier_shipments.c.created_at).select_from(orders.join(carrier_shipments, and_(
                       carrier_shipments.c.partner_id == orders.c.partner_id,
                       carrier_shipments.c.po_number == orders.c.source_ref))).where(
        orders.c.source == channel, orders.c.partner_id == partner_id, orders.c.status == OrderStatus.OPEN,
        carrier_shipments.c.state == ShipmentState.BOUGHT, carrier_shipments.c.tracking_code.is_not(None))
    if unfinished_only:
        mine = and_(channel_fulfilments.c.channel == channel, channel_fulfilments.c.partner_id == partner_id,
                    channel_fulfilments.c.order_ref == orders.c.source_ref)
        query = query.where(
            ~exists().where(mine, channel_fulfilments.c.state == FulfilmentState.REJECTED),
            ~exists().where(mine, channel_fulfilments.c.state == FulfilmentState.SENT)
            | exists().where(mine, channel_fulfilments.c.state.in_([FulfilmentState.PLANNED,
                                                                     FulfilmentState.SENDING])))
    rows = conn.execute(query.order_by(carrier_shipments.c.id).limit(limit))
    seen: dict[int, ShippedOrder] = {}
    for row in rows:  # an order with two bought labels: its first one tells the channel
        seen.setdefault(row.id, ShippedOrder(row.id, row.source_ref, row.shipment_id, row.tracking_code,
                                             row.carrier, row.service, row.created_at))
    return list(seen.values())


def mark_fulfilment_planned(conn: Connection, row_id: int, error: str | None = None,
                            clock: dt.datetime | None = None) -> None:
    """Back to ``planned``: the call was refused before the channel processed it (throttled, unreachable)."""
    conn.execute(update(channel_fulfilments).where(channel_fulfilments.c.id == row_id).values(
        state=FulfilmentState.PLANNED, error=error[:1000] if error else None, updated_at=_now(clock)))


REPLAN = "replan"
"""The key of a released part's ``request``: the next pass plans the part again before sending anything."""


def release_rejected_fulfilments(conn: Connection, channel: str, partner_id: str, order_ref: str, *,
                                 note: str, clock: dt.datetime | None = None) -> int:
    """Turn the order's refused parts into ``planned`` parts to plan again (a replay); how many there were.

    Their old request is dropped: after the operator's fix the channel is asked again what is open, so
    a part is never sent as it was refused. Parts already sent stay as they are.
    """
    result = conn.execute(update(channel_fulfilments).where(
        channel_fulfilments.c.channel == channel, channel_fulfilments.c.partner_id == partner_id,
        channel_fulfilments.c.order_ref == order_ref, channel_fulfilments.c.state == FulfilmentState.REJECTED)
        .values(state=FulfilmentState.PLANNED, request={REPLAN: True}, error=note[:1000], updated_at=_now(clock)))
    return result.rowcount or 0


def delete_fulfilments(conn: Connection, row_ids: Sequence[int]) -> None:
    """Drop rows that were never taken by the channel (released parts, about to be planned again)."""
    if row_ids:
        conn.execute(channel_fulfilments.delete().where(channel_fulfilments.c.id.in_(list(row_ids))))
