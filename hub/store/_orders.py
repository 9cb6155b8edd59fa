"""Orders in the store: saved from canonical models, with their purpose applied and every change logged."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, select, update

from canonical.model import Order, Purpose
from hub.store._order_states import OrderStatus, SaveAction
from hub.store._tables import inserted_id, order_events, order_lines, order_parties, orders


@dataclass(frozen=True)
class SavedOrder:
    """What saving a canonical order did.

    ``action``: ``created``, ``replaced``, ``cancelled``, ``already_stored`` (this very document was
    saved before: replays are no-ops), ``duplicate`` (another document already created this order
    number) or ``unknown_order`` (a cancellation or replacement of an order we never received).
    """

    action: str
    order_id: int | None

    @property
    def stored_id(self) -> int:
        """The stored order's id, for an action that stored or changed one (all but ``unknown_order``)."""
        if self.order_id is None:
            raise ValueError(f"no stored order for action {self.action!r}")
        return self.order_id


def save_order(conn: Connection, order: Order, *, receipt_id: int | None, now: dt.datetime) -> SavedOrder:
    """Apply ``order`` (an original, cancellation, replacement or change) to the store."""
    row = _stored(conn, order.source.value, order.partner_id, order.source_ref)
    if row is not None and _same_document(row, order):
        return SavedOrder(SaveAction.ALREADY_STORED, row.id)
    if order.purpose is Purpose.ORIGINAL:
        if row is not None:
            return SavedOrder(SaveAction.DUPLICATE, row.id)
        return SavedOrder(SaveAction.CREATED, _insert(conn, order, receipt_id=receipt_id, now=now))
    if row is None:
        return SavedOrder(SaveAction.UNKNOWN_ORDER, None)
    if order.purpose is Purpose.CANCELLATION:
        if row.status == OrderStatus.CANCELLED:
            return SavedOrder(SaveAction.ALREADY_STORED, row.id)
        conn.execute(
            update(orders)
            .where(orders.c.id == row.id)
            .values(status=OrderStatus.CANCELLED, revision=row.revision + 1, updated_at=now)
        )
        add_event(conn, row.id, "cancelled", {"by": order.document_ref, "raw_document_id": order.raw_document_id},
                  receipt_id=receipt_id, now=now)
        return SavedOrder(SaveAction.CANCELLED, row.id)
    _replace(conn, row, order, receipt_id=receipt_id, now=now)
    return SavedOrder(SaveAction.REPLACED, row.id)


def save_channel_order(
    conn: Connection,
    order: Order,
    *,
    source_updated_at: dt.datetime,
    receipt_id: int | None,
    now: dt.datetime,
    not_pushed_reason: str | None = None,
) -> SavedOrder:
    """Store the newest version of an API channel's order (Shopify, marketplaces).

    Channels resend whole orders whenever they change; a version is identified by the channel's
    own ``updated_at``. The same or an older version changes nothing (``unchanged``), so overlapping
    syncs and webhooks for the same order never double it. A newer one replaces the stored order
    (``updated`` or ``cancelled``), and the event log keeps what changed.
    """
    row = _stored(conn, order.source.value, order.partner_id, order.source_ref)
    extra = {"source_updated_at": source_updated_at, "not_pushed_reason": not_pushed_reason}
    if row is None:
        order_id = _insert(conn, order, receipt_id=receipt_id, now=now, extra=extra)
        action = SaveAction.CANCELLED if order.purpose is Purpose.CANCELLATION else SaveAction.CREATED
        return SavedOrder(action, order_id)
    stored_at = row.source_updated_at
    if stored_at is not None and source_updated_at <= stored_at:
        return SavedOrder(SaveAction.UNCHANGED, row.id)
    cancelling = order.purpose is Purpose.CANCELLATION
    _replace(conn, row, order, receipt_id=receipt_id, now=now, extra=extra,
             status=OrderStatus.CANCELLED if cancelling else OrderStatus.OPEN,
             kind="cancelled" if cancelling else "updated")
    return SavedOrder(SaveAction.CANCELLED if cancelling else SaveAction.UPDATED, row.id)


