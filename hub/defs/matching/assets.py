"""``three_way_match``: the store's orders, shipments and invoices matched per business day, with a check per
exception category, the reports linked from the UI, a daily schedule and a sensor for changes.

- **Partitions**: one per business day (UTC), today's included (``end_offset=1``): a partition is the match
  of the store as it stood at that day's end. Every run is kept in the store (``match_runs``,
  ``match_findings``), the day's reports are files under ``<HUB_DATA_DIR>/match-reports/``.
- **Daily**: ``three_way_match_daily`` matches yesterday's partition at 06:00 UTC (the day closed).
- **On change**: ``three_way_match_on_change`` matches today's partition again when an invoice, its state
  or a shipment line changed (orders alone do not: a new order has nothing to disagree with yet).
- **Checks**: one per category, severity WARN. An exception is finance's work (a price to agree with the
  customer, a shipment to bill), not a pipeline failure: an ERROR would fail the runs and page the team
  that runs the hub for something it cannot fix; the counts and value at stake say what to look at.
- **Auto-release**: a run of today's partition releases the held invoices the match finds clean
  (``hub.accounting._gate.auto_release``, audited); an older day's view never releases anything.
"""


import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import dagster as dg

from hub.defs._policies import EXECUTOR, OWNERS
from hub.defs.accounting.assets import load_tolerances
from hub.defs.resources import HubStoreResource
from hub.matching import EXCEPTIONS
from hub.settings import get_settings
from hub.store._match_runs import match_inputs_version

ASSET = "three_way_match"
JOB = "three_way_match_job"
START = "2026-01-01"  # the first business day offered in the UI; older days can be added by changing it
PARTITIONS = dg.DailyPartitionsDefinition(start_date=START, end_offset=1, timezone="UTC")
QUEUE_UNTOUCHED = {"hub/exception_queue": "untouched"}  # opens and closes no exception (finance's, not ops')
CHECK_PREFIX = "no_"  # no_price_variance, no_over_billed... passes when the day has none


class MatchConfig(dg.Config):
    """Where the reports go; empty: ``<HUB_DATA_DIR>/match-reports``."""

    report_dir: str = ""


def report_root(config: MatchConfig) -> Path:
    """The folder of every day's reports."""
    return Path(config.report_dir) if config.report_dir else get_settings().data_dir / "match-reports"


def today() -> dt.date:
    """The current business day (UTC), the one a run may release invoices for."""
    return dt.datetime.now(dt.UTC).date()


@dg.asset(name=ASSET, group_name="matching", kinds={"polars", "sql"}, owners=OWNERS, tags=QUEUE_UNTOUCHED,
          partitions_def=PARTITIONS,
          check_specs=[dg.AssetCheckSpec(f"{CHECK_PREFIX}{category}", asset=ASSET,
                                         description=f"No {category} exception on this business day (WARN: "
                                                     "finance reviews, the pipeline is fine)")
                       for category in EXCEPTIONS],
          description="Orders, shipments (ERP deliveries, ASNs) and invoices in the hub store matched per PO line "
                      "as of the business day's end; held invoices found within tolerance released; reports "
                      "(HTML, CSV, XLSX) for finance. docs/three-way-match.md")
def three_way_match(context: dg.AssetExecutionContext, config: MatchConfig,
                    hub_store: HubStoreResource) -> dg.MaterializeResult:
    """Match the store as of the partition's day; store the run, write the reports, release clean holds."""
    from hub.matching import run_daily_match

    day = dt.date.fromisoformat(context.partition_key)
    folder = report_root(config) / day.isoformat()
    done = run_daily_match(hub_store.store(), day, tolerances=load_tolerances(), report_dir=folder,
                           release=day >= today())
    if done.released:
        context.log.info(f"released {len(done.released)} held invoice(s) the match found within tolerance: "
                         f"{done.released}")
    return dg.MaterializeResult(metadata=_metadata(done), check_results=_checks(done.summary))


