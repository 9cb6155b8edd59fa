"""Reconciliation: proof that nothing was lost, doubled or mis-billed between the hub and its targets."""

from hub.reconciliation._erp import (
    ErpReconciliation,
    SaleOrderStates,
    reconcile_erp_orders,
)

__all__ = ["ErpReconciliation", "SaleOrderStates", "reconcile_erp_orders"]
