"""What ops engineers watch: the exception queue as an asset, with a check on how long items wait."""

import datetime as dt
from collections import Counter

import dagster as dg

from hub import store as st
from hub.defs.resources import HubStoreResource

STALE_AFTER = dt.timedelta(hours=24)


@dg.asset(group_name="operations", kinds={"sqlite", "postgres"})
def exception_queue(hub_store: HubStoreResource) -> dg.MaterializeResult:
    """Open exceptions by kind and partner, the newest listed with their reason and location.

    Replay one after a fix with `hub exceptions replay ID` or by launching `edi_inbound_job` with
    `replay_exception_ids` (docs/operations.md).
    """
    with hub_store.store().transaction() as conn:
        open_items = st.list_exceptions(conn, state=st.OPEN, limit=10_000)
    rows = ["| id | partner | kind | where | reason |", "|---|---|---|---|---|"]
    for item in open_items[:50]:
        where = (item.location or item.document_ref or "").replace("|", "/")
        reason = item.reason.replace("|", "/")[:160]
        rows.append(f"| {item.id} | {item.partner_id or '-'} | {item.kind} | {where} | {reason} |")
    return dg.MaterializeResult(metadata={
        "open": len(open_items),
        "by_kind": dg.MetadataValue.json(dict(Counter(i.kind for i in open_items))),
        "by_partner": dg.MetadataValue.json(dict(Counter(i.partner_id or "-" for i in open_items))),
        "newest": dg.MetadataValue.md("\n".join(rows) if open_items else "The queue is empty."),
    })


@dg.asset_check(asset=exception_queue, name="no_exception_waits_over_a_day")
def no_exception_waits_over_a_day(hub_store: HubStoreResource) -> dg.AssetCheckResult:
    """Warns when an exception has waited more than 24 hours for someone to fix and replay it."""
    now = st.utcnow()
    with hub_store.store().transaction() as conn:
        stale = [e for e in st.list_exceptions(conn, state=st.OPEN, limit=10_000) if now - e.created_at > STALE_AFTER]
    return dg.AssetCheckResult(
        passed=not stale, severity=dg.AssetCheckSeverity.WARN,
        metadata={"stale": len(stale), "ids": dg.MetadataValue.json([e.id for e in stale[:200]])},
    )


exception_queue_job = dg.define_asset_job("exception_queue_job", selection=dg.AssetSelection.assets(exception_queue))
exception_queue_schedule = dg.ScheduleDefinition(
    name="exception_queue_every_15_minutes", job=exception_queue_job, cron_schedule="*/15 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
