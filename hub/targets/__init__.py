"""Order targets: the systems stored orders are delivered to, once each (the outbox's ``target`` names one).

A partner profile lists its targets (``targets: [{kind: odoo, name: erp}]``, the default); a kind
is registered once (``register_target_kind``) and provides an :class:`OrderTarget`. The delivery
loop (``hub.delivery``), reconciliation and the Dagster push assets work with any of them.
docs/adding-a-target.md walks through adding one.
"""

from hub.targets._accounting import AccountingKind, accounting_kind, register_accounting_kind
from hub.targets._protocol import (
    DEFAULT_BATCH_SIZE,
    MAX_BATCH_SIZE,
    AccountingTarget,
    Action,
    BatchOrderTarget,
    BillableLine,
    Booked,
    Delivered,
    Expected,
    Found,
    InvoiceDraft,
    InvoiceKind,
    InvoiceLine,
    OrderTarget,
    Reconciliation,
    batch_capacity,
    reconcile_by_look_up,
)
from hub.targets._registry import (
    ERP_TARGET,
    TargetConnection,
    TargetKind,
    configured_targets,
    delivery_targets,
    register_target_kind,
    target_kind,
)
from hub.targets.carrier import CarrierTarget  # registers the easypost kind
from hub.targets.odoo import OdooTarget  # registers the odoo kind
from hub.targets.odoo_accounting import OdooAccountingTarget  # registers the odoo accounting kind
from hub.targets.quickbooks import QuickBooksAccountingTarget  # registers the quickbooks accounting kind

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "ERP_TARGET",
    "MAX_BATCH_SIZE",
    "AccountingKind",
    "AccountingTarget",
    "Action",
    "BatchOrderTarget",
    "BillableLine",
    "Booked",
    "CarrierTarget",
    "Delivered",
    "Expected",
    "Found",
    "InvoiceDraft",
    "InvoiceKind",
    "InvoiceLine",
    "OdooAccountingTarget",
    "OdooTarget",
    "OrderTarget",
    "QuickBooksAccountingTarget",
    "Reconciliation",
    "TargetConnection",
    "TargetKind",
    "accounting_kind",
    "batch_capacity",
    "configured_targets",
    "delivery_targets",
    "reconcile_by_look_up",
    "register_accounting_kind",
    "register_target_kind",
    "target_kind",
]
