"""``erp_catalogue`` (products, pricelist prices, customers' credit synced from the ERP) and ``pending_approvals``
(orders held by a validation rule: a table of customer, PO, rules broken and age), with their jobs and schedules.

The catalogue is read through its own resource ``erp_catalogue``, made from the Odoo target's
``HUB_ERP_*`` variables (resolved when a run starts): the definitions load whatever targets the
profiles list. Its schedule starts stopped while those variables are unset.
"""


import os
from collections import Counter

import dagster as dg
from pydantic import SecretStr

from connectors.erp import OdooConfig, OdooJson2Client
from hub import store as st
from hub.defs._policies import EXECUTOR, OWNERS, retry_when_retriable
from hub.defs.operations.assets import format_age
from hub.defs.resources import HubStoreResource
from hub.targets.odoo._resource import ErpResource
from hub.validation import sync_catalogue

ERP_ENV = ("HUB_ERP_URL", "HUB_ERP_API_KEY")
# Neither asset opens or closes an exception: they stay out of the exception queue's upstream and jobs.
QUEUE_UNTOUCHED = {"hub/exception_queue": "untouched"}
TABLE_ROWS = 200  # the UI renders a table whole: pending approvals beyond this are counted only

_TABLE_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("id", "int"), dg.TableColumn("customer", "string"), dg.TableColumn("po", "string"),
    dg.TableColumn("channel", "string"), dg.TableColumn("rules", "string", description="rules broken"),
    dg.TableColumn("findings", "string", description="rule, line: expected / found"),
    dg.TableColumn("age", "string"), dg.TableColumn("decide", "string"),
])


class CatalogueConfig(dg.Config):
    """The ERP company's currency: list prices and credit are in it (Odoo: the company's currency)."""

    company_currency: str = "USD"


@dg.asset(group_name="validation", kinds={"odoo"}, owners=OWNERS, tags=QUEUE_UNTOUCHED,
          required_resource_keys={"hub_store", "erp_catalogue"},
          description="The ERP's products (product.product by default_code, list price, packaging qty), the first "
                      "pricelist per currency and each partner's credit limit and open amount, as the validation "
                      "rules read them.")
def erp_catalogue(context: dg.AssetExecutionContext, config: CatalogueConfig) -> dg.MaterializeResult:
    """Sync the catalogue and the partners' credit from the ERP into the hub store."""
    hub_store = context.resources.hub_store
    resource: ErpResource = context.resources.erp_catalogue
    partner_ids = [profile.id for profile in hub_store.partners()]
    config_ = OdooConfig(database=resource.database or None, api_key=SecretStr(resource.api_key),
                         http={"base_url": resource.base_url, "max_retries": resource.max_read_retries})
    with retry_when_retriable(context), OdooJson2Client(config_) as client:
        summary = sync_catalogue(hub_store.store(), client, partner_ids=partner_ids,
                                 company_currency=config.company_currency)
    return dg.MaterializeResult(metadata={
        "dagster/row_count": summary.products,
        "products": summary.products,
        "packagings": summary.packagings,
        "pricelist_prices": summary.prices,
        "customers_with_credit": summary.customers,
        "customers_not_in_erp": dg.MetadataValue.json(summary.customers_not_found),
        "left_out": dg.MetadataValue.json(summary.left_out),
    })


@dg.asset(group_name="validation", kinds={"sql"}, owners=OWNERS, tags=QUEUE_UNTOUCHED)
def pending_approvals(hub_store: HubStoreResource) -> dg.MaterializeResult:
    """Orders held because they broke a validation rule: customer, PO, rules broken, age; decide with
    `hub approvals approve|reject ID --note TEXT` (docs/operations.md#approvals)."""
    now = st.utcnow()
    with hub_store.store().transaction() as conn:
        pending = st.list_approvals(conn, limit=10_000)
    table = [
        dg.TableRecord({
            "id": item.id, "customer": item.partner_id, "po": item.source_ref, "channel": item.source,
            "rules": ", ".join(dict.fromkeys(f["rule"] for f in item.findings)),
            "findings": "; ".join(f"{f['rule']}{' line ' + f['line'] if f['line'] else ''}: expected {f['expected']}"
                                  f" / found {f['found']}" for f in item.findings)[:500],
            "age": format_age(now - item.created_at), "decide": f"hub approvals show {item.id}",
        })
        for item in pending[:TABLE_ROWS]
    ]
    return dg.MaterializeResult(metadata={
        "pending": len(pending),
        "dagster/row_count": len(pending),
        "pending_approvals": dg.MetadataValue.table(table, schema=_TABLE_SCHEMA),
        "by_rule": dg.MetadataValue.json(dict(Counter(f["rule"] for item in pending for f in item.findings))),
        "by_customer": dg.MetadataValue.json(dict(Counter(item.partner_id for item in pending))),
    })


@dg.definitions
def catalogue() -> dg.Definitions:
    """The two assets, their jobs and schedules, and the catalogue's ERP resource."""
    missing = tuple(name for name in ERP_ENV if not os.environ.get(name))
    sync_job = dg.define_asset_job("erp_catalogue_sync", selection=[erp_catalogue], executor_def=EXECUTOR)
    approvals_job = dg.define_asset_job("pending_approvals_job", selection=[pending_approvals], executor_def=EXECUTOR)
    return dg.Definitions(
        assets=[erp_catalogue, pending_approvals],
        jobs=[sync_job, approvals_job],
        schedules=[
            dg.ScheduleDefinition(
                name="erp_catalogue_hourly", job=sync_job, cron_schedule="7 * * * *",
                default_status=dg.DefaultScheduleStatus.STOPPED if missing else dg.DefaultScheduleStatus.RUNNING,
                description=(f"Not started: {', '.join(missing)} not set in the code location's environment; set "
                             "them and reload the code location.") if missing else None),
            dg.ScheduleDefinition(name="pending_approvals_every_5_minutes", job=approvals_job,
                                  cron_schedule="*/5 * * * *", default_status=dg.DefaultScheduleStatus.RUNNING),
        ],
        resources={"erp_catalogue": ErpResource.from_env("erp")},
    )
