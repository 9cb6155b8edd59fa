"""One sensor per partner inbox: finished files are archived and receipted, then a run is asked for.

It also offers again the receipts whose run ended without processing them (killed, lost, failed
after Dagster's own retries), so a file is never left behind because its cursor entry moved on.
"""

import datetime as dt

import dagster as dg

from canonical.errors import RetriableError
from connectors.sftp import display_name
from hub import store as st
from hub.defs._reoffer import ReofferPolicy, receipts_to_offer_again
from hub.defs.resources import HubStoreResource, SftpResource
from hub.intake import SFTP_CHANNEL, InboxCursor, poll_inbox
from hub.sources import X12_SFTP
from mappings.profiles import PartnerProfile

# A receipt is offered again only when no run for it is queued or running, none is waiting for
# Dagster's own retry, and the last one ended this long ago (or, with no run at all, it was received
# this long ago: the daemon may not have launched the first request yet).
UNFINISHED_RECEIPT_GRACE = dt.timedelta(minutes=10)
# Runs (ours and Dagster's retries) after which a receipt goes to the exception queue instead.
MAX_INTAKE_RUNS = 5


def sftp_inbox_sensor(profile: PartnerProfile, job_name: str, missing_env: tuple[str, ...] = ()) -> dg.SensorDefinition:
    """The sensor watching ``profile``'s SFTP inbox.

    Its cursor (``InboxCursor``) remembers files seen but not finished, files receipted (not
    downloaded again while unchanged) and quarantined entries. The run key is derived from each
    file's content and name, so a re-tick never starts a second run for the same file; a receipt
    offered again gets ``<partner>:<receipt>:retry-<runs so far>``, the same on every tick until
    a run for it exists. It starts stopped when ``missing_env`` names SFTP settings that are not set.
    """
    description = X12_SFTP.describe(profile, profile.channel(X12_SFTP.kind))
    if missing_env:
        description += (f" Not started: {', '.join(missing_env)} not set in the code location's environment; set "
                        "them and reload the code location.")

    @dg.sensor(
        name=f"sftp_inbox_{profile.id}",
        job_name=job_name,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED if missing_env else dg.DefaultSensorStatus.RUNNING,
        description=description,
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
    again = receipts_to_offer_again(
        instance, store, channel=SFTP_CHANNEL, partner_id=profile.id, key_prefix=profile.id,
        run_tags=lambda receipt: {"partner": profile.id, "receipt": str(receipt.id)},
        describe=lambda receipt: f"file '{display_name(receipt.source_name)}'",
        document_ref=lambda receipt: display_name(receipt.source_name, limit=120),
        skip=skip, policy=ReofferPolicy(grace=UNFINISHED_RECEIPT_GRACE, max_runs=MAX_INTAKE_RUNS),
    )
    return [_intake_request(profile, offer.receipt.id, offer.run_key) for offer in again]
