"""Everything Dagster: assets, sensors, checks, jobs and resources. No business logic lives here."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from hub.defs.channels.assets import (
    account_job_and_schedule,
    amazon_sync_asset,
    shopify_sync_asset,
    webhook_asset,
    webhook_queue_sensor,
)
from hub.defs.edi.assets import edi_documents_accounted_for, edi_functional_acks, edi_inbound_orders
from hub.defs.edi.sensors import sftp_inbox_sensor
from hub.defs.erp.assets import TARGET_ASSETS, build_target_definitions
from hub.defs.operations import (
    exception_queue,
    exception_queue_job,
    exception_queue_schedule,
    no_exception_waits_over_a_day,
)
from hub.defs.resources import resources_from_env
from hub.settings import get_settings
from mappings.profiles import PartnerDirectory

edi_inbound_job = dg.define_asset_job(
    "edi_inbound_job",
    selection=dg.AssetSelection.assets(edi_inbound_orders, edi_functional_acks) | TARGET_ASSETS,
    description="One partner file: intake, acks back to the partner, orders to the ERP, checks.",
    tags={"hub/connector": "sftp"},
)
shopify_webhook_job = dg.define_asset_job(
    "shopify_webhook_job",
    selection=dg.AssetSelection.assets("shopify_webhook_orders") | TARGET_ASSETS,
    description="Queued Shopify webhook bodies to orders, then to the ERP.",
    tags={"hub/connector": "shopify_webhooks"},
)


def build_definitions(partners_dir: Path | None = None) -> dg.Definitions:
    """The hub's Definitions, built from the partner profiles.

    One SFTP inbox sensor per EDI partner; one sync asset, job and schedule per Shopify store and
    marketplace seller account, each with its own concurrency pool; the webhook queue sensor.
    """
    settings = get_settings()
    partners_dir = Path(partners_dir or settings.partners_dir)
    partners = PartnerDirectory.load(partners_dir)
    resources = resources_from_env(partners_dir, settings.max_document_bytes)

    channel_assets = []
    jobs = [edi_inbound_job, exception_queue_job]
    schedules = [exception_queue_schedule]
    for profile in partners:
        for section, make_asset in (("shopify", shopify_sync_asset), ("amazon", amazon_sync_asset)):
            if getattr(profile, section) is None:
                continue
            account = f"{section}_{profile.id}"
            asset = make_asset(profile)
            job, schedule = account_job_and_schedule(asset, account)
            channel_assets.append(asset)
            jobs.append(job)
            schedules.append(schedule)

    sensors = [sftp_inbox_sensor(profile, edi_inbound_job.name) for profile in partners if profile.sftp and profile.x12]
    webhooks = []
    if any(profile.shopify for profile in partners):
        webhooks = [webhook_asset()]
        jobs.append(shopify_webhook_job)
        sensors.append(webhook_queue_sensor(shopify_webhook_job.name))

    upstream = [edi_inbound_orders.key, *(a.key for a in channel_assets), *(a.key for a in webhooks)]
    targets = build_target_definitions(partners, upstream)
    return dg.Definitions(
        assets=[edi_inbound_orders, edi_functional_acks, *channel_assets, *webhooks, *targets.assets,
                exception_queue],
        asset_checks=[edi_documents_accounted_for, *targets.checks, no_exception_waits_over_a_day],
        jobs=[*jobs, *targets.jobs],
        sensors=sensors,
        schedules=[*schedules, *targets.schedules],
        resources={**resources, **targets.resources},
    )