def _metadata(done: Any) -> dict[str, Any]:
    facts = done.summary
    html = done.reports["html"]
    return {
        "dagster/row_count": facts["exceptions"],
        "summary": dg.MetadataValue.md(_markdown(facts, done.business_day, done.released)),
        "report": dg.MetadataValue.path(str(html)),
        "report_url": dg.MetadataValue.url(html.resolve().as_uri()),
        "report_csv": dg.MetadataValue.path(str(done.reports["csv"])),
        "report_xlsx": dg.MetadataValue.path(str(done.reports["xlsx"])),
        "po_lines": facts["po_lines"],
        "matched": facts["matched"],
        "exceptions": facts["exceptions"],
        "value_at_stake": facts["value_at_stake"],
        "by_category": dg.MetadataValue.json({row["category"]: row for row in facts["by_category"]}),
        "released_invoices": dg.MetadataValue.json(done.released),
        "match_run_id": done.run_id,
    }


def _markdown(facts: dict[str, Any], day: dt.date, released: list[int]) -> str:
    lines = [f"**Three-way match, {day.isoformat()}**: {facts['po_lines']} PO lines, {facts['matched']} matched, "
             f"{facts['exceptions']} exceptions, value at stake {facts['value_at_stake']}.", "",
             "| category | count | value at stake |", "|---|---:|---:|"]
    lines += [f"| {row['category']} | {row['count']} | {row['value_at_stake']} |" for row in facts["by_category"]]
    if released:
        lines += ["", f"Released (within tolerance now): invoices {', '.join(str(i) for i in released)}."]
    return "\n".join(lines)


def _checks(facts: dict[str, Any]) -> list[dg.AssetCheckResult]:
    """One result per category: passed when the day has none; WARN either way (finance's review)."""
    return [dg.AssetCheckResult(check_name=f"{CHECK_PREFIX}{row['category']}", passed=row["count"] == 0,
                                severity=dg.AssetCheckSeverity.WARN,
                                metadata={"count": row["count"], "value_at_stake": row["value_at_stake"]})
            for row in facts["by_category"]]


match_job = dg.define_asset_job(JOB, selection=[ASSET], executor_def=EXECUTOR,
                                description="The three-way match of one business day.")


@dg.schedule(name="three_way_match_daily", job=match_job, cron_schedule="0 6 * * *", execution_timezone="UTC",
             default_status=dg.DefaultScheduleStatus.RUNNING,
             description="At 06:00 UTC, the match of the business day that just closed (yesterday).")
def three_way_match_daily(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Yesterday's partition."""
    day = (context.scheduled_execution_time or dt.datetime.now(dt.UTC)).date() - dt.timedelta(days=1)
    return dg.RunRequest(run_key=f"{ASSET}:daily:{day.isoformat()}", partition_key=day.isoformat(),
                         tags={"hub/trigger": "daily"})


_ACTIVE = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
           dg.DagsterRunStatus.STARTED]


@dg.sensor(name="three_way_match_on_change", job=match_job, minimum_interval_seconds=300,
           default_status=dg.DefaultSensorStatus.RUNNING,
           description="Matches today's partition again when invoices or shipment lines changed (at most every "
                       "5 minutes, never while a match runs).")
def three_way_match_on_change(context: dg.SensorEvaluationContext, hub_store: HubStoreResource
                              ) -> dg.RunRequest | dg.SkipReason:
    """A run of today's partition when the store's invoices or shipment lines differ from the last run's."""
    with hub_store.store().transaction() as conn:
        version = match_inputs_version(conn)
    if version == context.cursor:
        return dg.SkipReason("no invoice or shipment line changed since the last match")
    if not version:
        return dg.SkipReason("the store holds no invoice and no shipment line yet")
    if context.instance.get_run_records(dg.RunsFilter(job_name=JOB, statuses=_ACTIVE), limit=1):
        return dg.SkipReason("a match runs: the next tick looks again")
    context.update_cursor(version)
    day = today().isoformat()
    digest = hashlib.sha256(version.encode()).hexdigest()[:12]
    return dg.RunRequest(run_key=f"{ASSET}:{day}:{digest}", partition_key=day, tags={"hub/trigger": "on_change"})


@dg.definitions
def matching() -> dg.Definitions:
    """The asset (its checks with it), its job, schedule and sensor; ``hub_store`` is bound by the partners."""
    return dg.Definitions(assets=[three_way_match], jobs=[match_job], schedules=[three_way_match_daily],
                          sensors=[three_way_match_on_change])

