"""Delivery: orders to back-office systems (created, updated, cancelled) and documents back to partners."""

from hub.delivery._acks import OutboundFolders, send_pending_acks
from hub.delivery._erp import (
    PushSummary,
    SalesOrderTarget,
    backoff,
    erp_reference,
    push_due_orders,
)

__all__ = [
    "OutboundFolders",
    "PushSummary",
    "SalesOrderTarget",
    "backoff",
    "erp_reference",
    "push_due_orders",
    "send_pending_acks",
]
