"""EDI over SFTP: the intake of partner files and the acks written back."""


import dagster as dg
from pydantic import Field
from sqlalchemy.exc import NoResultFound

from canonical.errors import ConfigurationError, RetriableError
from canonical.outcomes import ReceiptOutcome
from connectors.sftp import FileStillChanging, RemoteFileMissing
from hub import store as st
from hub.defs._policies import OWNERS, retry_when_retriable
from hub.defs._pools import sftp_pool, step_pool_slot
from hub.defs.resources import HubStoreResource, SftpResource
from hub.delivery import send_pending_acks
from hub.intake import SFTP_CHANNEL, IntakeSummary, archive_processed_file, process_x12_receipt
from hub.replay import replay_exception
from hub.sources import X12_SFTP


class EdiIntakeConfig(dg.Config):
    """Which receipts to process. Empty: every SFTP receipt still waiting (what a manual run wants)."""

    receipt_ids: list[int] = Field(default_factory=list)
    inbox_files: dict[str, list[int]] = Field(
        default_factory=dict,
        description="Receipt id -> [size, mtime] of the inbox file as the sensor read it. Only a file still "
        "exactly so is moved to the archive; without an entry the sensor archives it on a later tick.",
    )
    replay_exception_ids: list[int] = Field(
        default_factory=list, description="Exceptions to replay after a fix (see `hub exceptions list`)."
    )


# The run tag naming what became of the run's file(s): the Runs page filters on it.
OUTCOME_TAG = "hub/outcome"
FILES_ACCEPTED_CHECK = "edi_files_accepted"
# Worst first: a run of several files is tagged with the worst of their outcomes.
_OUTCOME_SEVERITY = [ReceiptOutcome.FAILED, ReceiptOutcome.NOT_X12, ReceiptOutcome.NOT_SHOPIFY,
                     ReceiptOutcome.NOT_AMAZON, ReceiptOutcome.REJECTED,
                     ReceiptOutcome.PARTIALLY_ACCEPTED, ReceiptOutcome.ACCEPTED_WITH_WARNINGS,
                     ReceiptOutcome.DUPLICATE, ReceiptOutcome.ACCEPTED]


@dg.asset(
    group_name="edi", kinds={"sftp", "x12"}, owners=OWNERS,
    check_specs=[dg.AssetCheckSpec(
        FILES_ACCEPTED_CHECK, asset="edi_inbound_orders",
        description="Every file of the run was accepted (with warnings at most) or was a duplicate; WARN when one was "
                    "rejected, partly rejected or not X12 (its exception is in the exception queue).")],
)
def edi_inbound_orders(
    context: dg.AssetExecutionContext, config: EdiIntakeConfig, hub_store: HubStoreResource, sftp: SftpResource
) -> dg.MaterializeResult:
    """Purchase orders (X12 850) from partner inboxes: validated, stored, acks queued, files archived."""
    with retry_when_retriable(context):
        return _intake(context, config, hub_store, sftp)


def _intake(
    context: dg.AssetExecutionContext, config: EdiIntakeConfig, hub_store: HubStoreResource, sftp: SftpResource
) -> dg.MaterializeResult:
    store, partners = hub_store.store(), hub_store.partners()
    receipt_ids = config.receipt_ids or _waiting_receipts(store)
    summaries: list[IntakeSummary] = []
    # Each partner's files under its own SFTP pool (sftp_<partner>): partners run side by side.
    for pool, group in _by_partner_pool(store, partners, receipt_ids).items():
        with step_pool_slot(context, pool):
            done = [_process_receipt(context, store, partners, receipt_id) for receipt_id in group]
            _archive_inbox_files(context, config, sftp, partners, done)
        summaries += done
    replays = [replay_exception(store, partners, exception_id) for exception_id in config.replay_exception_ids]
    for replay in replays:
        context.log.info(f"exception {replay.exception_id}: {replay.message}")
    if summaries:
        context.instance.add_run_tags(context.run.run_id, {OUTCOME_TAG: run_outcome(s.outcome for s in summaries)})
    check = files_accepted(summaries)
    if not check.passed:
        context.log.warning(check.description or "a file was not accepted")
    return dg.MaterializeResult(
        check_results=[check],
        metadata={
            "files": len(summaries),
            "receipt_ids": dg.MetadataValue.json([s.receipt_id for s in summaries]),
            "outcomes": dg.MetadataValue.json({str(s.receipt_id): s.outcome for s in summaries}),
            "orders_created": sum(s.orders_created for s in summaries),
            "orders_replaced": sum(s.orders_replaced for s in summaries),
            "orders_cancelled": sum(s.orders_cancelled for s in summaries),
            "exceptions": sum(len(s.exceptions) for s in summaries),
            "acks_queued": sum(len(s.acks_queued) for s in summaries),
            "replays": dg.MetadataValue.json([r.__dict__ for r in replays]),
        }
    )


