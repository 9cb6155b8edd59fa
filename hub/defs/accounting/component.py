"""The invoicing definitions of one order target, when its kind is also a registered accounting kind (Odoo).

Built by the target's own component (``hub/defs/erp/component.py``), so the invoicing asset is part of the
target's definitions and, like its push asset, upstream of the exception queue (it opens exceptions for
documents the target refuses).
"""

from __future__ import annotations

import dagster as dg

from canonical.errors import ConfigurationError
from hub.defs._policies import EXECUTOR
from hub.defs.accounting.assets import build_invoicing_assets
from hub.defs.operations.assets import EXCEPTION_QUEUE
from hub.targets import TargetKind, accounting_kind


def invoicing_definitions(name: str, kind: TargetKind, push_asset: dg.AssetKey) -> dg.Definitions | None:
    """``<name>_invoices`` (downstream of ``push_asset``), its checks, a job and an hourly schedule (stopped
    until turned on: invoicing starts when finance wants it); the target's own resource opens it (Odoo), else
    its kind's ``connection`` is bound as ``<name>_accounting``. None for a target that only takes orders."""
    try:
        accounting = accounting_kind(kind.accounting or kind.kind)  # a profile's ``accounting:`` (QuickBooks) first
    except ConfigurationError:
        if kind.accounting:
            raise
        return None
    shared = accounting.shares_target_connection and accounting.kind == kind.kind
    resource = name if shared else f"{name}_accounting"
    asset, checks = build_invoicing_assets(name, push_asset, resource)
    job = dg.define_asset_job(f"{name}_invoice_job", selection=dg.AssetSelection.assets(asset, EXCEPTION_QUEUE),
                              description=f"Invoice the orders delivered to {name}, with the hold gate.",
                              tags={"hub/connector": name}, executor_def=EXECUTOR)
    schedule = dg.ScheduleDefinition(name=f"{name}_invoice_hourly", job=job, cron_schedule="0 * * * *",
                                     default_status=dg.DefaultScheduleStatus.STOPPED)
    resources = {} if shared else {resource: accounting.connection(name)}
    return dg.Definitions(assets=[asset], asset_checks=checks, jobs=[job], schedules=[schedule], resources=resources)
