"""One sensor per partner inbox: new files are archived and receipted, then a run is asked for."""


import json

import dagster as dg

from hub.defs.resources import HubStoreResource, SftpResource
from hub.errors import RetriableError
from hub.intake import poll_inbox
from mappings.profiles import PartnerProfile


def sftp_inbox_sensor(profile: PartnerProfile, job_name: str) -> dg.SensorDefinition:
    """The sensor watching ``profile``'s SFTP inbox.

    Its cursor maps the inbox's file names to (size, mtime) already receipted, so unchanged files are
    not downloaded again; the run key is derived from each file's content and name, so a re-tick
    never starts a second run for the same file.
    """

    @dg.sensor(
        name=f"sftp_inbox_{profile.id}",
        job_name=job_name,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=f"Watches {profile.name}'s SFTP inbox ({profile.sftp.inbox if profile.sftp else '-'}).",
        tags={"partner": profile.id},
    )
    def _sensor(context: dg.SensorEvaluationContext, hub_store: HubStoreResource, sftp: SftpResource):
        known = {name: tuple(value) for name, value in json.loads(context.cursor or "{}").items()}
        try:
            with sftp.client() as client:
                poll = poll_inbox(hub_store.store(), client, profile, max_bytes=hub_store.max_document_bytes,
                                  known=known)
        except RetriableError as exc:
            return dg.SkipReason(f"SFTP not reachable, will retry: {exc}")
        context.update_cursor(json.dumps({name: list(value) for name, value in sorted(poll.present.items())}))
        if not poll.new_files:
            return dg.SkipReason(f"no new files in {profile.id}'s inbox")
        return [
            dg.RunRequest(
                run_key=f"{profile.id}:{polled.run_key}",
                run_config={"ops": {"edi_inbound_orders": {"config": {"receipt_ids": [polled.receipt_id]}}}},
                tags={"partner": profile.id, "receipt": str(polled.receipt_id)},
            )
            for polled in poll.new_files
        ]

    return _sensor
