"""810 Invoices to partners that ask for them (``send_810`` in their x12_sftp channel), and their 997s followed.

One asset, its job and a schedule: every 15 minutes an 810 is queued for each invoice or credit note posted
in accounting (``<target>_invoices``; a held invoice is not posted, so it waits), the partners' pending
outbound documents are written to their folders (validated against our maps first, ``hub.delivery``), and
810s unanswered past the partner's ack SLA become ``ack_overdue``. The partners' 997s are matched by the
intake as they arrive.
"""

import dagster as dg

from hub.defs._outbound import outbound_job_and_schedule, write_pending
from hub.defs._policies import OWNERS
from hub.defs.resources import HubStoreResource, SftpResource, missing_sftp_env
from hub.delivery._invoices810 import (
    invoices_waiting_for_810,
    open_overdue_invoice_acks,
    partners_sending_810,
    queue_invoices_810,
)

ASSET = "edi_invoices_810"


@dg.asset(name=ASSET, group_name="edi", kinds={"sftp", "x12"}, pool="sftp", owners=OWNERS)
def edi_invoices_810(
    context: dg.AssetExecutionContext, hub_store: HubStoreResource, sftp: SftpResource
) -> dg.MaterializeResult:
    """810 invoices queued once per posted accounting invoice and written to the partners' folders."""
    store, partners = hub_store.store(), hub_store.partners()
    summary = queue_invoices_810(store, partners)
    # No connection to our SFTP server while no partner asks for 810s.
    written = write_pending(context, store, partners, sftp, (p.id for p in partners_sending_810(partners)))
    open_overdue_invoice_acks(store, summary=summary)
    return dg.MaterializeResult(metadata={
        "queued_810": dg.MetadataValue.json(summary.queued),
        "invalid_810": dg.MetadataValue.json(summary.invalid),
        "ack_overdue": dg.MetadataValue.json(summary.overdue),
        "documents_written": dg.MetadataValue.json(written),
    })


@dg.asset_check(asset=ASSET, name="every_posted_invoice_sent_as_810")
def every_posted_invoice_sent_as_810(hub_store: HubStoreResource) -> dg.AssetCheckResult:
    """Every invoice posted for a partner that asks for 810s has its 810 (run after the asset)."""
    waiting = invoices_waiting_for_810(hub_store.store(), hub_store.partners())
    return dg.AssetCheckResult(
        passed=not waiting, severity=dg.AssetCheckSeverity.WARN,
        metadata={"invoices_without_810": dg.MetadataValue.json(waiting[:500])},
        description=f"{len(waiting)} posted invoice(s) have no 810 (see outbound_invalid exceptions)"
        if waiting else None,
    )


@dg.definitions
def invoices_810() -> dg.Definitions:
    """The asset, its job (ending with the exception queue, downstream of it) and its schedule.

    The schedule is stopped while our SFTP server's settings are missing: every run would fail.
    """
    job, schedule = outbound_job_and_schedule(ASSET, cron="*/15 * * * *", every="15_minutes",
                                              missing=missing_sftp_env())
    return dg.Definitions(assets=[edi_invoices_810], asset_checks=[every_posted_invoice_sent_as_810], jobs=[job],
                          schedules=[schedule])
