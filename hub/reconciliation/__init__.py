"""Reconciliation: proof that nothing was lost, doubled or mis-billed between the hub and its targets."""

from hub.reconciliation._targets import (
    ErpReconciliation,
    SaleOrderStates,
    expected_orders,
    orders_delivered_since,
    reconcile_erp_orders,
    reconcile_target,
)

__all__ = ["ErpReconciliation", "SaleOrderStates", "expected_orders", "orders_delivered_since",
           "reconcile_erp_orders", "reconcile_target"]
