"""Sync assets per account of every polled source, their jobs and schedules; the queue of every pushed source."""

import dagster as dg
from pydantic import Field

from hub import store as st
from hub.defs._policies import EXECUTOR, OWNERS, SYNC_FRESHNESS, retry_when_retriable
from hub.defs._reoffer import ReofferPolicy, receipts_to_offer_again
from hub.defs.edi.assets import OUTCOME_TAG, run_outcome
from hub.defs.erp.assets import CHECK_SCOPE_TAG, RUN_SCOPE, TARGET_ASSETS
from hub.defs.operations.assets import EXCEPTION_QUEUE
from hub.defs.resources import HubStoreResource
from hub.intake import ChannelSummary, process_queued_receipts, sync_orders, waiting_receipts
from hub.sources import SHOPIFY, PolledSource, QueuedSource
from mappings.profiles import ChannelSettings, PartnerProfile

# A queued webhook body whose runs all ended without processing it is offered again this long after
# the last one ended (Dagster's run retries and monitoring first), up to this many runs in all;
# then it goes to the exception queue (intake_not_finished).
WEBHOOK_REOFFER_GRACE = ReofferPolicy.grace
WEBHOOK_MAX_RUNS = ReofferPolicy.max_runs


def account_name(source: PolledSource, profile: PartnerProfile) -> str:
    """``<source>_<partner>``: the account's resource key, concurrency pool and job prefix."""
    return f"{source.name}_{profile.id}"


def sync_asset(source: PolledSource, profile: PartnerProfile, settings: ChannelSettings) -> dg.AssetsDefinition:
    """Orders of one account of a polled source, read incrementally since its cursor.

    It reads the account's resource under the account's own key (``account_name``), which the
    account's component binds (``channels/component.py``): a job that does not read this account
    does not need its secrets in the environment.
    """
    key = account_name(source, profile)

    @dg.asset(name=f"{source.name}_orders_{profile.id}", group_name=source.group, kinds={source.name}, pool=key,
              required_resource_keys={key, "hub_store"}, description=source.describe(profile, settings),
              owners=OWNERS, freshness_policy=SYNC_FRESHNESS)
    def _asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        resource = getattr(context.resources, key)
        with retry_when_retriable(context), resource.client() as client:
            result = sync_orders(context.resources.hub_store.store(), source, client, profile)
        return dg.MaterializeResult(metadata=result.metadata())

    return _asset


class WebhookBatchConfig(dg.Config):
    """Which queued bodies to process; empty: all still queued."""

    receipt_ids: list[int] = Field(default_factory=list)


def webhook_asset(source: QueuedSource = SHOPIFY) -> dg.AssetsDefinition:
    """Orders delivered by a source's webhooks (verified and queued by its receiver), e.g.
    ``shopify_webhook_orders``."""

    @dg.asset(name=f"{source.queue_channel}_orders", group_name=source.group, kinds={source.name},
              description=f"Orders from queued {source.queue_label} bodies; the same order from a sync or a retry "
                          "is stored once.", owners=OWNERS)
    def _asset(context: dg.AssetExecutionContext, config: WebhookBatchConfig,
               hub_store: HubStoreResource) -> dg.MaterializeResult:
        store, partners = hub_store.store(), hub_store.partners()
        summary = ChannelSummary()
        receipt_ids = config.receipt_ids or waiting_receipts(store, source.queue_channel)
        # One receipt that fails for any reason is queued as an exception; the others go on.
        with retry_when_retriable(context):
            process_queued_receipts(store, receipt_ids, source.mapper(partners), summary, partners=partners)
        if receipt_ids:  # tagged like a file's run: the worst outcome of its bodies
            with store.transaction() as conn:
                outcomes = [st.get_receipt(conn, receipt_id).outcome for receipt_id in receipt_ids]
            # A body another run holds has no outcome yet: that run tags it.
            if recorded := [outcome for outcome in outcomes if outcome]:
                context.instance.add_run_tags(context.run.run_id, {OUTCOME_TAG: run_outcome(recorded)})
        return dg.MaterializeResult(metadata={"webhooks": len(receipt_ids), **summary.metadata()})

    return _asset


