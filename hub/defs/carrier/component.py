"""The carrier targets the partner profiles list, as a component: a tracking poll per target.

Webhooks bring tracking status as it happens (``hub.webhooks``); a tracker no event touched for
``QUIET_HOURS`` (an event lost, the endpoint down longer than EasyPost retries) is retrieved by the
asset ``<name>_tracking``, run by ``<name>_tracking_job`` every hour. It uses the target's own
resource (``<name>``, bound by the partners component with the push asset) and ``hub_store``.
"""

import datetime as dt
import logging
from pathlib import Path

import dagster as dg

from canonical.errors import ConfigurationError
from hub.defs._policies import EXECUTOR, OWNERS
from hub.defs.partners.component import _PARTNERS_DIR  # the same profiles folder the partners component loads
from hub.settings import get_settings
from hub.targets import configured_targets
from hub.targets.carrier import EASYPOST, poll_stale_trackers
from mappings.profiles import PartnerDirectory

_log = logging.getLogger(__name__)

QUIET_HOURS = 6
"""Hours without a tracking update after which a tracker is retrieved rather than waited for."""


class TrackingConfig(dg.Config):
    """How quiet a tracker must have been to be polled."""

    quiet_hours: float = QUIET_HOURS


def tracking_defs(name: str) -> dg.Definitions:
    """The tracking asset, job and hourly schedule of carrier target ``name``."""

    @dg.asset(name=f"{name}_tracking", group_name=name, kinds={EASYPOST.kind}, pool=name, owners=OWNERS,
              required_resource_keys={"hub_store", name},
              description=f"Tracking status of the labels bought at {name}: trackers no webhook event updated "
                          f"for {QUIET_HOURS} hours, retrieved from the carrier.")
    def poll_trackers(context: dg.AssetExecutionContext, config: TrackingConfig) -> dg.MaterializeResult:
        connection = getattr(context.resources, name)
        with connection.client() as client:
            result = poll_stale_trackers(context.resources.hub_store.store(), client, name,
                                         quiet_for=dt.timedelta(hours=config.quiet_hours))
        return dg.MaterializeResult(metadata={"polled": result.polled, "updated": result.updated,
                                              "failed": result.failed})

    job = dg.define_asset_job(f"{name}_tracking_job", selection=dg.AssetSelection.assets(poll_trackers),
                              description=f"Retrieve the quiet trackers of {name}.", tags={"hub/connector": name},
                              executor_def=EXECUTOR)
    schedule = dg.ScheduleDefinition(name=f"{name}_tracking_hourly", job=job, cron_schedule="17 * * * *",
                                     default_status=dg.DefaultScheduleStatus.RUNNING)
    return dg.Definitions(assets=[poll_trackers], jobs=[job], schedules=[schedule])


class CarrierTracking(dg.Component, dg.Model, dg.Resolvable):
    """Every ``kind: easypost`` target of the profiles: its tracking poll."""

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """The polls, from the profiles as they are now."""
        partners = PartnerDirectory.load(_PARTNERS_DIR.get() or Path(get_settings().partners_dir))
        try:
            kinds = configured_targets(partners)
        except ConfigurationError as exc:  # the partners component reports it; no poll for a conflict
            _log.warning("carrier tracking polls not built: %s", exc)
            return dg.Definitions()
        names = sorted(name for name, kind in kinds.items() if kind.kind == EASYPOST.kind)
        return dg.Definitions.merge(*(tracking_defs(name) for name in names)) if names else dg.Definitions()
