"""What ops engineers watch: the exception queue as an asset, with a check on how long items wait.

The asset is built with the code location (``exception_queue_asset``, called by the partner
profiles' component) because it sits downstream of every asset that can open or close an
exception: the intake of every account, the acks and every target's push. Every job that runs one
of those selects it too, so each such run ends by materializing the queue as it now is.
"""

import datetime as dt
from collections import Counter
from collections.abc import Sequence

import dagster as dg

from hub import store as st
from hub.defs._policies import EXECUTOR, OWNERS
from hub.defs.resources import HubStoreResource

STALE_AFTER = dt.timedelta(hours=24)
EXCEPTION_QUEUE = "exception_queue"
TABLE_ROWS = 200  # the UI renders a table metadata value whole: the oldest items beyond this are counted only

_TABLE_SCHEMA = dg.TableSchema(columns=[
    dg.TableColumn("id", "int"), dg.TableColumn("file", "string", description="file, API page or webhook body"),
    dg.TableColumn("partner", "string"), dg.TableColumn("kind", "string"), dg.TableColumn("reason", "string"),
    dg.TableColumn("age", "string"), dg.TableColumn("replay", "string", description="run after the fix"),
])


def exception_queue_asset(upstream: Sequence[dg.AssetKey], database_url: str) -> dg.AssetsDefinition:
    """The ``exception_queue`` asset, downstream of ``upstream`` (every asset that changes the queue).

    Its kind is the store's database as the code location sees it (``database_url``): postgres or sqlite.
    """
    kind = "postgres" if database_url.startswith("postgresql") else "sqlite"

    @dg.asset(name=EXCEPTION_QUEUE, group_name="operations", kinds={kind}, deps=list(upstream), owners=OWNERS)
    def exception_queue(hub_store: HubStoreResource) -> dg.MaterializeResult:
        """Open exceptions: a table with file, partner, kind, reason, age and the replay command; counts by kind
        and partner; the newest with their location.

        Replay one after a fix with `hub exceptions replay ID` or by launching `edi_inbound_job` with
        `replay_exception_ids` (docs/operations.md).
        """
        now = st.utcnow()
        with hub_store.store().transaction() as conn:
            open_items = st.list_exceptions(conn, state=st.OPEN, limit=10_000)
            files = st.exception_files(conn, open_items[:TABLE_ROWS])
        rows = ["| id | partner | kind | where | reason |", "|---|---|---|---|---|"]
        for item in open_items[:50]:
            where = (item.location or item.document_ref or "").replace("|", "/")
            reason = item.reason.replace("|", "/")[:160]
            rows.append(f"| {item.id} | {item.partner_id or '-'} | {item.kind} | {where} | {reason} |")
        table = [
            dg.TableRecord({"id": item.id, "file": files.get(item.id) or item.document_ref or "",
                            "partner": item.partner_id or "", "kind": str(item.kind), "reason": item.reason[:300],
                            "age": format_age(now - item.created_at), "replay": f"hub exceptions replay {item.id}"})
            for item in open_items[:TABLE_ROWS]
        ]
        return dg.MaterializeResult(metadata={
            "open": len(open_items),
            "dagster/row_count": len(open_items),
            "open_exceptions": dg.MetadataValue.table(table, schema=_TABLE_SCHEMA),
            "by_kind": dg.MetadataValue.json(dict(Counter(i.kind for i in open_items))),
            "by_partner": dg.MetadataValue.json(dict(Counter(i.partner_id or "-" for i in open_items))),
            "newest": dg.MetadataValue.md("\n".join(rows) if open_items else "The queue is empty."),
        })

    return exception_queue


def format_age(age: dt.timedelta) -> str:
    """``2d 3h``, ``5h 12m``, ``4m``: how long an exception has waited, for people."""
    minutes = max(int(age.total_seconds() // 60), 0)
    days, hours, mins = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {mins}m" if hours else f"{mins}m"


@dg.asset_check(asset=EXCEPTION_QUEUE, name="no_exception_waits_over_a_day")
def no_exception_waits_over_a_day(hub_store: HubStoreResource) -> dg.AssetCheckResult:
    """Warns when an exception has waited more than 24 hours for someone to fix and replay it."""
    now = st.utcnow()
    with hub_store.store().transaction() as conn:
        stale = [e for e in st.list_exceptions(conn, state=st.OPEN, limit=10_000) if now - e.created_at > STALE_AFTER]
    return dg.AssetCheckResult(
        passed=not stale, severity=dg.AssetCheckSeverity.WARN,
        metadata={"stale": len(stale), "ids": dg.MetadataValue.json([e.id for e in stale[:200]])},
    )


# Also refreshed on a schedule: the ages move and an exception closed by hand (`hub exceptions resolve`)
# changes the queue without a run.
exception_queue_job = dg.define_asset_job("exception_queue_job", selection=dg.AssetSelection.assets(EXCEPTION_QUEUE),
                                          executor_def=EXECUTOR)
exception_queue_schedule = dg.ScheduleDefinition(
    name="exception_queue_every_15_minutes", job=exception_queue_job, cron_schedule="*/15 * * * *",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