def _process_receipt(context: dg.AssetExecutionContext, store: st.HubStore, partners, receipt_id: int
                     ) -> IntakeSummary:
    summary = process_x12_receipt(store, partners, receipt_id)
    context.log.info(
        f"receipt {summary.receipt_id} ({summary.partner_id}/{summary.source_name}): {summary.outcome}"
        + (f" - {summary.reason}" if summary.reason else "")
    )
    return summary


def _archive_inbox_files(context: dg.AssetExecutionContext, config: EdiIntakeConfig, sftp: SftpResource, partners,
                         summaries: list[IntakeSummary]) -> None:
    """Move the inbox files the sensor read (``inbox_files``) to the archive, in one SFTP session."""
    as_read = [(s, config.inbox_files[str(s.receipt_id)]) for s in summaries if str(s.receipt_id) in config.inbox_files]
    if not as_read:
        return
    with sftp.client() as client:
        for summary, (size, mtime) in as_read:
            profile = partners.get(summary.partner_id)
            try:
                # Moved only while it is still the file that was read: a new upload under the same
                # name (or one still growing) stays in the inbox for the sensor to take.
                archive_processed_file(client, profile, summary.source_name, expected=(size, mtime))
            except (FileStillChanging, RemoteFileMissing) as exc:
                context.log.info(f"receipt {summary.receipt_id}: inbox file left in place ({exc})")


def _by_partner_pool(store: st.HubStore, partners, receipt_ids: list[int]) -> dict[str, list[int]]:
    """The receipts grouped by the SFTP pool of their partner, in order (an unknown partner: pool ``sftp``)."""
    groups: dict[str, list[int]] = {}
    with store.transaction() as conn:
        for receipt_id in receipt_ids:
            try:
                partner_id = st.get_receipt(conn, receipt_id).partner_id
                pool = sftp_pool(partners.get(partner_id)) if partner_id else "sftp"
            except (NoResultFound, ConfigurationError):
                pool = "sftp"  # the intake itself says what is wrong with it
            groups.setdefault(pool, []).append(receipt_id)
    return groups


def run_outcome(outcomes) -> str:
    """The worst of a run's receipt outcomes (``_OUTCOME_SEVERITY``); an unknown one counts as failed."""
    ranks = [_OUTCOME_SEVERITY.index(o) if o in _OUTCOME_SEVERITY else 0 for o in outcomes]
    return str(_OUTCOME_SEVERITY[min(ranks)]) if ranks else str(ReceiptOutcome.ACCEPTED)


def files_accepted(summaries: list[IntakeSummary]) -> dg.AssetCheckResult:
    """The per-file check: passed when every file's outcome needs nobody, else WARN with the files that do.

    WARN, not ERROR: the file was handled as it should be (archived, acked back, in the exception
    queue), so the run succeeds, but it must not look like a clean one (docs/operations.md).
    """
    bad = [s for s in summaries if s.outcome not in X12_SFTP.clean_outcomes]
    files = [dg.TableRecord({"receipt": s.receipt_id, "file": s.source_name, "partner": s.partner_id,
                             "outcome": str(s.outcome), "reason": (s.reason or "")[:300],
                             "exceptions": ", ".join(map(str, s.exceptions))}) for s in summaries]
    return dg.AssetCheckResult(
        check_name=FILES_ACCEPTED_CHECK, passed=not bad, severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "files": dg.MetadataValue.table(files, schema=_FILES_SCHEMA),
            "not_accepted": len(bad),
        },
        description=None if not bad else "; ".join(
            f"{s.source_name} ({s.partner_id}): {s.outcome}" + (f" - {s.reason[:200]}" if s.reason else "")
            for s in bad[:20]),
    )


_FILES_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("receipt", "int"), dg.TableColumn("file", "string"), dg.TableColumn("partner", "string"),
    dg.TableColumn("outcome", "string"), dg.TableColumn("reason", "string"), dg.TableColumn("exceptions", "string"),
])


