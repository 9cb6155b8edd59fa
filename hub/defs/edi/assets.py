"""EDI over SFTP: the intake of partner files and the acks written back."""


import dagster as dg
from pydantic import Field
from sqlalchemy import select

from hub import store as st
from hub.delivery import send_pending_acks
from hub.defs.resources import HubStoreResource, SftpResource
from hub.intake import IntakeSummary, archive_processed_file, process_x12_receipt
from hub.replay import replay_exception


class EdiIntakeConfig(dg.Config):
    """Which receipts to process. Empty: every SFTP receipt still waiting (what a manual run wants)."""

    receipt_ids: list[int] = Field(default_factory=list)
    replay_exception_ids: list[int] = Field(
        default_factory=list, description="Exceptions to replay after a fix (see `hub exceptions list`)."
    )


@dg.asset(group_name="edi", kinds={"sftp", "x12"}, pool="sftp")
def edi_inbound_orders(
    context: dg.AssetExecutionContext, config: EdiIntakeConfig, hub_store: HubStoreResource, sftp: SftpResource
) -> dg.MaterializeResult:
    """Purchase orders (X12 850) from partner inboxes: validated, stored, acks queued, files archived."""
    store, partners = hub_store.store(), hub_store.partners()
    receipt_ids = config.receipt_ids or _waiting_receipts(store)
    summaries: list[IntakeSummary] = []
    for receipt_id in receipt_ids:
        summary = process_x12_receipt(store, partners, receipt_id)
        summaries.append(summary)
        context.log.info(
            f"receipt {summary.receipt_id} ({summary.partner_id}/{summary.source_name}): {summary.outcome}"
            + (f" - {summary.reason}" if summary.reason else "")
        )
    replays = [replay_exception(store, partners, exception_id) for exception_id in config.replay_exception_ids]
    for replay in replays:
        context.log.info(f"exception {replay.exception_id}: {replay.message}")
    if summaries:
        with sftp.client() as client:
            for summary in summaries:
                profile = partners.get(summary.partner_id)
                names = {f.name for f in client.list_files(profile.sftp.inbox)} if profile.sftp else set()
                if summary.source_name in names:
                    archive_processed_file(client, profile, summary.source_name)
    return dg.MaterializeResult(
        metadata={
            "files": len(summaries),
            "outcomes": dg.MetadataValue.json({str(s.receipt_id): s.outcome for s in summaries}),
            "orders_created": sum(s.orders_created for s in summaries),
            "orders_replaced": sum(s.orders_replaced for s in summaries),
            "orders_cancelled": sum(s.orders_cancelled for s in summaries),
            "exceptions": sum(len(s.exceptions) for s in summaries),
            "acks_queued": sum(len(s.acks_queued) for s in summaries),
            "replays": dg.MetadataValue.json([r.__dict__ for r in replays]),
        }
    )


@dg.asset(group_name="edi", kinds={"sftp", "x12"}, deps=[edi_inbound_orders], pool="sftp")
def edi_functional_acks(hub_store: HubStoreResource, sftp: SftpResource) -> dg.MaterializeResult:
    """997 functional acks and TA1s written to partners' outbound folders, each exactly once."""
    store, partners = hub_store.store(), hub_store.partners()
    with sftp.client() as client:
        written = send_pending_acks(store, partners, client)
    return dg.MaterializeResult(metadata={"acks_written": len(written), "paths": dg.MetadataValue.json(written)})


@dg.asset_check(asset=edi_inbound_orders, blocking=True)
def edi_documents_accounted_for(hub_store: HubStoreResource) -> dg.AssetCheckResult:
    """Every received file was processed, and every one not accepted whole is in the exception queue or was a duplicate."""
    receipts, exceptions = st.tables.receipts, st.tables.exceptions
    with hub_store.store().transaction() as conn:
        waiting = conn.execute(select(receipts.c.id).where(receipts.c.state != "processed")).scalars().all()
        unexplained = conn.execute(
            select(receipts.c.id, receipts.c.outcome).where(
                (receipts.c.state == "processed")
                & receipts.c.outcome.not_in(["accepted", "accepted_with_warnings", "duplicate"])
                & ~select(exceptions.c.id).where(exceptions.c.receipt_id == receipts.c.id).exists()
            )
        ).all()
    return dg.AssetCheckResult(
        passed=not unexplained,
        metadata={
            "waiting_receipts": len(waiting),
            "unexplained_receipts": dg.MetadataValue.json([{"receipt": r.id, "outcome": r.outcome} for r in unexplained]),
        },
    )


def _waiting_receipts(store: st.HubStore) -> list[int]:
    receipts = st.tables.receipts
    with store.transaction() as conn:
        return list(
            conn.execute(
                select(receipts.c.id)
                .where((receipts.c.state == "received") & (receipts.c.channel == "sftp"))
                .order_by(receipts.c.id)
            ).scalars()
        )