def cancel_channel_order(
    conn: Connection, *, source: str, partner_id: str, source_ref: str, source_updated_at: dt.datetime,
    by: str, receipt_id: int | None, now: dt.datetime,
) -> SavedOrder:
    """Cancel a stored channel order when the channel says so with nothing left to show (no new payload).

    ``unchanged`` when there is no such order, it is cancelled already, or the news is not newer.
    """
    row = _stored(conn, source, partner_id, source_ref)
    if row is None or row.status == OrderStatus.CANCELLED or (
        row.source_updated_at is not None and row.source_updated_at >= source_updated_at
    ):
        return SavedOrder(SaveAction.UNCHANGED, None if row is None else row.id)
    conn.execute(update(orders).where(orders.c.id == row.id).values(
        status=OrderStatus.CANCELLED, revision=row.revision + 1, source_updated_at=source_updated_at, updated_at=now))
    add_event(conn, row.id, "cancelled", {"by": by}, receipt_id=receipt_id, now=now)
    return SavedOrder(SaveAction.CANCELLED, row.id)


def _stored(conn: Connection, source: str, partner_id: str, source_ref: str) -> Any:
    """The stored row of an order (one per source, partner and reference), or None."""
    return conn.execute(
        select(orders).where(
            (orders.c.source == source) & (orders.c.partner_id == partner_id) & (orders.c.source_ref == source_ref)
        )
    ).first()


def add_event(
    conn: Connection, order_id: int, kind: str, detail: dict[str, Any], *, receipt_id: int | None = None,
    now: dt.datetime,
) -> None:
    """Append to an order's event log (received, validated, acked, pushed, cancelled, replaced...)."""
    conn.execute(order_events.insert().values(order_id=order_id, kind=kind, at=now, receipt_id=receipt_id,
                                              detail=detail))


def load_order(conn: Connection, order_id: int) -> Order:
    """The canonical model of a stored order (its newest revision)."""
    payload = conn.execute(select(orders.c.payload).where(orders.c.id == order_id)).scalar_one()
    return Order.model_validate(payload)


@dataclass(frozen=True)
class StoredOrder:
    """A stored order as delivery sees it: its newest revision, and whether it is open or cancelled."""

    id: int
    order: Order
    status: str
    revision: int

    @property
    def cancelled(self) -> bool:
        return self.status == OrderStatus.CANCELLED


def load_stored_order(conn: Connection, order_id: int) -> StoredOrder:
    """The canonical model of a stored order with its status (``open`` / ``cancelled``) and revision."""
    row = conn.execute(
        select(orders.c.payload, orders.c.status, orders.c.revision).where(orders.c.id == order_id)
    ).one()
    return StoredOrder(order_id, Order.model_validate(row.payload), row.status, row.revision)


def order_revision(conn: Connection, order_id: int) -> int:
    """The stored revision of an order (it goes up with every replacement, newer version or cancellation)."""
    return conn.execute(select(orders.c.revision).where(orders.c.id == order_id)).scalar_one()


def order_events_of(conn: Connection, order_id: int) -> list[dict[str, Any]]:
    """An order's event log, oldest first."""
    rows = conn.execute(select(order_events).where(order_events.c.order_id == order_id).order_by(order_events.c.id))
    return [{"kind": r.kind, "at": r.at, "receipt_id": r.receipt_id, "detail": r.detail} for r in rows]


def _same_document(row: Any, order: Order) -> bool:
    return (
        order.raw_document_id is not None
        and row.raw_sha256 == order.raw_document_id
        and row.document_ref == order.document_ref
    )


