"""One component per target the partner profiles deliver to (the Odoo ERP ``erp`` unless they list others)."""

from dataclasses import dataclass

import dagster as dg

from hub.defs._policies import EXECUTOR
from hub.defs.accounting.component import invoicing_definitions
from hub.defs.erp._drain import DEFAULT_BUDGET_S
from hub.defs.erp.assets import CHECK_SCOPE_TAG, RUN_SCOPE, build_target_assets
from hub.defs.erp.sensors import outbox_sensor
from hub.defs.operations.assets import EXCEPTION_QUEUE
from hub.targets import TargetKind


@dataclass(frozen=True)
class OrderTargetComponent(dg.Component):
    """A target ``name`` of kind ``kind``: what delivers orders to it and checks they arrived.

    Its push asset (``<name>_<records>``, e.g. ``erp_sales_orders``) downstream of every intake asset
    (``upstream``) in its own pool (``pool``, default the target's name), its exactly-once check over
    ``partner_ids``' orders, a push job (``<name>_push_job``) started by the outbox sensor
    (``<name>_outbox``) while work is left and by a 10-minute backstop schedule (retries after backoff),
    a full reconciliation job (``<name>_reconciliation_job``, the check over every order) and its
    hourly schedule, and its connection resource under the target's name.
    """

    name: str
    kind: TargetKind
    upstream: tuple[dg.AssetKey, ...]
    partner_ids: tuple[str, ...]
    pool: str | None = None
    push_budget_s: float = DEFAULT_BUDGET_S
    sensor_interval_s: int = 15

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """The target's asset, check, jobs, sensor, schedules and resource."""
        asset, check = build_target_assets(self.name, self.kind, list(self.upstream), list(self.partner_ids),
                                           pool=self.pool, budget_s=self.push_budget_s)
        job = dg.define_asset_job(
            f"{self.name}_push_job", selection=dg.AssetSelection.assets(asset, EXCEPTION_QUEUE),
            description=f"Deliver everything due to {self.name} (within the push's time budget) and check it "
                        "arrived exactly once: only what it pushed when started by the outbox sensor or the "
                        "schedule, every order when launched by hand.",
            tags={"hub/connector": self.name}, executor_def=EXECUTOR,
        )
        schedule = dg.ScheduleDefinition(
            name=f"{self.name}_push_every_10_minutes", job=job, cron_schedule="*/10 * * * *",
            default_status=dg.DefaultScheduleStatus.RUNNING, tags={CHECK_SCOPE_TAG: RUN_SCOPE},
        )
        reconciliation = dg.define_asset_job(
            # The queue too, as every job ends (it changes nothing here, but its ages move).
            f"{self.name}_reconciliation_job",
            selection=dg.AssetSelection.checks(check) | dg.AssetSelection.assets(EXCEPTION_QUEUE),
            description=f"Every accepted production order for {self.name} is there exactly once (the full check).",
            tags={"hub/connector": self.name}, executor_def=EXECUTOR,
        )
        hourly = dg.ScheduleDefinition(
            name=f"{self.name}_reconcile_hourly", job=reconciliation, cron_schedule="17 * * * *",
            default_status=dg.DefaultScheduleStatus.RUNNING,
        )
        sensor = outbox_sensor(self.name, job.name, interval_seconds=self.sensor_interval_s)
        own = dg.Definitions(assets=[asset], asset_checks=[check], jobs=[job, reconciliation],
                             schedules=[schedule, hourly], sensors=[sensor],
                             resources={self.name: self.kind.connection(self.name)})
        invoicing = invoicing_definitions(self.name, self.kind, asset.key)  # a kind that invoices too (Odoo)
        return own if invoicing is None else dg.Definitions.merge(own, invoicing)
