"""Order targets: the systems stored orders are delivered to, once each (the outbox's ``target`` names one).

A partner profile lists its targets (``targets: [{kind: odoo, name: erp}]``, the default); a kind
is registered once (``register_target_kind``) and provides an :class:`OrderTarget`. The delivery
loop (``hub.delivery``), reconciliation and the Dagster push assets work with any of them.
docs/adding-a-target.md walks through adding one.
"""

from hub.targets._protocol import (
    DEFAULT_BATCH_SIZE,
    MAX_BATCH_SIZE,
    Action,
    BatchOrderTarget,
    Delivered,
    Expected,
    Found,
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
from hub.targets.odoo import OdooTarget  # registers the odoo kind

__all__ = [
    "DEFAULT_BATCH_SIZE", "ERP_TARGET", "MAX_BATCH_SIZE", "Action", "BatchOrderTarget", "Delivered", "Expected",
    "Found", "OdooTarget", "OrderTarget", "Reconciliation", "TargetConnection", "TargetKind", "batch_capacity",
    "configured_targets", "delivery_targets", "reconcile_by_look_up", "register_target_kind", "target_kind",
]