def _insert(
    conn: Connection, order: Order, *, receipt_id: int | None, now: dt.datetime, extra: dict[str, Any] | None = None
) -> int:
    order_id = inserted_id(conn.execute(
        orders.insert().values(
            **_order_columns(order, receipt_id=receipt_id),
            **(extra or {}),
            status=OrderStatus.CANCELLED if order.purpose is Purpose.CANCELLATION else OrderStatus.OPEN,
            revision=1,
            created_at=now,
            updated_at=now,
        )
    ))
    _insert_children(conn, order_id, order)
    add_event(conn, order_id, "received", {"document_ref": order.document_ref, "raw_document_id": order.raw_document_id,
                                           "warnings": order.warnings}, receipt_id=receipt_id, now=now)
    return order_id


def _replace(
    conn: Connection, row: Any, order: Order, *, receipt_id: int | None, now: dt.datetime,
    extra: dict[str, Any] | None = None, status: str = OrderStatus.OPEN, kind: str | None = None,
) -> None:
    before = Order.model_validate(row.payload)
    conn.execute(
        update(orders)
        .where(orders.c.id == row.id)
        .values(**_order_columns(order, receipt_id=receipt_id), **(extra or {}), status=status,
                revision=row.revision + 1, updated_at=now)
    )
    conn.execute(delete(order_lines).where(order_lines.c.order_id == row.id))
    conn.execute(delete(order_parties).where(order_parties.c.order_id == row.id))
    _insert_children(conn, row.id, order)
    kind = kind or ("replaced" if order.purpose is Purpose.REPLACEMENT else "changed")
    add_event(conn, row.id, kind,
              {"by": order.document_ref, "raw_document_id": order.raw_document_id, "revision": row.revision + 1,
               "changes": _changes(before, order)},
              receipt_id=receipt_id, now=now)


def _changes(before: Order, after: Order) -> dict[str, Any]:
    """A short account of what a replacement changed, for the event log."""
    changes: dict[str, Any] = {}
    if before.total != after.total:
        changes["total"] = [str(before.total), str(after.total)]
    old_lines = {line.line_no: line for line in before.lines}
    new_lines = {line.line_no: line for line in after.lines}
    if added := sorted(new_lines.keys() - old_lines.keys()):
        changes["lines_added"] = added
    if removed := sorted(old_lines.keys() - new_lines.keys()):
        changes["lines_removed"] = removed
    changed = [
        no for no in sorted(old_lines.keys() & new_lines.keys())
        if old_lines[no].model_dump() != new_lines[no].model_dump()
    ]
    if changed:
        changes["lines_changed"] = changed
    return changes


def _order_columns(order: Order, *, receipt_id: int | None) -> dict[str, Any]:
    return {
        "source": order.source.value,
        "partner_id": order.partner_id,
        "source_ref": order.source_ref,
        "purpose": order.purpose.value,
        "order_date": order.order_date,
        "currency": order.currency,
        "total": order.total,
        "is_test": order.is_test,
        "receipt_id": receipt_id,
        "raw_sha256": order.raw_document_id,
        "document_ref": order.document_ref,
        "payload": order.model_dump(mode="json"),
    }


def _insert_children(conn: Connection, order_id: int, order: Order) -> None:
    conn.execute(
        order_lines.insert(),
        [
            {
                "order_id": order_id,
                "line_no": line.line_no,
                "sku": line.sku,
                "gtin": line.gtin,
                "buyer_part": line.buyer_part,
                "description": line.description,
                "quantity": line.quantity,
                "uom": line.uom,
                "unit_price": line.unit_price,
                "amount": line.amount,
            }
            for line in order.lines
        ],
    )
    if order.parties:
        conn.execute(
            order_parties.insert(),
            [
                {
                    "order_id": order_id,
                    "role": party.role.value,
                    "name": party.name,
                    "party_id": party.id,
                    "id_qualifier": party.id_qualifier,
                    "address_lines": list(party.address_lines),
                    "city": party.city,
                    "region": party.region,
                    "postal_code": party.postal_code,
                    "country": party.country,
                }
                for party in order.parties
            ],
        )
