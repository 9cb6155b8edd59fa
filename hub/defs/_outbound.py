"""What the assets sending X12 documents to partners share (855, 810, 856, 846): writing the queued documents
over one SFTP connection, and a job with a schedule that starts stopped while its settings are missing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import dagster as dg

from hub.defs._policies import EXECUTOR, retry_when_retriable
from hub.defs.operations.assets import EXCEPTION_QUEUE
from hub.defs.resources import SftpResource
from hub.delivery import send_pending_acks
from hub.store import HubStore
from mappings.profiles import PartnerDirectory


def write_pending(context: dg.AssetExecutionContext, store: HubStore, partners: PartnerDirectory,
                  sftp: SftpResource, partner_ids: Iterable[str]) -> list[str]:
    """Write every document queued for these partners to their folders; no connection when there is none."""
    ids = list(partner_ids)
    written: list[str] = []
    if ids:
        with retry_when_retriable(context), sftp.client() as client:
            for partner_id in ids:
                written += send_pending_acks(store, partners, client, partner_id=partner_id)
    return written


def outbound_job_and_schedule(asset: str, *, cron: str, every: str, missing: Sequence[str],
                              exception_queue: bool = True) -> tuple[dg.UnresolvedAssetJobDefinition,
                                                                     dg.ScheduleDefinition]:
    """``<asset>_job`` (ending with the exception queue unless the asset stays out of it) and its schedule
    ``<asset>_every_<every>``, stopped while ``missing`` names settings it needs: every run would fail."""
    selection = dg.AssetSelection.assets(asset, EXCEPTION_QUEUE) if exception_queue else dg.AssetSelection.assets(asset)
    job = dg.define_asset_job(f"{asset}_job", selection=selection, tags={"hub/connector": "sftp"},
                              executor_def=EXECUTOR)
    schedule = dg.ScheduleDefinition(
        name=f"{asset}_every_{every}", job=job, cron_schedule=cron,
        default_status=dg.DefaultScheduleStatus.STOPPED if missing else dg.DefaultScheduleStatus.RUNNING,
        description=f"Not started: {', '.join(missing)} not set" if missing else None)
    return job, schedule
