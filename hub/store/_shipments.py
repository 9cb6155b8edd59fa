"""The carrier's outbox: one shipment row per (carrier target, our reference), and applied tracking events.

The row is written before anything is bought: ``created`` with the carrier's shipment id as soon as
the shipment exists, ``buying`` right before the buy call, ``bought`` with the label and tracking code.
A row in ``created`` or ``buying`` is always looked up at the carrier before a buy is sent again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import Connection, and_, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from hub.store._tables import carrier_events, carrier_shipments, inserted_id


class ShipmentState(StrEnum):
    """Where one label stands."""

    CREATED = "created"  # the carrier holds the shipment (its id is in the row), nothing bought
    BUYING = "buying"  # a buy was sent: it may have gone through, look before buying again
    BOUGHT = "bought"  # label and tracking code recorded


@dataclass(frozen=True)
class ShipmentRow:
    """One row of ``carrier_shipments``."""

    id: int
    target: str
    reference: str
    partner_id: str
    po_number: str
    mode: str
    shipment_id: str | None
    state: ShipmentState
    rate_id: str | None
    carrier: str | None
    service: str | None
    rate: Decimal | None
    tracking_code: str | None
    label_url: str | None
    tracker_id: str | None
    tracking_status: str | None
    tracking_updated_at: dt.datetime | None


def _row(row) -> ShipmentRow:
    values = dict(row._mapping)
    values.pop("created_at"), values.pop("updated_at")
    values["state"] = ShipmentState(values["state"])
    return ShipmentRow(**values)


def _now(clock: dt.datetime | None) -> dt.datetime:
    return clock or dt.datetime.now(dt.UTC)


def shipment_by_reference(conn: Connection, target: str, reference: str) -> ShipmentRow | None:
    """The row of our ``reference`` at ``target``, or None."""
    row = conn.execute(select(carrier_shipments).where(
        carrier_shipments.c.target == target, carrier_shipments.c.reference == reference)).first()
    return _row(row) if row is not None else None


def record_shipment_created(conn: Connection, *, target: str, reference: str, partner_id: str, po_number: str,
                            mode: str, shipment_id: str, clock: dt.datetime | None = None) -> ShipmentRow:
    """Remember the carrier's shipment id for our reference (before any buy); a second call keeps the first id."""
    now = _now(clock)
    try:
        with conn.begin_nested():
            conn.execute(insert(carrier_shipments).values(
                target=target, reference=reference, partner_id=partner_id, po_number=po_number, mode=mode,
                shipment_id=shipment_id, state=ShipmentState.CREATED, created_at=now, updated_at=now))
    except IntegrityError:
        pass  # a concurrent push recorded its shipment first: that one is ours, the other stays unbought
    found = shipment_by_reference(conn, target, reference)
    assert found is not None
    return found


def mark_shipment_buying(conn: Connection, row_id: int, *, rate_id: str, carrier: str, service: str,
                         rate: Decimal, clock: dt.datetime | None = None) -> None:
    """Record the rate about to be bought (committed before the buy call)."""
    conn.execute(update(carrier_shipments).where(carrier_shipments.c.id == row_id).values(
        state=ShipmentState.BUYING, rate_id=rate_id, carrier=carrier, service=service, rate=rate,
        updated_at=_now(clock)))


def mark_shipment_bought(conn: Connection, row_id: int, *, rate_id: str | None, carrier: str | None,
                         service: str | None, rate: Decimal | None, tracking_code: str | None,
                         label_url: str | None, tracker_id: str | None, tracking_status: str | None,
                         clock: dt.datetime | None = None) -> None:
    """Record the bought label (as the carrier reports it: after a lost answer, it may be another rate)."""
    now = _now(clock)
    conn.execute(update(carrier_shipments).where(carrier_shipments.c.id == row_id).values(
        state=ShipmentState.BOUGHT, rate_id=rate_id, carrier=carrier, service=service, rate=rate,
        tracking_code=tracking_code, label_url=label_url, tracker_id=tracker_id, tracking_status=tracking_status,
        tracking_updated_at=now, updated_at=now))


def shipments_of(conn: Connection, target: str, partner_id: str, po_numbers: Sequence[str]) -> list[ShipmentRow]:
    """The rows of ``partner_id``'s PO numbers at ``target``."""
    if not po_numbers:
        return []
    rows = conn.execute(select(carrier_shipments).where(
        carrier_shipments.c.target == target, carrier_shipments.c.partner_id == partner_id,
        carrier_shipments.c.po_number.in_(list(po_numbers))).order_by(carrier_shipments.c.id))
    return [_row(row) for row in rows]


def record_tracking(conn: Connection, *, tracker_id: str | None, tracking_code: str | None, status: str,
                    clock: dt.datetime | None = None) -> int:
    """Set the tracking status of the bought shipments with this tracker or tracking code; how many rows."""
    keys = [carrier_shipments.c.tracker_id == tracker_id] if tracker_id else []
    if tracking_code:
        keys.append(carrier_shipments.c.tracking_code == tracking_code)
    if not keys:
        return 0
    now = _now(clock)
    values: dict[str, object] = {"tracking_status": status[:40], "tracking_updated_at": now, "updated_at": now}
    if tracker_id:
        values["tracker_id"] = tracker_id
    result = conn.execute(update(carrier_shipments).where(
        carrier_shipments.c.state == ShipmentState.BOUGHT, or_(*keys)).values(**values))
    return result.rowcount or 0


FINAL_TRACKING_STATUSES = frozenset({"delivered", "return_to_sender", "failure", "cancelled"})
"""EasyPost tracker statuses after which nothing changes: such trackers are not polled."""


def stale_trackers(conn: Connection, target: str, *, older_than: dt.datetime, limit: int = 500) -> list[ShipmentRow]:
    """Bought shipments of ``target`` whose tracking was not updated since ``older_than`` and is not final."""
    rows = conn.execute(select(carrier_shipments).where(
        carrier_shipments.c.target == target, carrier_shipments.c.state == ShipmentState.BOUGHT,
        or_(carrier_shipments.c.tracker_id.is_not(None), carrier_shipments.c.tracking_code.is_not(None)),
        or_(carrier_shipments.c.tracking_status.is_(None),
            carrier_shipments.c.tracking_status.not_in(sorted(FINAL_TRACKING_STATUSES))),
        or_(carrier_shipments.c.tracking_updated_at.is_(None),
            and_(carrier_shipments.c.tracking_updated_at < older_than)),
    ).order_by(carrier_shipments.c.tracking_updated_at, carrier_shipments.c.id).limit(limit))
    return [_row(row) for row in rows]


def record_carrier_event(conn: Connection, event_id: str, *, tracker_id: str | None,
                         clock: dt.datetime | None = None) -> bool:
    """Remember a tracking event by its id; False when it was applied before (a replay: do nothing)."""
    try:
        with conn.begin_nested():
            inserted_id(conn.execute(insert(carrier_events).values(
                event_id=event_id, tracker_id=tracker_id, received_at=_now(clock))))
    except IntegrityError:
        return False
    return True
