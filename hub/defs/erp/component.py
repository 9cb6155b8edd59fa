"""One component per target the partner profiles deliver to (the Odoo ERP ``erp`` unless they list others)."""

from dataclasses import dataclass

import dagster as dg

from hub.defs._policies import EXECUTOR
from hub.defs.accounting.component import invoicing_definitions
from hub.defs.erp.assets import build_target_assets
from hub.defs.operations.assets import EXCEPTION_QUEUE
from hub.targets import TargetKind


@dataclass(frozen=True)
class OrderTargetComponent(dg.Component):
    """A target ``name`` of kind ``kind``: what delivers orders to it and checks they arrived.

    Its push asset (``<name>_<records>``, e.g. ``erp_sales_orders``) downstream of every intake asset
    (``upstream``) in its own pool, its exactly-once check over ``partner_ids``' orders, a retry job
    (``<name>_push_job``) and its schedule, and its connection resource under the target's name.
    """

    name: str
    kind: TargetKind
    upstream: tuple[dg.AssetKey, ...]
    partner_ids: tuple[str, ...]

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """The target's asset, check, job, schedule and resource."""
        asset, check = build_target_assets(self.name, self.kind, list(self.upstream), list(self.partner_ids))
        job = dg.define_asset_job(
            f"{self.name}_push_job", selection=dg.AssetSelection.assets(asset, EXCEPTION_QUEUE),
            description=f"Retry due deliveries to {self.name} and re-check that every order is there exactly once.",
            tags={"hub/connector": self.name}, executor_def=EXECUTOR,
        )
        schedule = dg.ScheduleDefinition(
            name=f"{self.name}_push_every_10_minutes", job=job, cron_schedule="*/10 * * * *",
            default_status=dg.DefaultScheduleStatus.RUNNING,
        )
        own = dg.Definitions(assets=[asset], asset_checks=[check], jobs=[job], schedules=[schedule],
                             resources={self.name: self.kind.connection(self.name)})
        invoicing = invoicing_definitions(self.name, self.kind, asset.key)  # a kind that invoices too (Odoo)
        return own if invoicing is None else dg.Definitions.merge(own, invoicing)
