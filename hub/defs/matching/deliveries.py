"""``erp_deliveries``: the ERP's delivered quantities recorded as the shipment lines the daily match reads.

Every order delivered to the ERP target (its outbox delivery done) is looked up in a few calls (the
accounting target's ``delivered``: ``sale.order`` and ``sale.order.line`` ``search_read``); a line whose
delivered quantity changed is recorded in ``match_shipments`` (source ``erp_delivery``), dated the day
the change is seen. The on-change sensor then matches today's partition again.
"""


import os

import dagster as dg

from hub import store as st
from hub.defs._policies import EXECUTOR, OWNERS, retry_when_retriable
from hub.defs.resources import HubStoreResource
from hub.store._match_runs import record_delivered
from hub.targets import ERP_TARGET
from hub.targets.odoo._resource import ErpResource

SOURCE = "erp_delivery"
ERP_ENV = ("HUB_ERP_URL", "HUB_ERP_API_KEY")


@dg.asset(group_name="matching", kinds={"odoo"}, owners=OWNERS, tags={"hub/exception_queue": "untouched"},
          description="The ERP's delivered quantity per order line (qty_delivered) of the orders delivered to "
                      "it, recorded as shipment lines for the three-way match when they change.")
def erp_deliveries(context: dg.AssetExecutionContext, hub_store: HubStoreResource,
                   erp_deliveries: ErpResource) -> dg.MaterializeResult:
    """Record the delivered quantities that changed since the last run."""
    store = hub_store.store()
    with store.transaction() as conn:
        stored = [st.load_stored_order(conn, i) for i in st.delivered_order_ids(conn, ERP_TARGET)]
    with retry_when_retriable(context), erp_deliveries.accounting(ERP_TARGET) as target:
        quantities = target.delivered([order.order for order in stored])
    skus = {(o.order.partner_id, o.order.source_ref, line.line_no): line.sku or line.gtin or line.line_no
            for o in stored for line in o.order.lines}
    delivered = {key: {line_no: (skus.get((*key, line_no), line_no), quantity) for line_no, quantity in lines.items()}
                 for key, lines in quantities.items()}
    now = st.utcnow()
    with store.transaction() as conn:
        changed = record_delivered(conn, source=SOURCE, document=ERP_TARGET, delivered=delivered, on=now.date(),
                                   now=now)
    return dg.MaterializeResult(metadata={"orders": len(stored), "orders_in_erp": len(quantities),
                                          "lines_changed": changed, "dagster/row_count": changed})


@dg.definitions
def deliveries() -> dg.Definitions:
    """The feed, its job and hourly schedule (stopped while the ERP's variables are unset), its ERP resource."""
    missing = tuple(name for name in ERP_ENV if not os.environ.get(name))
    job = dg.define_asset_job("erp_deliveries_job", selection=[erp_deliveries], executor_def=EXECUTOR)
    schedule = dg.ScheduleDefinition(
        name="erp_deliveries_hourly", job=job, cron_schedule="20 * * * *",
        default_status=dg.DefaultScheduleStatus.STOPPED if missing else dg.DefaultScheduleStatus.RUNNING,
        description=(f"Not started: {', '.join(missing)} not set in the code location's environment."
                     if missing else "The ERP's delivered quantities for the three-way match, hourly."))
    return dg.Definitions(assets=[erp_deliveries], jobs=[job], schedules=[schedule],
                          resources={"erp_deliveries": ErpResource.from_env("erp")})
