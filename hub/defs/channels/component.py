"""One component per store or seller account of a polled source, and one per source that has bodies pushed to it."""

import logging
from dataclasses import dataclass

import dagster as dg

from hub.defs.channels.assets import (
    account_job_and_schedule,
    account_name,
    sync_asset,
    webhook_asset,
    webhook_job,
    webhook_queue_sensor,
)
from hub.defs.resources import unset_env_vars
from hub.sources import PolledSource, QueuedSource
from mappings.profiles import ChannelSettings, PartnerProfile

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PolledAccount(dg.Component):
    """One account of a polled source (a Shopify store, a marketplace seller account...).

    Its sync asset (``<source>_orders_<partner>``), job (``<source>_<partner>_sync``, then the push to
    every target) and schedule, and its API resource bound under the account's own key
    (``<source>_<partner>``, also its concurrency pool). The resource's secrets are ``EnvVar``s the
    profile names, resolved when a run of this account starts: one account's missing secret does not
    stop the definitions from loading nor another account's runs, and its schedule starts stopped.
    """

    source: PolledSource
    profile: PartnerProfile
    settings: ChannelSettings

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """The account's asset, job, schedule and resource."""
        key = account_name(self.source, self.profile)
        asset = sync_asset(self.source, self.profile, self.settings)
        resource = self.source.account_resource(self.settings)
        missing = unset_env_vars(resource)
        if missing:
            _log.warning("schedule %s_every_5_minutes not started: %s not set", key, ", ".join(missing))
        job, schedule = account_job_and_schedule(asset, key, self.source.cron, missing_env=missing)
        return dg.Definitions(assets=[asset], jobs=[job], schedules=[schedule], resources={key: resource})


@dataclass(frozen=True)
class PushedSource(dg.Component):
    """A source that has bodies pushed to it (Shopify's webhooks), with at least one account in the profiles.

    Its queue asset (``<queue>_orders``), the job a queued body's run executes (``<queue>_job``) and the
    sensor asking for those runs (``<queue>_queue``).
    """

    source: QueuedSource
    interval_seconds: int = 15
    """How often the queue sensor looks (``HUB_SENSOR_INTERVAL_SECONDS``)."""

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """The source's queue asset, job and sensor."""
        job = webhook_job(self.source)
        return dg.Definitions(assets=[webhook_asset(self.source)], jobs=[job],
                              sensors=[webhook_queue_sensor(job.name, self.source,
                                                            interval_seconds=self.interval_seconds)])
