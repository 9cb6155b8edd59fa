"""Every production order meant for a target is there exactly once, and a cancelled one is cancelled there."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection

from sqlalchemy import ColumnElement, select

from hub import store as st
from hub.targets import Expected, OrderTarget, Reconciliation
from hub.targets.odoo import OdooTarget, SalesOrderTarget

# The name the result had when the ERP was the only target.
ErpReconciliation = Reconciliation
# What the ERP check needs of an ERP (its older names: it once only counted sale orders).
SaleOrderStates = SaleOrderCounts = SalesOrderTarget


def _held_where_target_has_a_version(target_name: str) -> ColumnElement[bool]:
    """Orders held for approval that the target must still be checked for (joined with their delivery to it).

    A revision held for approval leaves the target the version approved before (``hub.validation``): an open
    held order whose delivery recorded a record there is expected live, once; a cancelled held order with a
    delivery queued must not be live there. One held before it reached the target is not expected there.
    """
    orders, outbox = st.tables.orders, st.tables.outbox
    return ((outbox.c.target == target_name) & orders.c.is_test.is_(False)
            & (orders.c.not_pushed_reason == st.AWAITING_APPROVAL)
            & ((orders.c.status == st.OrderStatus.CANCELLED) | outbox.c.external_id.is_not(None)))


def expected_orders(store: st.HubStore, target_name: str, partner_ids: Collection[str] | None = None) -> Expected:
    """partner -> PO number -> whether the order should be live in the target (see ``st.orders_expected_at``),
    held orders whose earlier version the target has included."""
    orders, outbox = st.tables.orders, st.tables.outbox
    with store.transaction() as conn:
        found = st.orders_expected_at(conn, target=target_name, partner_ids=partner_ids)
        held = conn.execute(select(orders.c.partner_id, orders.c.source_ref, orders.c.status)
                            .join(outbox, outbox.c.order_id == orders.c.id)
                            .where(_held_where_target_has_a_version(target_name))).all()
    wanted: dict[str, dict[str, bool]] = defaultdict(dict)
    for partner_id, ref in found.open:
        wanted[partner_id][ref] = True
    for partner_id, ref in found.cancelled:
        wanted[partner_id][ref] = False
    for row in held:
        wanted[row.partner_id][row.source_ref] = row.status == st.OrderStatus.OPEN
    return wanted


def orders_delivered_since(store: st.HubStore, target_name: str, since: dt.datetime) -> Expected:
    """partner -> PO number -> live or not, for the production orders whose delivery to the target finished
    (done or skipped) at or after ``since``: what a push that began then touched, at the cost of those orders only.

    An order whose delivery is due again (changed since) waits for the push that delivers it. A held order
    counts where the target has a version of it (``_held_where_target_has_a_version``).
    """
    orders, outbox = st.tables.orders, st.tables.outbox
    with store.transaction() as conn:
        rows = conn.execute(
            select(orders.c.partner_id, orders.c.source_ref, orders.c.status)
            .join(outbox, outbox.c.order_id == orders.c.id)
            .where((outbox.c.target == target_name) & outbox.c.state.in_([st.DONE, st.SKIPPED])
                   & (outbox.c.updated_at >= since)
                   & ((orders.c.is_test.is_(False) & orders.c.not_pushed_reason.is_(None))
                      | _held_where_target_has_a_version(target_name)))
            .order_by(orders.c.partner_id, orders.c.source_ref)
        ).all()
    wanted: dict[str, dict[str, bool]] = defaultdict(dict)
    for row in rows:
        wanted[row.partner_id][row.source_ref] = row.status == st.OrderStatus.OPEN
    return wanted


def reconcile_target(store: st.HubStore, target: OrderTarget, *, partner_ids: Collection[str] | None = None,
                     delivered_since: dt.datetime | None = None) -> Reconciliation:
    """Compare the store's production orders meant for ``target`` with what it holds, by partner and PO number.

    Meant for it: the open orders of ``partner_ids`` (every partner when None) and any order queued for
    it. Open orders must be there exactly once and live; cancelled ones not live (cancelled there, or
    never there when the order was cancelled before it reached the target). A cancelled order that
    never had a delivery queued is not looked up. The comparison itself is the target's ``reconcile``.

    With ``delivered_since``, only the orders delivered since then (``orders_delivered_since``): the
    check after a run, which must not grow with the store; the full comparison runs on a schedule.
    """
    if delivered_since is not None:
        return target.reconcile(orders_delivered_since(store, target.name, delivered_since))
    return target.reconcile(expected_orders(store, target.name, partner_ids))


def reconcile_erp_orders(store: st.HubStore, erp: SalesOrderTarget) -> Reconciliation:
    """``reconcile_target`` for the ERP (outbox target ``erp``) of every partner, through its sales gateway."""
    return reconcile_target(store, OdooTarget(erp))
