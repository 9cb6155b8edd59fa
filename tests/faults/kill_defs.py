"""A Dagster code location for ``test_kill_dagster_run.py``: an ERP-pool step that is killed on its first run.

The step claims the queued deliveries the way ``erp_sales_orders`` does (naming its run), then the
first run SIGKILLs its own process (as ``kill -9`` or the OOM killer would) with the rows still in
flight and the ``erp`` pool slot still held. A retry finishes them.
"""


import datetime as dt
import os
import signal
import time
from pathlib import Path

import dagster as dg

from hub import store as st
from hub.defs.erp.assets import run_ended

WORK = Path(os.environ.get("HUB_KILL_TEST_DIR", "/nonexistent"))


@dg.asset(pool="erp")
def erp_push_killed_once(context: dg.AssetExecutionContext) -> None:
    """Claim every due delivery; die the first time; mark them delivered on the retry."""
    store = st.HubStore(os.environ["HUB_DATABASE_URL"])
    claimed = []
    # A dead run's rows are taken back in doubt, due once its writes can no longer commit (2 s here).
    with st.deliveries_claimed_by_run(context.run.run_id, lambda run_id: run_ended(context.instance, run_id),
                                      write_settle=dt.timedelta(seconds=2)):
        for _ in range(20):
            with store.transaction() as conn:
                claimed += st.claim_due_deliveries(conn, target="erp", now=st.utcnow())
            if len(claimed) >= 3:
                break
            time.sleep(0.5)
    (WORK / f"claimed-{context.run.run_id}").write_text(str(len(claimed)))
    if not (WORK / "killed").exists():
        (WORK / "killed").write_text(context.run.run_id)
        os.kill(os.getpid(), signal.SIGKILL)
    with store.transaction() as conn:
        for delivery in claimed:
            st.finish_delivery(conn, delivery.id, state=st.DONE, now=st.utcnow())


# in_process: the run worker itself is killed; multiprocess (the hub's jobs): the step's process is.
EXECUTOR = dg.multiprocess_executor if os.environ.get("HUB_KILL_EXECUTOR") == "multiprocess" else dg.in_process_executor
kill_job = dg.define_asset_job("kill_job", selection=[erp_push_killed_once], executor_def=EXECUTOR)


@dg.sensor(job=kill_job, minimum_interval_seconds=1, default_status=dg.DefaultSensorStatus.RUNNING)
def start_once(context: dg.SensorEvaluationContext):
    """One run, once."""
    yield dg.RunRequest(run_key="once")


defs = dg.Definitions(assets=[erp_push_killed_once], jobs=[kill_job], sensors=[start_once])
