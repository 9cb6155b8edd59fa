"""Everything Dagster: assets, sensors, checks, jobs and resources. No business logic lives here."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from hub.defs.channels.assets import (
    account_job_and_schedule,
    account_name,
    sync_asset,
    webhook_asset,
    webhook_job,
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
from hub.sources import FolderSource, PolledSource, QueuedSource, accounts, get_source
from mappings.profiles import PartnerDirectory

edi_inbound_job = dg.define_asset_job(
    "edi_inbound_job",
    selection=dg.AssetSelection.assets(edi_inbound_orders, edi_functional_acks) | TARGET_ASSETS,
    description="One partner file: intake, acks back to the partner, orders to the ERP, checks.",
    tags={"hub/connector": "sftp"},
)


def build_definitions(partners_dir: Path | None = None) -> dg.Definitions:
    """The hub's Definitions, built from the partner profiles and the registered sources (``hub.sources``).

    Per channel of a profile, by what its source is: an SFTP inbox sensor (a folder source), or a
    sync asset, job and schedule with its own concurrency pool (a polled source); the queue asset,
    job and sensor of each source that has bodies pushed to it (Shopify's webhooks) and an account.
    A profile file that cannot be loaded leaves its partner out, is logged by the loader, and is
    listed in the definitions' metadata (``partner_profile_problems``).
    """
    settings = get_settings()
    partners_dir = Path(partners_dir or settings.partners_dir)
    partners = PartnerDirectory.load(partners_dir)
    resources = resources_from_env(partners_dir, settings.max_document_bytes)

    channel_assets = []
    jobs = [edi_inbound_job, exception_queue_job]
    schedules = [exception_queue_schedule]
    sensors = []
    kinds = set()
    for source, profile, channel in accounts(partners):
        kinds.add(source.kind)
        if isinstance(source, PolledSource):
            asset = sync_asset(source, profile, channel)
            job, schedule = account_job_and_schedule(asset, account_name(source, profile), source.cron)
            channel_assets.append(asset)
            jobs.append(job)
            schedules.append(schedule)
        elif isinstance(source, FolderSource) and source.folders(channel) is not None:
            sensors.append(sftp_inbox_sensor(profile, edi_inbound_job.name))

    webhooks = []
    for kind in sorted(kinds):  # a queue per source that has bodies pushed to us and an account listed
        source = get_source(kind)
        if isinstance(source, QueuedSource):
            job = webhook_job(source)
            webhooks.append(webhook_asset(source))
            jobs.append(job)
            sensors.append(webhook_queue_sensor(job.name, source))

    upstream = [edi_inbound_orders.key, *(a.key for a in channel_assets), *(a.key for a in webhooks)]
    targets = build_target_definitions(partners, upstream)
    problems = [str(problem) for problem in partners.problems]
    return dg.Definitions(
        assets=[edi_inbound_orders, edi_functional_acks, *channel_assets, *webhooks, *targets.assets,
                exception_queue],
        asset_checks=[edi_documents_accounted_for, *targets.checks, no_exception_waits_over_a_day],
        jobs=[*jobs, *targets.jobs],
        sensors=sensors,
        schedules=[*schedules, *targets.schedules],
        resources={**resources, **targets.resources},
        metadata={"partner_profile_problems": dg.MetadataValue.json(problems)} if problems else {},
    )
