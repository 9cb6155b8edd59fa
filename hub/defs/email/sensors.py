"""A sensor per mailbox: when messages wait in it, a run of the account's sync job (``email_<partner>_sync``)."""

from __future__ import annotations

import dagster as dg

from hub.defs.channels.assets import account_name
from hub.sources import EMAIL
from mappings.email import EmailChannelSettings
from mappings.profiles import PartnerProfile


def mailbox_sensor(profile: PartnerProfile, settings: EmailChannelSettings) -> dg.SensorDefinition:
    """``email_inbox_<partner>``: looks every ``poll_seconds``; one run per new highest UID (the run key).

    The sensor only looks (UIDVALIDITY and the UIDs waiting); the run reads, commits and moves.
    Messages a run left behind (a failed move) are read again by the next new mail's run or by the
    account's backstop schedule, exactly once either way.
    """
    key = account_name(EMAIL, profile)

    @dg.sensor(name=f"email_inbox_{profile.id}", job_name=f"{key}_sync", minimum_interval_seconds=settings.poll_seconds,
               required_resource_keys={key}, default_status=dg.DefaultSensorStatus.RUNNING,
               description=f"New mail in {settings.mailbox} of {settings.username} at {settings.host} "
                           f"({profile.name}) asks for a sync run.")
    def _sensor(context: dg.SensorEvaluationContext):
        with getattr(context.resources, key).mailbox_client() as box:
            state = box.state()
            waiting = box.uids_after(0)
        if not waiting:
            return dg.SkipReason(f"no messages in {settings.mailbox}")
        run_key = f"email:{profile.id}:{state.uidvalidity}:{max(waiting)}"
        context.update_cursor(run_key)
        return dg.RunRequest(run_key=run_key, tags={"hub/connector": key, "hub/messages": str(len(waiting))})

    return _sensor
