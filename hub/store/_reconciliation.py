"""Which stored orders a target must hold, for the exactly-once check (``hub.reconciliation``)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Connection, select

from hub.store._order_states import OrderStatus
from hub.store._tables import orders, outbox


@dataclass(frozen=True)
class ExpectedOrders:
    """Production orders meant for one target, as (partner id, PO number) pairs sorted by partner and PO."""

    open: list[tuple[str, str]]
    cancelled: list[tuple[str, str]]


def orders_expected_at(conn: Connection, *, target: str, partner_ids: Collection[str] | None = None
                       ) -> ExpectedOrders:
    """Open production orders of ``partner_ids`` (every partner when None) or queued for ``target``, and the
    cancelled ones that had a delivery to ``target`` queued (one cancelled before it was queued is not there).

    Test orders and orders held back from delivery (``not_pushed_reason``) are never expected.
    """
    production = orders.c.is_test.is_(False) & orders.c.not_pushed_reason.is_(None)
    queued = select(outbox.c.id).where((outbox.c.order_id == orders.c.id) & (outbox.c.target == target)).exists()
    # An order of a partner delivering to the target counts even without its outbox row: a lost row is "missing".
    meant = production if partner_ids is None else (orders.c.partner_id.in_(sorted(partner_ids)) | queued)
    order_by = (orders.c.partner_id, orders.c.source_ref)
    open_rows = conn.execute(
        select(orders.c.partner_id, orders.c.source_ref)
        .where((orders.c.status == OrderStatus.OPEN) & production & meant).order_by(*order_by)
    ).all()
    cancelled_rows = conn.execute(
        select(orders.c.partner_id, orders.c.source_ref)
        .where((orders.c.status == OrderStatus.CANCELLED) & production & queued).order_by(*order_by)
    ).all()
    return ExpectedOrders([tuple(row) for row in open_rows], [tuple(row) for row in cancelled_rows])
