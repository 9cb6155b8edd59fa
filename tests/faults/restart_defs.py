"""A Dagster code location for ``test_postgres_restart.py``: intake whose first run loses PostgreSQL mid-file.

The first run stops the hub store's server after its second batch commit (as a crash would), so
its next batch fails and the run fails; the test starts the server again and the daemon's run
retry must finish the file.
"""

import json
import os
import subprocess
from pathlib import Path

import dagster as dg

import hub.intake._x12 as intake_x12
from hub import store as st
from hub.intake import process_x12_receipt
from mappings.profiles import PartnerDirectory

WORK = Path(os.environ.get("HUB_RESTART_TEST_DIR", "/nonexistent"))
REPO = Path(__file__).resolve().parents[2]


@dg.asset
def x12_intake_survives_restart(context: dg.AssetExecutionContext) -> None:
    """Process the test's receipt; the first attempt stops PostgreSQL half-way."""
    marker = WORK / "stopped"
    if not marker.exists():
        commits = []

        def stop_after_second_batch(name: str) -> None:
            commits.append(name)
            if len(commits) == 2 and not marker.exists():
                subprocess.run(json.loads(os.environ["HUB_PG_STOP"]), check=True, capture_output=True)
                marker.write_text(context.run.run_id)

        intake_x12.fault_point = stop_after_second_batch
        intake_x12.BATCH_INTERCHANGES = 5
    store = st.HubStore(os.environ["HUB_DATABASE_URL"])
    summary = process_x12_receipt(store, PartnerDirectory.load(REPO / "mappings" / "partners"),
                                  int(os.environ["HUB_RECEIPT_ID"]))
    context.log.info(f"receipt {summary.receipt_id}: {summary.outcome}")


restart_job = dg.define_asset_job("restart_job", selection=[x12_intake_survives_restart],
                                  executor_def=dg.in_process_executor)


@dg.sensor(job=restart_job, minimum_interval_seconds=1, default_status=dg.DefaultSensorStatus.RUNNING)
def start_once(context: dg.SensorEvaluationContext):
    """One run, once."""
    yield dg.RunRequest(run_key="once")


defs = dg.Definitions(assets=[x12_intake_survives_restart], jobs=[restart_job], sensors=[start_once])
