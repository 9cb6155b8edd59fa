"""Orders in their targets: the push asset of a target, with its exactly-once check and pool.

One per target the partner profiles deliver to (``erp/component.py``): the Odoo ERP
(``erp_sales_orders``, resource ``erp``, pool ``erp``) unless profiles list others too.
"""


import datetime as dt

import dagster as dg

from hub import store as st
from hub.defs._policies import OWNERS, retry_when_retriable
from hub.defs.erp._drain import DEFAULT_BUDGET_S, drain_outbox
from hub.reconciliation import reconcile_target
from hub.targets import TargetKind

# Every target's push asset carries this tag: jobs that end in "deliver the orders" select them all.
DELIVERY_TAG = ("hub/stage", "delivery")
TARGET_ASSETS = dg.AssetSelection.tag(*DELIVERY_TAG)
# A run tagged so checks only the orders its push delivered (the intake jobs, the outbox sensor's and the
# backstop schedule's pushes); any other run of a push (a push launched by hand) checks every order.
CHECK_SCOPE_TAG, RUN_SCOPE = "hub/check_scope", "run"
# The push asset's metadata key the check reads its scope from: when this run's push began.
PUSHED_SINCE = "pushed_since"


def build_target_assets(
    name: str, kind: TargetKind, upstream: list[dg.AssetKey], partner_ids: list[str], *, pool: str | None = None,
    budget_s: float = DEFAULT_BUDGET_S,
) -> tuple[dg.AssetsDefinition, dg.AssetChecksDefinition]:
    """The push asset of target ``name`` (downstream of every intake asset, in ``pool``, default ``name``) and its
    check. The push drains the outbox for up to ``budget_s`` seconds (``HUB_PUSH_TIME_BUDGET_SECONDS``)."""
    asset_name = kind.asset_name(name)

    @dg.asset(name=asset_name, group_name=name, kinds={kind.kind}, deps=upstream, pool=pool or name, owners=OWNERS,
              tags=dict([DELIVERY_TAG]), required_resource_keys={"hub_store", name},
              description=f"Accepted production orders in {name} ({kind.description or kind.kind}): created, kept "
                          "up to date, cancelled; exactly once per order.")
    def push_to_target(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        store = context.resources.hub_store.store()
        connection = getattr(context.resources, name)
        instance = context.instance
        # Deliveries name this run; those left in flight by a run that ended (killed, crashed)
        # are taken back at once, due when a write it sent can no longer commit in the target.
        claimant = st.deliveries_claimed_by_run(context.run.run_id, lambda run_id: run_ended(instance, run_id),
                                                write_settle=connection.write_settle())
        started = st.utcnow()
        with retry_when_retriable(context), connection.target(name) as target, claimant:
            drained = drain_outbox(store, target, budget_s=budget_s)
        summary = drained.summary
        with store.transaction() as conn:
            states = st.deliveries_by_state(conn, name)
            delivered = st.deliveries_done_since(conn, name, started, limit=MAX_RECORD_LINKS)
        if drained.budget_spent:
            context.log.info(f"time budget of {budget_s:.0f} s spent after {drained.passes} passes; "
                             f"{states.get(st.PENDING, 0)} deliveries still due: the outbox sensor starts the "
                             "next push")
        return dg.MaterializeResult(
            metadata={
                PUSHED_SINCE: started.isoformat(),
                "passes": drained.passes,
                "budget_spent": drained.budget_spent,
                "due_left": states.get(st.PENDING, 0),
                # Our orders the target holds (deliveries done); the target's own count may differ by hand edits.
                "dagster/row_count": states.get(st.DONE, 0),
                **record_links(kind.kind, connection, delivered),
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

    @dg.asset_check(asset=push_to_target, name=f"{asset_name}_exactly_once",
                    required_resource_keys={"hub_store", name},
                    description=f"Every accepted production order for {name} is there exactly once, and every "
                                "cancelled one is cancelled there.")
    def exactly_once(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        since = pushed_since(context, push_to_target.key)
        with getattr(context.resources, name).target(name) as target:
            result = reconcile_target(context.resources.hub_store.store(), target, partner_ids=partner_ids,
                                      delivered_since=since)
        return dg.AssetCheckResult(
            passed=result.passed,
            metadata={
                # "run": the orders this run's push delivered (and concurrent pushes since it began); "all".
                "scope": "all" if since is None else RUN_SCOPE,
                "expected_orders": result.expected,
                "missing_count": len(result.missing),
                "doubled_count": len(result.doubled),
                "missing_po_numbers": dg.MetadataValue.json(result.missing[:500]),
                "doubled_po_numbers": dg.MetadataValue.json(result.doubled),
                "cancelled_orders": result.cancelled_expected,
                # The ERP's key, kept for its dashboards; the same list for every target.
                "cancelled_in_erp_po_numbers": dg.MetadataValue.json(result.cancelled_in_target[:500]),
                "not_cancelled_po_numbers": dg.MetadataValue.json(result.not_cancelled[:500]),
            },
            description=None if result.passed else
            f"{len(result.missing)} missing, {len(result.doubled)} doubled, {len(result.cancelled_in_target)} "
            f"cancelled in {name} only, {len(result.not_cancelled)} not cancelled in {name}",
        )

    return push_to_target, exactly_once


def pushed_since(context: dg.AssetCheckExecutionContext, asset_key: dg.AssetKey) -> dt.datetime | None:
    """When this run's push began, if the run is tagged to check only what it pushed; None: check everything.

    Read from this run's own materialization of the push asset (several runs may push at once).
    """
    if context.run.tags.get(CHECK_SCOPE_TAG) != RUN_SCOPE:
        return None
    events = context.instance.all_logs(context.run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    for event in reversed(events):
        materialization = event.asset_materialization
        if materialization is not None and materialization.asset_key == asset_key:
            entry = materialization.metadata.get(PUSHED_SINCE)
            return dt.datetime.fromisoformat(str(entry.value)) if entry is not None else None
    return None


# A run usually delivers the orders of one file; links beyond these are left out of the metadata.
MAX_RECORD_LINKS = 20


def record_links(kind: str, connection: object, delivered: list[st.DeliveredRecord]) -> dict[str, dg.MetadataValue]:
    """One link per record this run wrote in the target (``S00042 (PO 4500012345)``), where the target's URLs are known.

    Odoo 17.2 and later (18, 19) open a sale order form at ``<base>/odoo/sales/<id>``; ``base`` is the
    connection's ``base_url`` (``HUB_ERP_URL``), the same server the JSON-2 API answers on.
    """
    base = getattr(connection, "base_url", None)
    if kind != "odoo" or not base:
        return {}
    return {f"{d.record or d.record_id} (PO {d.order_ref})": dg.MetadataValue.url(
        f"{str(base).rstrip('/')}/odoo/sales/{d.record_id}") for d in delivered}


def run_ended(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Whether the Dagster run ``run_id`` is over (succeeded, failed, canceled); unknown runs are not."""
    run = instance.get_run_by_id(run_id)
    return run is not None and run.is_finished
