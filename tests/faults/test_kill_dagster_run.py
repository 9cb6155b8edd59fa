"""A real Dagster daemon and code server: a run killed with SIGKILL is detected, retried, its pool slot freed.

Issue 8 point 4, with the instance configuration the hub ships (``dagster_home/dagster.yaml``),
its polling intervals shortened so the test takes a minute rather than several. The run's step
holds the ``erp`` pool slot (limit 1) and in-flight deliveries when it dies: the retry can only
run once the slot is freed, and it reclaims the deliveries at once (not after the time bound).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest
import yaml

from hub import store as st
from hub.intake import process_x12_receipt, receive_document
from mappings.profiles import PartnerDirectory
from mappings.x12.samples import build_850

REPO = Path(__file__).resolve().parents[2]
PARTNERS = PartnerDirectory.load(REPO / "mappings" / "partners")
INSTANCE_YAML = Path(os.environ.get("HUB_TEST_INSTANCE_YAML", REPO / "dagster_home" / "dagster.yaml"))
DEADLINE_S = 240


def dagster_home(root: Path) -> Path:
    home = root / "dagster_home"
    home.mkdir()
    config = yaml.safe_load(INSTANCE_YAML.read_text())
    monitoring = config.get("run_monitoring") or {}
    if monitoring:  # the shipped settings, polled faster
        monitoring.update(poll_interval_seconds=2, free_slots_after_run_end_seconds=1)
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    return home


def wait_for(what: str, check, process: subprocess.Popen, log: Path):
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if process.poll() is not None:
            raise AssertionError(f"the daemon exited:\n{log.read_text()[-4000:]}")
        time.sleep(1)
    raise AssertionError(f"not after {DEADLINE_S} s: {what}\n{log.read_text()[-3000:]}")


@pytest.mark.slow_faults
@pytest.mark.parametrize("executor", ["in_process", "multiprocess"])
def test_a_killed_run_is_retried_its_pool_slot_freed_and_its_deliveries_reclaimed(tmp_path, executor):
    store_url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    store = st.HubStore(store_url).migrate()
    data = build_850(PARTNERS.get("acme"), po_number="KD", purchase_orders=3)
    receipt = receive_document(store, channel="sftp", partner_id="acme", source_name="kd.x12", data=data,
                               max_bytes=1_000_000)
    process_x12_receipt(store, PARTNERS, receipt.id)
    home = dagster_home(tmp_path)
    log = tmp_path / "daemon.log"
    env = {**os.environ, "DAGSTER_HOME": str(home), "HUB_DATABASE_URL": store_url,
           "HUB_KILL_TEST_DIR": str(tmp_path), "HUB_KILL_EXECUTOR": executor, "PYTHONPATH": str(REPO)}
    daemon = Path(sys.executable).with_name("dagster-daemon")
    with log.open("wb") as out:
        process = subprocess.Popen([str(daemon), "run", "-f", str(REPO / "tests" / "faults" / "kill_defs.py")],
                                   cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        killed_run = wait_for("the first run killed itself", lambda: (tmp_path / "killed").exists()
                              and (tmp_path / "killed").read_text(), process, log)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            failed = wait_for("the killed run marked failed",
                              lambda: (r := instance.get_run_by_id(killed_run)) is not None
                              and r.status == dg.DagsterRunStatus.FAILURE, process, log)
            assert failed

            def retried_run():
                runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/parent_run_id": killed_run}))
                return next((r for r in runs if r.status == dg.DagsterRunStatus.SUCCESS), None)

            retry = wait_for("a retry of the killed run succeeded", retried_run, process, log)
            # The retry's step needed the erp slot (limit 1) the killed step held: it was freed.
            info = instance.event_log_storage.get_concurrency_info("erp")
            assert info.active_slot_count == 0, info
        assert (tmp_path / f"claimed-{killed_run}").read_text() == "3"
        assert (tmp_path / f"claimed-{retry.run_id}").read_text() == "3"  # reclaimed at once, not after minutes
        with store.transaction() as conn:
            assert st.deliveries_by_state(conn, "erp") == {st.DONE: 3}
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sig)
                process.wait(timeout=15)
                break
            except (ProcessLookupError, subprocess.TimeoutExpired):
                continue
        store.dispose()
