"""Sync assets per account, their jobs and schedules, and the Shopify webhook queue."""

import dagster as dg
from pydantic import Field

from hub.defs.channels.resources import amazon_resource, shopify_resource
from hub.defs.resources import HubStoreResource
from hub.intake import ChannelSummary, process_queued_receipts, sync_amazon_orders, sync_shopify_orders, waiting_receipts
from mappings.profiles import PartnerProfile

WEBHOOK_CHANNEL = "shopify_webhook"


def shopify_sync_asset(profile: PartnerProfile) -> dg.AssetsDefinition:
    """Orders of one Shopify store, read incrementally by updated_at.

    The store's resource is bound to this asset alone: a job that does not read this store does not
    need its secrets in the environment.
    """
    key = f"shopify_{profile.id}"

    @dg.asset(name=f"shopify_orders_{profile.id}", group_name="shopify", kinds={"shopify"}, pool=key,
              required_resource_keys={key, "hub_store"}, resource_defs={key: shopify_resource(profile)},
              description=f"Orders of {profile.name} ({profile.shopify.shop_domain}) by updated_at, with lookback.")
    def _asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        resource = getattr(context.resources, key)
        with resource.client() as client:
            result = sync_shopify_orders(context.resources.hub_store.store(), client, profile)
        return dg.MaterializeResult(metadata=result.metadata())

    return _asset


def amazon_sync_asset(profile: PartnerProfile) -> dg.AssetsDefinition:
    """Orders of one marketplace seller account, read incrementally by LastUpdateDate."""
    key = f"amazon_{profile.id}"

    @dg.asset(name=f"amazon_orders_{profile.id}", group_name="marketplaces", kinds={"amazon"}, pool=key,
              required_resource_keys={key, "hub_store"}, resource_defs={key: amazon_resource(profile)},
              description=f"Orders of {profile.name} (seller {profile.amazon.seller_id}) by LastUpdateDate.")
    def _asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        resource = getattr(context.resources, key)
        with resource.client() as client:
            result = sync_amazon_orders(context.resources.hub_store.store(), client, profile)
        return dg.MaterializeResult(metadata=result.metadata())

    return _asset


class WebhookBatchConfig(dg.Config):
    """Which queued webhook bodies to process; empty: all still queued."""

    receipt_ids: list[int] = Field(default_factory=list)


def webhook_asset() -> dg.AssetsDefinition:
    """Orders delivered by Shopify webhooks (verified and queued by the webhook endpoint)."""

    @dg.asset(name="shopify_webhook_orders", group_name="shopify", kinds={"shopify"})
    def shopify_webhook_orders(config: WebhookBatchConfig, hub_store: HubStoreResource) -> dg.MaterializeResult:
        """Orders from queued Shopify webhook bodies; the same order from a sync or a retry is stored once."""
        from mappings.shopify import map_shopify_orders

        store, partners = hub_store.store(), hub_store.partners()
        summary = ChannelSummary()
        receipt_ids = config.receipt_ids or waiting_receipts(store, WEBHOOK_CHANNEL)
        # One receipt that fails for any reason is queued as an exception; the others go on.
        process_queued_receipts(
            store, receipt_ids,
            lambda raw, sha, receipt: map_shopify_orders(raw, profile=partners.get(receipt.partner_id),
                                                         raw_document_id=sha),
            summary,
        )
        return dg.MaterializeResult(metadata={"webhooks": len(receipt_ids), **summary.metadata()})

    return shopify_webhook_orders


def webhook_queue_sensor(job_name: str) -> dg.SensorDefinition:
    """Asks for a run for each queued webhook body (run key = its receipt: never processed twice)."""

    @dg.sensor(name="shopify_webhook_queue", job_name=job_name, minimum_interval_seconds=30,
               default_status=dg.DefaultSensorStatus.RUNNING)
    def _sensor(context: dg.SensorEvaluationContext, hub_store: HubStoreResource):
        queued = waiting_receipts(hub_store.store(), WEBHOOK_CHANNEL)
        last = int(context.cursor or 0)
        new = [receipt_id for receipt_id in queued if receipt_id > last]
        if not new:
            return dg.SkipReason("no queued webhooks")
        context.update_cursor(str(max(new)))
        return [dg.RunRequest(run_key=f"webhook:{receipt_id}", tags={"receipt": str(receipt_id)},
                              run_config={"ops": {"shopify_webhook_orders": {"config": {"receipt_ids": [receipt_id]}}}})
                for receipt_id in new]

    return _sensor


def account_job_and_schedule(asset: dg.AssetsDefinition, account: str, cron: str = "*/5 * * * *"):
    """A job syncing one account then pushing to the ERP, and its schedule."""
    job = dg.define_asset_job(f"{account}_sync", selection=dg.AssetSelection.assets(asset, "erp_sales_orders"),
                              tags={"hub/connector": account})
    schedule = dg.ScheduleDefinition(name=f"{account}_every_5_minutes", job=job, cron_schedule=cron,
                                     default_status=dg.DefaultScheduleStatus.RUNNING)
    return job, schedule


