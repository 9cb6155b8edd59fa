"""Sales orders in the ERP, pushed from the outbox and checked exactly once."""


import dagster as dg

from hub import store as st
from hub.defs.resources import ErpResource, HubStoreResource
from hub.delivery import push_due_orders
from hub.intake import ERP_TARGET
from hub.reconciliation import reconcile_erp_orders


def build_erp_assets(upstream: list[dg.AssetKey]) -> tuple[dg.AssetsDefinition, dg.AssetChecksDefinition]:
    """The ERP asset, downstream of every channel's intake asset, and its exactly-once check."""

    @dg.asset(name="erp_sales_orders", group_name="erp", kinds={"odoo"}, deps=upstream, pool="erp")
    def erp_sales_orders(
        context: dg.AssetExecutionContext, hub_store: HubStoreResource, erp: ErpResource
    ) -> dg.MaterializeResult:
        """Accepted production orders as sale orders in the ERP: created, kept up to date, cancelled (idempotent on the PO number)."""
        store = hub_store.store()
        instance = context.instance
        # Deliveries name this run; those left in flight by a run that ended (killed, crashed)
        # are taken back at once, due when a write it sent can no longer commit in the ERP.
        claimant = st.deliveries_claimed_by_run(context.run.run_id, lambda run_id: run_ended(instance, run_id),
                                                write_settle=erp.write_settle())
        with erp.gateway() as gateway, claimant:
            summary = push_due_orders(store, gateway)
        with store.transaction() as conn:
            states = st.deliveries_by_state(conn, ERP_TARGET)
        return dg.MaterializeResult(
            metadata={
                "pushed": summary.pushed,
                "updated": summary.updated,
                "unchanged": summary.unchanged,
                "cancelled": summary.cancelled,
                "skipped": summary.skipped,
                "retrying": summary.retrying,
                "dead_lettered": summary.dead,
                "outbox": dg.MetadataValue.json(states),
            }
        )

    @dg.asset_check(asset=erp_sales_orders, name="erp_sales_orders_exactly_once")
    def erp_sales_orders_exactly_once(hub_store: HubStoreResource, erp: ErpResource) -> dg.AssetCheckResult:
        """Every accepted production order exists exactly once in the ERP, and every cancelled one is cancelled there."""
        with erp.gateway() as gateway:
            result = reconcile_erp_orders(hub_store.store(), gateway)
        return dg.AssetCheckResult(
            passed=result.passed,
            metadata={
                "expected_orders": result.expected,
                "missing_count": len(result.missing),
                "doubled_count": len(result.doubled),
                "missing_po_numbers": dg.MetadataValue.json(result.missing[:500]),
                "doubled_po_numbers": dg.MetadataValue.json(result.doubled),
                "cancelled_orders": result.cancelled_expected,
                "cancelled_in_erp_po_numbers": dg.MetadataValue.json(result.cancelled_in_erp[:500]),
                "not_cancelled_po_numbers": dg.MetadataValue.json(result.not_cancelled[:500]),
            },
            description=None if result.passed else
            f"{len(result.missing)} missing, {len(result.doubled)} doubled, {len(result.cancelled_in_erp)} cancelled "
            f"in the ERP only, {len(result.not_cancelled)} not cancelled in the ERP",
        )

    return erp_sales_orders, erp_sales_orders_exactly_once


def run_ended(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Whether the Dagster run ``run_id`` is over (succeeded, failed, canceled); unknown runs are not."""
    run = instance.get_run_by_id(run_id)
    return run is not None and run.is_finished


erp_push_job = dg.define_asset_job(
    "erp_push_job", selection=dg.AssetSelection.assets("erp_sales_orders"),
    description="Retry due ERP deliveries and re-check that every order is there exactly once.",
    tags={"hub/connector": "erp"},
)

erp_push_schedule = dg.ScheduleDefinition(
    name="erp_push_every_10_minutes", job=erp_push_job, cron_schedule="*/10 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
