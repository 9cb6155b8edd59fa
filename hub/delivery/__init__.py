"""Delivery: orders to their targets (created, updated, cancelled) and documents back to partners."""

from hub.delivery._acks import OutboundFolders, send_pending_acks
from hub.delivery._erp import push_due_orders
from hub.delivery._orders import PushSummary, backoff, deliver_due_orders, requeue_failed_delivery
from hub.targets.odoo import SalesOrderTarget, erp_reference

__all__ = [
    "OutboundFolders",
    "PushSummary",
    "SalesOrderTarget",
    "backoff",
    "deliver_due_orders",
    "erp_reference",
    "push_due_orders",
    "requeue_failed_delivery",
    "send_pending_acks",
]
