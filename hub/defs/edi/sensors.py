"""One sensor per partner inbox: finished files are archived and receipted, then one run per tick is asked for.

The inbox is listed once per tick; every file that tick receipted goes into one run of the partner
(``receipt_ids``), up to ``max_files`` files a run (more runs beyond it). It also offers again the
receipts whose run ended without processing them (killed, lost, failed after Dagster's own
retries), so a file is never left behind because its cursor entry moved on.
"""

import datetime as dt
import hashlib
from collections.abc import Sequence

import dagster as dg

from canonical.errors import RetriableError
from connectors.sftp import display_name
from hub import store as st
from hub.defs._pools import sftp_pool
from hub.defs._reoffer import ReofferPolicy, receipt_tag, receipts_to_offer_again
from hub.defs.resources import HubStoreResource, SftpResource
from hub.intake import SFTP_CHANNEL, InboxCursor, PolledFile, poll_inbox
from hub.sources import X12_SFTP
from mappings.profiles import PartnerProfile

# A receipt is offered again only when no run for it is queued or running, none is waiting for
# Dagster's own retry, and the last one ended this long ago (or, with no run at all, it was received
# this long ago: the daemon may not have launched the first request yet).
UNFINISHED_RECEIPT_GRACE = dt.timedelta(minutes=10)
# Runs (ours and Dagster's retries) after which a receipt goes to the exception queue instead.
MAX_INTAKE_RUNS = 5
# Defaults of the settings HUB_SENSOR_INTERVAL_SECONDS and HUB_INTAKE_BATCH_MAX_FILES.
DEFAULT_INTERVAL_SECONDS = 15
DEFAULT_MAX_FILES = 50
# The run tag naming a run's receipts for people (alerts, the Runs page); ids only, never file names.
RECEIPTS_TAG = "receipt"


def sftp_inbox_sensor(profile: PartnerProfile, job_name: str, missing_env: tuple[str, ...] = (), *,
                      interval_seconds: int = DEFAULT_INTERVAL_SECONDS,
                      max_files: int = DEFAULT_MAX_FILES) -> dg.SensorDefinition:
    """The sensor watching ``profile``'s SFTP inbox, every ``interval_seconds``.

    Its cursor (``InboxCursor``) remembers files seen but not finished, files receipted (not
    downloaded again while unchanged) and quarantined entries. The files receipted on one tick make
    one run (``max_files`` at most; the rest make further runs of the same tick). A run's key is
    derived from its first file's content and name and how many files it carries, so a re-tick never
    starts a second run for the same files; receipts offered again go together under
    ``<partner>:retry:<digest of their ids and runs so far>``, the same on every tick until a run for
    them exists. Every run is tagged ``hub.receipt/<id>`` per receipt (how the offer-again logic
    finds a receipt's runs) and ``hub/connector=<the partner's pool>``. It starts stopped when
    ``missing_env`` names SFTP settings that are not set.
    """
    description = X12_SFTP.describe(profile, profile.channel(X12_SFTP.kind))
    if missing_env:
        description += (f" Not started: {', '.join(missing_env)} not set in the code location's environment; set "
                        "them and reload the code location.")

    @dg.sensor(
        name=f"sftp_inbox_{profile.id}",
        job_name=job_name,
        minimum_interval_seconds=interval_seconds,
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
        requests = [new_files_request(profile, batch) for batch in chunks(poll.new_files, max_files)]
        new = {polled.receipt_id for polled in poll.new_files}
        requests += _unfinished_requests(context.instance, store, profile, skip=new, max_files=max_files)
        if not requests:
            return dg.SkipReason(f"no new files in {profile.id}'s inbox")
        return requests

    return _sensor


def chunks(items: Sequence, size: int) -> list[Sequence]:
    """``items`` in runs of at most ``size``, in order."""
    return [items[start:start + size] for start in range(0, len(items), max(size, 1))]


def new_files_request(profile: PartnerProfile, files: Sequence[PolledFile]) -> dg.RunRequest:
    """One run for files receipted on this tick; its key: partner, first file's content and name, file count."""
    key = f"{profile.id}:{files[0].run_key}" + (f"+{len(files) - 1}" if len(files) > 1 else "")
    return intake_request(profile, [f.receipt_id for f in files], key,
                          as_read={f.receipt_id: (f.size, f.mtime) for f in files})


def intake_request(
    profile: PartnerProfile, receipt_ids: Sequence[int], run_key: str, *,
    as_read: dict[int, tuple[int, int]] | None = None,
) -> dg.RunRequest:
    """A run of ``edi_inbound_job`` for these receipts of the partner (``as_read``: inbox files to archive after)."""
    config: dict = {"receipt_ids": list(receipt_ids)}
    if as_read:
        config["inbox_files"] = {str(receipt_id): list(read) for receipt_id, read in as_read.items()}
    return dg.RunRequest(
        run_key=run_key,
        run_config={"ops": {"edi_inbound_orders": {"config": config}}},
        tags={"partner": profile.id, RECEIPTS_TAG: ",".join(map(str, receipt_ids)),
              "hub/connector": sftp_pool(profile), **{receipt_tag(r): "1" for r in receipt_ids}},
    )


def _unfinished_requests(
    instance: dg.DagsterInstance, store: st.HubStore, profile: PartnerProfile, *, skip: set[int], max_files: int
) -> list[dg.RunRequest]:
    """Runs for receipts whose runs all ended without processing them (after the grace period), batched."""
    again = receipts_to_offer_again(
        instance, store, channel=SFTP_CHANNEL, partner_id=profile.id, key_prefix=profile.id,
        # Runs before batching carried one receipt in the plain ``receipt`` tag: they count too.
        run_tags=lambda receipt: [{"partner": profile.id, receipt_tag(receipt.id): "1"},
                                  {"partner": profile.id, RECEIPTS_TAG: str(receipt.id)}],
        describe=lambda receipt: f"file '{display_name(receipt.source_name)}'",
        document_ref=lambda receipt: display_name(receipt.source_name, limit=120),
        skip=skip, policy=ReofferPolicy(grace=UNFINISHED_RECEIPT_GRACE, max_runs=MAX_INTAKE_RUNS),
    )
    requests = []
    for batch in chunks(again, max_files):
        if len(batch) == 1:
            key = batch[0].run_key  # <partner>:<receipt>:retry-<runs>, as before batching
        else:
            attempts = ",".join(f"{offer.receipt.id}-{offer.runs}" for offer in batch)
            key = f"{profile.id}:retry:{hashlib.sha256(attempts.encode()).hexdigest()[:16]}"
        requests.append(intake_request(profile, [offer.receipt.id for offer in batch], key))
    return requests
