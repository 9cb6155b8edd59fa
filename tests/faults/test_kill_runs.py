"""Killed runs: their in-flight deliveries are reclaimed as soon as they are known dead, not 15 minutes later.

Issue 8 point 4. The Dagster side (run monitoring, run retries, pool slots freed) is proven with a
real daemon in ``test_kill_dagster_run.py``; these tests hold the store's claim rules on both backends.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import update

from hub import store as st
from hub.intake import process_x12_receipt, receive_document
from mappings.profiles import PartnerDirectory
from mappings.x12.samples import build_850

REPO = Path(__file__).resolve().parents[2]
PARTNERS = PartnerDirectory.load(REPO / "mappings" / "partners")
NOW = dt.datetime(2026, 12, 3, 12, 0, tzinfo=dt.UTC)


def queue_orders(store, count: int) -> None:
    data = build_850(PARTNERS.get("acme"), po_number="KR", purchase_orders=count)
    receipt = receive_document(store, channel="sftp", partner_id="acme", source_name="kr.x12", data=data,
                               max_bytes=1_000_000)
    process_x12_receipt(store, PARTNERS, receipt.id)


_CLAIM_AND_DIE = """
import datetime as dt, os, signal, sys
from hub import store as st
store = st.HubStore(sys.argv[1]).migrate()
with store.transaction() as conn:
    claimed = st.claim_due_deliveries(conn, target="erp", now=dt.datetime.fromisoformat(sys.argv[2]))
print(len(claimed), flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # killed while pushing: the rows stay in flight
"""


def test_in_flight_deliveries_of_a_killed_process_are_reclaimed_at_once(store):
    queue_orders(store, 3)
    url = store.engine.url.render_as_string(hide_password=False)
    child = subprocess.run([sys.executable, "-c", _CLAIM_AND_DIE, url, NOW.isoformat()], capture_output=True,
                           text=True, env={**os.environ, "PYTHONPATH": str(REPO)}, timeout=120, check=False)
    assert child.returncode == -9 and child.stdout.strip() == "3", child.stderr[-2000:]
    with store.transaction() as conn:
        assert st.deliveries_by_state(conn, "erp") == {st.IN_FLIGHT: 3}
        # One minute later, not fifteen: the claimant's process is gone, so the rows are taken back,
        # due once a create it may have sent can no longer commit, and marked in doubt.
        soon = NOW + dt.timedelta(minutes=1)
        assert st.claim_due_deliveries(conn, target="erp", now=soon) == []
        assert st.deliveries_by_state(conn, "erp") == {st.FAILED: 3}
        rows = conn.execute(st.tables.outbox.select()).all()
        assert all(st.IN_DOUBT_MARK in row.last_error and row.claimed_by is None for row in rows)
        reclaimed = st.claim_due_deliveries(conn, target="erp", now=soon + st.WRITE_SETTLE)
    assert len(reclaimed) == 3 and all(d.attempts == 2 for d in reclaimed)


def test_a_live_claimant_keeps_its_deliveries_until_the_time_bound(store):
    queue_orders(store, 2)
    with store.transaction() as conn:
        assert len(st.claim_due_deliveries(conn, target="erp", now=NOW)) == 2
    with store.transaction() as conn:  # this process still runs: nobody else may push them
        assert st.claim_due_deliveries(conn, target="erp", now=NOW + dt.timedelta(minutes=1)) == []
        assert st.deliveries_by_state(conn, "erp") == {st.IN_FLIGHT: 2}
        later = NOW + st.DELIVERY_CLAIM_STALE_AFTER  # past the bound, longer than any write can take
        assert len(st.claim_due_deliveries(conn, target="erp", now=later)) == 2


def test_in_flight_deliveries_of_a_run_that_ended_elsewhere_are_reclaimed(store):
    """A claimant on another machine or container: the Dagster instance says whether its run ended."""
    queue_orders(store, 2)
    with store.transaction() as conn:
        st.claim_due_deliveries(conn, target="erp", now=NOW)
        conn.execute(update(st.tables.outbox).values(claimed_by="0123456789abcdef:4242:cafe|run:dead-run"))
    soon = NOW + dt.timedelta(minutes=1)
    with store.transaction() as conn, st.deliveries_claimed_by_run("retry-run", lambda run_id: False):
        assert st.claim_due_deliveries(conn, target="erp", now=soon) == []  # its run still in progress
    settle = dt.timedelta(minutes=3)
    with store.transaction() as conn, \
            st.deliveries_claimed_by_run("retry-run", lambda run_id: run_id == "dead-run", write_settle=settle):
        assert st.claim_due_deliveries(conn, target="erp", now=soon) == []  # taken back, in doubt
        reclaimed = st.claim_due_deliveries(conn, target="erp", now=soon + settle)
        assert len(reclaimed) == 2
        owners = {row.claimed_by.split("|run:")[1] for row in conn.execute(st.tables.outbox.select())}
    assert owners == {"retry-run"}


def test_the_shipped_instances_retry_failed_runs_and_free_dead_runs_pool_slots(tmp_path):
    """Both instance files load in Dagster with run monitoring, slot freeing and run retries on."""
    import shutil

    import dagster as dg

    for name in ("dagster.yaml", "dagster.postgres.yaml"):
        home = tmp_path / name
        home.mkdir()
        text = (REPO / "dagster_home" / name).read_text()
        if "postgres" in name:  # only the settings under test: storage needs a server
            text = text[text.index("\nconcurrency:"):]
        (home / "dagster.yaml").write_text(text)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            assert instance.run_monitoring_enabled
            assert 0 < instance.run_monitoring_settings["free_slots_after_run_end_seconds"] <= 60
            assert instance.run_monitoring_settings["max_runtime_seconds"] > 0
            assert instance.run_retries_enabled and instance.run_retries_max_retries >= 1
            assert instance.run_retries_retry_on_asset_or_op_failure
        shutil.rmtree(home)


def test_the_erp_asset_asks_the_dagster_instance_whether_a_claiming_run_ended():
    import uuid

    import dagster as dg

    from hub.defs.erp.assets import run_ended

    job = dg.GraphDefinition(name="g").to_job()
    with dg.instance_for_test() as instance:
        ended = instance.create_run_for_job(job, run_id=str(uuid.uuid4()))
        instance.report_run_failed(ended)
        running = instance.create_run_for_job(job, run_id=str(uuid.uuid4()))
        instance.handle_run_event(running.run_id, dg.DagsterEvent(dg.DagsterEventType.RUN_START.value, job_name="g"))
        assert instance.get_run_by_id(running.run_id).status == dg.DagsterRunStatus.STARTED
        assert run_ended(instance, ended.run_id)
        assert not run_ended(instance, running.run_id)
        assert not run_ended(instance, str(uuid.uuid4()))  # a run of another instance: unknown, not ended
