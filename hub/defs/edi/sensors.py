"""One sensor per partner inbox: finished files are archived and receipted, then a run is asked for.

It also offers again the receipts whose run ended without processing them (killed, lost, failed
after Dagster's own retries), so a file is never left behind because its cursor entry moved on.
"""

import datetime as dt

import dagster as dg

from hub import store as st
from hub.defs.resources import HubStoreResource, SftpResource
from hub.errors import RetriableError
from hub.intake import InboxCursor, gave_up_on, give_up_on_receipt, poll_inbox, unfinished_receipts
from mappings.profiles import PartnerProfile

# A receipt is offered again only when no run for it is queued or running, none is waiting for
# Dagster's own retry, and the last one ended this long ago (or, with no run at all, it was received
# this long ago: the daemon may not have launched the first request yet).
UNFINISHED_RECEIPT_GRACE = dt.timedelta(minutes=10)
# Runs (ours and Dagster's retries) after which a receipt goes to the exception queue instead.
MAX_INTAKE_RUNS = 5
_ENDED = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


def sftp_inbox_sensor(profile: PartnerProfile, job_name: str) -> dg.SensorDefinition:
    """The sensor watching ``profile``'s SFTP inbox.

    Its cursor (``InboxCursor``) remembers files seen but not finished, files receipted (not
    downloaded again while unchanged) and quarantined entries. The run key is derived from each
    file's content and name, so a re-tick never starts a second run for the same file; a receipt
    offered again gets ``<partner>:<receipt>:retry-<runs so far>``, the same on every tick until
    a run for it exists.
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
        store = hub_store.store()
        try:
            with sftp.client() as client:
                poll = poll_inbox(store, client, profile, max_bytes=hub_store.max_document_bytes,
                                  cursor=InboxCursor.load(context.cursor))
        except RetriableError as exc:
            return dg.SkipReason(f"SFTP not reachable, will retry: {exc}")
        context.update_cursor(poll.cursor.dump())
        requests = [
            _intake_request(profile, polled.receipt_id, f"{profile.id}:{polled.run_key}",
                            as_read=(polled.size, polled.mtime))
            for polled in poll.new_files
        ]
        new = {polled.receipt_id for polled in poll.new_files}
        requests += _unfinished_requests(context.instance, store, profile, skip=new)
        if not requests:
            return dg.SkipReason(f"no new files in {profile.id}'s inbox")
        return requests

    return _sensor


def _intake_request(
    profile: PartnerProfile, receipt_id: int, run_key: str, *, as_read: tuple[int, int] | None = None
) -> dg.RunRequest:
    config: dict = {"receipt_ids": [receipt_id]}
    if as_read is not None:
        config["inbox_files"] = {str(receipt_id): list(as_read)}
    return dg.RunRequest(
        run_key=run_key,
        run_config={"ops": {"edi_inbound_orders": {"config": config}}},
        tags={"partner": profile.id, "receipt": str(receipt_id)},
    )


def _unfinished_requests(
    instance: dg.DagsterInstance, store: st.HubStore, profile: PartnerProfile, *, skip: set[int]
) -> list[dg.RunRequest]:
    """Run requests for receipts whose runs all ended without processing them (after the grace period)."""
    now = st.utcnow()
    requests = []
    # A run ends after its receipt was made: receipts younger than the grace period cannot be due yet.
    for receipt in unfinished_receipts(store, profile.id, received_before=now - UNFINISHED_RECEIPT_GRACE):
        if receipt.id in skip:
            continue
        records = instance.get_run_records(dg.RunsFilter(tags={"partner": profile.id, "receipt": str(receipt.id)}))
        if any(r.dagster_run.status not in _ENDED or r.dagster_run.is_complete_and_waiting_to_retry
               for r in records):
            continue  # a run (or Dagster's retry of one) is on it: never double it
        last = max((_ended_at(r) for r in records), default=receipt.received_at)
        if now - last < UNFINISHED_RECEIPT_GRACE:
            continue
        if gave_up_on(store, receipt.id):
            continue
        if len(records) >= MAX_INTAKE_RUNS:
            give_up_on_receipt(store, receipt, attempts=len(records), now=now)
            continue
        requests.append(_intake_request(profile, receipt.id, f"{profile.id}:{receipt.id}:retry-{len(records)}"))
    return requests


def _ended_at(record) -> dt.datetime:
    if record.end_time is not None:
        return dt.datetime.fromtimestamp(record.end_time, tz=dt.UTC)
    return record.update_timestamp.astimezone(dt.UTC)