def webhook_job(source: QueuedSource = SHOPIFY):
    """The job a queued body's run executes: its orders, then the ERP push (e.g. ``shopify_webhook_job``)."""
    return dg.define_asset_job(
        f"{source.queue_channel}_job",
        selection=dg.AssetSelection.assets(f"{source.queue_channel}_orders", EXCEPTION_QUEUE) | TARGET_ASSETS,
        description=f"Queued {source.queue_label} bodies to orders, then to the ERP; the exception queue as it now "
                    "is.",
        tags={"hub/connector": f"{source.name}_webhooks", CHECK_SCOPE_TAG: RUN_SCOPE}, executor_def=EXECUTOR,
    )


def webhook_queue_sensor(job_name: str, source: QueuedSource = SHOPIFY, *,
                         interval_seconds: int = 15) -> dg.SensorDefinition:
    """Asks for a run for each queued body, and again for one whose runs all ended unprocessed.

    The cursor is the highest receipt asked for; the first run key is ``webhook:<receipt>``, a
    receipt offered again (its run killed, lost, or failed after Dagster's own retries) gets
    ``webhook:<receipt>:retry-<runs so far>``, the same on every tick until a run for it exists.
    """
    channel, asset_name = source.queue_channel, f"{source.queue_channel}_orders"

    @dg.sensor(name=f"{channel}_queue", job_name=job_name, minimum_interval_seconds=interval_seconds,
               default_status=dg.DefaultSensorStatus.RUNNING)
    def _sensor(context: dg.SensorEvaluationContext, hub_store: HubStoreResource):
        store = hub_store.store()
        queued = waiting_receipts(store, channel)
        last = int(context.cursor or 0)
        new = [receipt_id for receipt_id in queued if receipt_id > last]
        if new:
            context.update_cursor(str(max(new)))
        requests = [_webhook_request(asset_name, receipt_id, f"webhook:{receipt_id}") for receipt_id in new]
        again = receipts_to_offer_again(
            context.instance, store, channel=channel, key_prefix="webhook", job_name=job_name,
            run_tags=lambda receipt: {"receipt": str(receipt.id)},
            describe=lambda receipt: f"{source.queue_label} '{receipt.source_name[:100]}'",
            document_ref=lambda receipt: receipt.source_name, skip=set(new),
            policy=ReofferPolicy(grace=WEBHOOK_REOFFER_GRACE, max_runs=WEBHOOK_MAX_RUNS),
        )
        requests += [_webhook_request(asset_name, offer.receipt.id, offer.run_key) for offer in again]
        return requests or dg.SkipReason("no queued webhooks")

    return _sensor


def _webhook_request(asset_name: str, receipt_id: int, run_key: str) -> dg.RunRequest:
    return dg.RunRequest(run_key=run_key, tags={"receipt": str(receipt_id)},
                         run_config={"ops": {asset_name: {"config": {"receipt_ids": [receipt_id]}}}})


def account_job_and_schedule(asset: dg.AssetsDefinition, account: str, cron: str = "*/5 * * * *",
                             missing_env: tuple[str, ...] = ()):
    """A job syncing one account then pushing to the ERP (then the exception queue as it now is), and its schedule.

    The schedule starts stopped when ``missing_env`` names variables the account's resource reads that are not
    set: every run would fail at start; its description says which, and it starts once they are set.
    """
    job = dg.define_asset_job(f"{account}_sync",
                              selection=dg.AssetSelection.assets(asset, EXCEPTION_QUEUE) | TARGET_ASSETS,
                              tags={"hub/connector": account, CHECK_SCOPE_TAG: RUN_SCOPE}, executor_def=EXECUTOR)
    schedule = dg.ScheduleDefinition(
        name=f"{account}_every_5_minutes", job=job, cron_schedule=cron,
        default_status=dg.DefaultScheduleStatus.STOPPED if missing_env else dg.DefaultScheduleStatus.RUNNING,
        description=(f"Not started: {', '.join(missing_env)} not set in the code location's environment; set them "
                     "and reload the code location.") if missing_env else None)
    return job, schedule
