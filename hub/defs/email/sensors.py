"""A sensor per mailbox: when messages wait in it, a run of the account's sync job (``email_<partner>_sync``)."""

from __future__ import annotations

import dagster as dg

from canonical.errors import RetriableError
from hub.defs.channels.assets import account_name
from hub.sources import EMAIL
from mappings.email import EmailChannelSettings
from mappings.profiles import PartnerProfile


def mailbox_sensor(profile: PartnerProfile, settings: EmailChannelSettings,
                   missing_env: tuple[str, ...] = ()) -> dg.SensorDefinition:
    """``email_inbox_<partner>``: looks every ``poll_seconds``; one run per new highest UID (the run key).

    The sensor only looks (UIDVALIDITY and the UIDs waiting); the run reads, commits and moves.
    Messages a run left behind (a failed move) are read again by the next new mail's run or by the
    account's backstop schedule, exactly once either way. It starts stopped when ``missing_env``
    names the mailbox's secrets that are not set (every tick would fail).
    """
    key = account_name(EMAIL, profile)
    description = (f"New mail in {settings.mailbox} of {settings.username} at {settings.host} ({profile.name}) "
                   "asks for a sync run.")
    if missing_env:
        description += (f" Not started: {', '.join(missing_env)} not set in the code location's environment; set "
                        "them and reload the code location.")

    @dg.sensor(name=f"email_inbox_{profile.id}", job_name=f"{key}_sync", minimum_interval_seconds=settings.poll_seconds,
               required_resource_keys={key}, description=description, tags={"partner": profile.id},
               default_status=dg.DefaultSensorStatus.STOPPED if missing_env else dg.DefaultSensorStatus.RUNNING)
    def _sensor(context: dg.SensorEvaluationContext):
        try:
            with getattr(context.resources, key).mailbox_client() as box:
                state = box.state()
                waiting = box.uids_after(0)
        except RetriableError as exc:
            return dg.SkipReason(f"mailbox not reachable, will retry: {exc}")
        if not waiting:
            return dg.SkipReason(f"no messages in {settings.mailbox}")
        run_key = f"email:{profile.id}:{state.uidvalidity}:{max(waiting)}"
        context.update_cursor(run_key)
        return dg.RunRequest(run_key=run_key, tags={"hub/connector": key, "hub/messages": str(len(waiting))})

    return _sensor
