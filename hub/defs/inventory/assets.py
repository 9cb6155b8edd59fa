"""``inventory_atp`` (the ERP's stock per SKU and warehouse with ATP, docs/inventory.md) and
``inventory_allocations`` (a warehouse per new order line, the partner's shortage policy applied), their
check, job and schedule.

The ERP is read through its own resource ``erp_inventory``, made from the Odoo target's ``HUB_ERP_*``
variables (resolved when a run starts); the schedule starts stopped while those are unset.
"""

import os
from decimal import Decimal

import dagster as dg
from pydantic import SecretStr

from connectors.erp import OdooConfig, OdooJson2Client, OdooStock
from hub.defs._policies import EXECUTOR, OWNERS, retry_when_retriable
from hub.defs.resources import HubStoreResource
from hub.inventory import (
    DEFAULT_HORIZON_DAYS,
    allocate_orders,
    allocation_counts,
    live_atp,
    outcome_counts,
    sync_stock,
)
from hub.targets.odoo._resource import ErpResource

ERP_ENV = ("HUB_ERP_URL", "HUB_ERP_API_KEY")
# Neither asset opens or closes an exception: they stay out of the exception queue's upstream and jobs.
QUEUE_UNTOUCHED = {"hub/exception_queue": "untouched"}
TABLE_ROWS = 200  # the UI renders a table whole: the lowest ATP first, the rest counted only

_ATP_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("sku", "string"), dg.TableColumn("warehouse", "string"),
    dg.TableColumn("on_hand", "float", description="Odoo qty_available"),
    dg.TableColumn("allocated", "float", description="open hub allocations"),
    dg.TableColumn("incoming", "float", description="Odoo incoming_qty due within the horizon"),
    dg.TableColumn("atp", "float", description="on_hand - allocated + incoming"),
    dg.TableColumn("free_qty", "float", description="Odoo free_qty (not reserved)"),
    dg.TableColumn("forecast", "float", description="Odoo virtual_available"),
    dg.TableColumn("next_receipt", "string", description="first receipt after the horizon"),
])


class StockConfig(dg.Config):
    """How far ahead incoming stock counts as available to promise."""

    horizon_days: int = DEFAULT_HORIZON_DAYS


class AllocationConfig(dg.Config):
    """Which orders are allocated: open ones stored within this many days without an allocation."""

    since_days: int = 30


def _float(value: object) -> float:
    return float(value) if isinstance(value, Decimal) else 0.0


@dg.asset(group_name="inventory", kinds={"odoo"}, owners=OWNERS, tags=QUEUE_UNTOUCHED,
          required_resource_keys={"hub_store", "erp_inventory"},
          description="The ERP's stock per SKU and warehouse (product.product qty_available, free_qty, incoming_qty, "
                      "virtual_available read with a warehouse context) and ATP = on hand - allocated + incoming "
                      "due within the horizon.")
def inventory_atp(context: dg.AssetExecutionContext, config: StockConfig) -> dg.MaterializeResult:
    """Snapshot the ERP's stock in the hub store and compute ATP per SKU and warehouse."""
    hub_store = context.resources.hub_store
    resource: ErpResource = context.resources.erp_inventory
    odoo = OdooConfig(database=resource.database or None, api_key=SecretStr(resource.api_key),
                      http={"base_url": resource.base_url, "max_retries": resource.max_read_retries})
    with retry_when_retriable(context), OdooJson2Client(odoo) as client:
        summary = sync_stock(hub_store.store(), OdooStock(client), horizon_days=config.horizon_days)
    rows = sorted(summary.rows, key=lambda r: (_float(r["atp"]), str(r["sku"]), str(r["warehouse"])))
    table = [dg.TableRecord({
        "sku": str(row["sku"]), "warehouse": str(row["warehouse"]), "on_hand": _float(row["on_hand"]),
        "allocated": _float(row["allocated"]), "incoming": _float(row["incoming"]), "atp": _float(row["atp"]),
        "free_qty": _float(row["free_qty"]), "forecast": _float(row["virtual_available"]),
        "next_receipt": str(row["next_receipt"] or ""),
    }) for row in rows[:TABLE_ROWS]]
    return dg.MaterializeResult(metadata={
        "dagster/row_count": summary.levels,
        "warehouses": dg.MetadataValue.json(summary.warehouses),
        "skus": summary.skus,
        "negative_atp": summary.negative_atp,
        "horizon_days": config.horizon_days,
        "atp": dg.MetadataValue.table(table, schema=_ATP_SCHEMA),
    })


@dg.asset(group_name="inventory", kinds={"sql"}, owners=OWNERS, tags=QUEUE_UNTOUCHED, deps=[inventory_atp])
def inventory_allocations(config: AllocationConfig, hub_store: HubStoreResource) -> dg.MaterializeResult:
    """Each new order line allocated to a warehouse against ATP (stock first, then the partner's preferred
    warehouse, then the nearest), its partner's shortage policy applied; once per line (docs/inventory.md)."""
    store = hub_store.store()
    summary = allocate_orders(store, hub_store.partners(), since_days=config.since_days)
    with store.transaction() as conn:
        open_lines = allocation_counts(conn)
    return dg.MaterializeResult(metadata={
        "orders_allocated": summary.orders,
        "lines_by_outcome": dg.MetadataValue.json(outcome_counts(summary.lines)),
        "lines_by_warehouse": dg.MetadataValue.json(summary.by_warehouse),
        "open_allocations_by_outcome": dg.MetadataValue.json(outcome_counts(open_lines)),
    })


@dg.asset_check(asset=inventory_allocations, name="atp_not_negative")
def atp_not_negative(hub_store: HubStoreResource) -> dg.AssetCheckResult:
    """No SKU in a warehouse has more allocated than on hand plus incoming (the ERP's stock went down after)."""
    with hub_store.store().transaction() as conn:
        short = sorted((sku, code, quantity) for (sku, code), quantity in live_atp(conn).items() if quantity < 0)
    return dg.AssetCheckResult(
        passed=not short, severity=dg.AssetCheckSeverity.WARN,
        metadata={"over_allocated": dg.MetadataValue.json(
            [{"sku": sku, "warehouse": code, "atp": format(quantity.normalize(), "f")}
             for sku, code, quantity in short[:200]])},
        description=f"{len(short)} SKU/warehouse pair(s) allocated beyond their stock" if short else None,
    )


@dg.definitions
def inventory() -> dg.Definitions:
    """The two assets, the check, their job and schedule, and the inventory's ERP resource."""
    missing = tuple(name for name in ERP_ENV if not os.environ.get(name))
    job = dg.define_asset_job("inventory_job", selection=[inventory_atp, inventory_allocations], executor_def=EXECUTOR)
    return dg.Definitions(
        assets=[inventory_atp, inventory_allocations],
        asset_checks=[atp_not_negative],
        jobs=[job],
        schedules=[dg.ScheduleDefinition(
            name="inventory_every_15_minutes", job=job, cron_schedule="*/15 * * * *",
            default_status=dg.DefaultScheduleStatus.STOPPED if missing else dg.DefaultScheduleStatus.RUNNING,
            description=(f"Not started: {', '.join(missing)} not set in the code location's environment; set "
                         "them and reload the code location.") if missing else None)],
        resources={"erp_inventory": ErpResource.from_env("erp")},
    )
