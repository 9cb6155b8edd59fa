"""855s to partners that ask for them (``send_855`` in their x12_sftp channel), and their 997s followed.

One asset, its job and a schedule: every 15 minutes the partners' 997/999s for our 855s are matched,
an 855 is queued for each PO version the ERP is done with (once: unique per order revision), the
partners' pending outbound documents are written to their folders (validated against our maps
first, ``hub.delivery``), and 855s and 846s unanswered past the partner's ack SLA become ``ack_overdue``.
"""

import dagster as dg

from hub.defs._outbound import outbound_job_and_schedule, write_pending
from hub.defs._policies import OWNERS
from hub.defs.resources import HubStoreResource, SftpResource, missing_sftp_env
from hub.delivery._acks855 import (
    open_overdue_acks,
    open_overdue_outbound,
    orders_waiting_for_855,
    partners_sending_855,
    queue_po_acknowledgments,
    record_partner_functional_acks,
)

ASSET = "edi_po_acknowledgments"


@dg.asset(name=ASSET, group_name="edi", kinds={"sftp", "x12"}, pool="sftp", owners=OWNERS)
def edi_po_acknowledgments(
    context: dg.AssetExecutionContext, hub_store: HubStoreResource, sftp: SftpResource
) -> dg.MaterializeResult:
    """855 purchase order acknowledgments queued once per PO version and written to the partners' folders."""
    store, partners = hub_store.store(), hub_store.partners()
    summary = record_partner_functional_acks(store, partners)
    queue_po_acknowledgments(store, partners, summary=summary)
    # No connection to our SFTP server while no partner asks for 855s.
    written = write_pending(context, store, partners, sftp, (p.id for p in partners_sending_855(partners)))
    open_overdue_acks(store, summary=summary)
    # The 846 asset (group inventory) stays out of the exception queue's jobs: its overdue 997s are opened here.
    summary.overdue += open_overdue_outbound(store, ("846",))
    return dg.MaterializeResult(metadata={
        "queued_855": dg.MetadataValue.json(summary.queued),
        "invalid_855": dg.MetadataValue.json(summary.invalid),
        "functional_acks_matched": dg.MetadataValue.json(summary.functional_acks),
        "ack_overdue": dg.MetadataValue.json(summary.overdue),
        "documents_written": dg.MetadataValue.json(written),
    })


@dg.asset_check(asset=ASSET, name="every_order_acknowledged")
def every_order_acknowledged(hub_store: HubStoreResource) -> dg.AssetCheckResult:
    """Every order the ERP is done with has its 855, for every partner that asks for them (run after the asset)."""
    waiting = orders_waiting_for_855(hub_store.store(), hub_store.partners())
    return dg.AssetCheckResult(
        passed=not waiting, severity=dg.AssetCheckSeverity.WARN,
        metadata={"orders_without_855": dg.MetadataValue.json(waiting[:500])},
        description=f"{len(waiting)} order revision(s) done in the ERP have no 855 (see outbound_invalid exceptions)"
        if waiting else None,
    )


@dg.definitions
def po_acknowledgments() -> dg.Definitions:
    """The asset, its job (ending with the exception queue, downstream of it) and its schedule.

    The schedule is stopped while our SFTP server's settings are missing: every run would fail.
    """
    job, schedule = outbound_job_and_schedule(ASSET, cron="*/15 * * * *", every="15_minutes",
                                              missing=missing_sftp_env())
    return dg.Definitions(assets=[edi_po_acknowledgments], asset_checks=[every_order_acknowledged], jobs=[job],
                          schedules=[schedule])