@dg.asset(group_name="edi", kinds={"sftp", "x12"}, deps=[edi_inbound_orders], owners=OWNERS)
def edi_functional_acks(
    context: dg.AssetExecutionContext, hub_store: HubStoreResource, sftp: SftpResource
) -> dg.MaterializeResult:
    """997 functional acks and TA1s written to partners' outbound folders, each exactly once.

    A partner's run (tag ``partner``) writes that partner's acks; a run without one writes every
    partner's. Each partner's under its SFTP pool (``sftp_<partner>``).
    """
    store, partners = hub_store.store(), hub_store.partners()
    tagged = context.run.tags.get("partner")
    if tagged:
        partner_ids = [tagged]
    else:
        with store.transaction() as conn:
            partner_ids = sorted({doc.partner_id for doc in st.pending_outbound(conn, limit=100_000)})
    written: list[str] = []
    unreachable: list[str] = []
    with retry_when_retriable(context):
        for partner_id in partner_ids:
            try:
                pool = sftp_pool(partners.get(partner_id))
            except ConfigurationError:
                pool = "sftp"  # a profile removed while its acks were queued: they wait, as without a pool
            try:
                with step_pool_slot(context, pool), sftp.client() as client:
                    written += send_pending_acks(store, partners, client, partner_id=partner_id)
            except RetriableError as exc:  # the other partners' acks are still written, then the step retries
                unreachable.append(f"{partner_id}: {exc}")
        if unreachable:
            raise RetriableError("; ".join(unreachable))
    return dg.MaterializeResult(metadata={"acks_written": len(written), "paths": dg.MetadataValue.json(written)})


@dg.asset_check(asset=edi_inbound_orders, blocking=True)
def edi_documents_accounted_for(
    context: dg.AssetCheckExecutionContext, hub_store: HubStoreResource
) -> dg.AssetCheckResult:
    """Every file of this run was processed, and every one not accepted whole is in the exception queue or was a
    duplicate.

    Only the run's own receipts can block its ERP push (ERROR); receipts of other runs left
    unexplained are reported as a warning, so one old file never stops every later one. Run on
    its own (no intake in the run, e.g. from the asset's Checks tab) it judges every receipt.
    """
    own = _receipts_of_this_run(context)
    with hub_store.store().transaction() as conn:
        unexplained = st.unexplained_receipts(conn, X12_SFTP.clean_outcomes)
        waiting = st.unprocessed_receipt_ids(conn)
    # A receipt this run was given but did not finish is as bad as an unexplained one; receipts
    # waiting for other runs are normal.
    mine = [r for r in unexplained if own is None or r["receipt"] in own]
    mine += [{"receipt": r, "outcome": None} for r in waiting if own is not None and r in own]
    elsewhere = [r for r in unexplained if own is not None and r["receipt"] not in own]
    return dg.AssetCheckResult(
        passed=not mine and not elsewhere,
        severity=dg.AssetCheckSeverity.WARN if elsewhere and not mine else dg.AssetCheckSeverity.ERROR,
        metadata={
            "receipts_checked": "all" if own is None else len(own),
            "waiting_receipts": len(waiting),
            "unexplained_receipts": dg.MetadataValue.json(mine[:500]),
            "unexplained_elsewhere": dg.MetadataValue.json(elsewhere[:500]),
        },
        description=None if not (mine or elsewhere) else
        f"{len(mine)} receipt(s) of this run and {len(elsewhere)} of other runs are unfinished or not explained "
        "by an exception",
    )


def _receipts_of_this_run(context: dg.AssetCheckExecutionContext) -> set[int] | None:
    """The receipts the intake asset processed in this run (its ``receipt_ids`` metadata); None if it did not run here.

    Read from this run's own events: with several intake runs at once, the asset's latest
    materialization may be another run's.
    """
    events = context.instance.all_logs(context.run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    for event in reversed(events):
        materialization = event.asset_materialization
        if materialization is not None and materialization.asset_key == edi_inbound_orders.key:
            entry = materialization.metadata.get("receipt_ids")
            return {int(r) for r in entry.value} if entry is not None else None
    return None


def _waiting_receipts(store: st.HubStore) -> list[int]:
    with store.transaction() as conn:
        return st.waiting_receipt_ids(conn, SFTP_CHANNEL)
