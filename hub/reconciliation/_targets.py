"""Every production order meant for a target is there exactly once, and a cancelled one is cancelled there."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from hub import store as st
from hub.targets import Expected, OrderTarget, Reconciliation
from hub.targets.odoo import OdooTarget, SalesOrderTarget

# The name the result had when the ERP was the only target.
ErpReconciliation = Reconciliation
# What the ERP check needs of an ERP (its older names: it once only counted sale orders).
SaleOrderStates = SaleOrderCounts = SalesOrderTarget


def expected_orders(store: st.HubStore, target_name: str, partner_ids: Collection[str] | None = None) -> Expected:
    """partner -> PO number -> whether the order should be live in the target (see ``st.orders_expected_at``)."""
    with store.transaction() as conn:
        found = st.orders_expected_at(conn, target=target_name, partner_ids=partner_ids)
    wanted: dict[str, dict[str, bool]] = defaultdict(dict)
    for partner_id, ref in found.open:
        wanted[partner_id][ref] = True
    for partner_id, ref in found.cancelled:
        wanted[partner_id][ref] = False
    return wanted


def reconcile_target(store: st.HubStore, target: OrderTarget, *, partner_ids: Collection[str] | None = None
                     ) -> Reconciliation:
    """Compare the store's production orders meant for ``target`` with what it holds, by partner and PO number.

    Meant for it: the open orders of ``partner_ids`` (every partner when None) and any order queued for
    it. Open orders must be there exactly once and live; cancelled ones not live (cancelled there, or
    never there when the order was cancelled before it reached the target). A cancelled order that
    never had a delivery queued is not looked up. The comparison itself is the target's ``reconcile``.
    """
    return target.reconcile(expected_orders(store, target.name, partner_ids))


def reconcile_erp_orders(store: st.HubStore, erp: SalesOrderTarget) -> Reconciliation:
    """``reconcile_target`` for the ERP (outbox target ``erp``) of every partner, through its sales gateway."""
    return reconcile_target(store, OdooTarget(erp))
