"""PostgreSQL restarts in the middle of intake and of the ERP push: the work fails cleanly, the next attempt catches up.

Issue 8 point 13. The server of this test's own is stopped the way a crash stops it
(``pg_ctl -m immediate``) and started again; the same ``HubStore`` (its pooled connections died
with the server; ``pool_pre_ping`` replaces them) or a fresh process then runs the step again, as a
Dagster run retry would, and the invariants hold: every PO once, every ack once, no delivery
stuck, every sale order created once.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

import hub.intake._x12 as intake_x12
from hub import store as st
from hub.delivery import push_due_orders
from hub.intake import process_x12_receipt, receive_document
from mappings.profiles import PartnerDirectory
from mappings.x12.samples import build_850
from tests.faults.invariants import assert_each_once, assert_store_invariants

REPO = Path(__file__).resolve().parents[2]
PARTNERS = PartnerDirectory.load(REPO / "mappings" / "partners")
ACME = PARTNERS.get("acme")

pytestmark = pytest.mark.integration


def many_interchanges(count: int) -> bytes:
    return b"".join(build_850(ACME, po_number=f"PR-{n}", control_number=n, purchase_orders=2, lines=2)
                    for n in range(1, count + 1))


def test_postgres_restart_mid_file_then_the_next_run_resumes_it(restartable_postgres, monkeypatch):
    store = st.HubStore(restartable_postgres.server.url()).migrate()
    receipt = receive_document(store, channel="sftp", partner_id="acme", source_name="restart.x12",
                               data=many_interchanges(30), max_bytes=10_000_000)
    monkeypatch.setattr(intake_x12, "BATCH_INTERCHANGES", 5)
    commits = []

    def crash_after_second_batch(point: str) -> None:
        commits.append(point)
        if len(commits) == 2:
            restartable_postgres.stop()

    monkeypatch.setattr(intake_x12, "fault_point", crash_after_second_batch)
    with pytest.raises(DBAPIError):  # a clean failure: the run fails, nothing half-written
        process_x12_receipt(store, PARTNERS, receipt.id)
    restartable_postgres.start()
    monkeypatch.setattr(intake_x12, "fault_point", lambda point: None)

    summary = process_x12_receipt(store, PARTNERS, receipt.id)  # the retry: same process, same engine
    assert summary.outcome == "accepted" and not summary.already_processed
    with store.transaction() as conn:
        done = st.get_receipt(conn, receipt.id)
        acks = list(conn.execute(select(st.tables.outbound_documents.c.file_name)).scalars())
    assert done.state == "processed" and done.interchanges_done == 30
    assert len(acks) == 30
    assert_each_once(acks, "acks")
    expected = {("x12", "acme", f"PR-{n}-{m}") for n in range(1, 31) for m in (1, 2)}
    assert_store_invariants(store, expected_pos=expected, acks_sent=False)
    store.dispose()


# A push run in its own process (as a Dagster run is): its ERP is a JSON file that looks a
# reference up before it creates one, as the real gateway does. After the first sale order the
# server is stopped; recording the second one fails, and the process ends with the error.
_PUSH_CHILD = """
import json, subprocess, sys
from pathlib import Path
from hub import store as st
from hub.delivery import push_due_orders
from tests.faults.test_postgres_restart import FileErp
store = st.HubStore(sys.argv[1]).migrate()
stop_command = json.loads(sys.argv[3])
erp = FileErp(Path(sys.argv[2]), after_first_create=lambda: subprocess.run(stop_command, check=True))
push_due_orders(store, erp)
"""


class FileErp:
    """A stand-in ERP kept in a JSON lines file (shared across processes); idempotent on the reference."""

    def __init__(self, path: Path, after_first_create=None) -> None:
        self.path, self.after_first_create = path, after_first_create

    def created(self) -> list[str]:
        return [json.loads(line)["ref"] for line in self.path.read_text().splitlines()] if self.path.exists() else []

    def push_sale_order(self, order, *, client_order_ref):
        from types import SimpleNamespace

        known = self.created()
        if client_order_ref not in known:
            with self.path.open("a") as out:
                out.write(json.dumps({"ref": client_order_ref}) + "\n")
            if self.after_first_create is not None and not known:
                self.after_first_create()
        number = self.created().index(client_order_ref) + 1
        return SimpleNamespace(sale_order_id=number, name=f"S{number:05d}", created=client_order_ref not in known,
                               action="created" if client_order_ref not in known else "unchanged",
                               changes=(), reason="")

    def cancel_sale_order(self, order, *, client_order_ref):  # pragma: no cover - no cancellations here
        raise AssertionError("no cancellation expected")

    def sale_order_states(self, client_order_refs, *, partner_id=None):  # pragma: no cover - not reconciled here
        raise AssertionError("no reconciliation expected")


def test_postgres_restart_mid_push_then_the_retried_run_finishes_without_doubles(restartable_postgres, tmp_path):
    server = restartable_postgres.server
    store = st.HubStore(server.url()).migrate()
    receipt = receive_document(store, channel="sftp", partner_id="acme", source_name="push.x12",
                               data=build_850(ACME, po_number="PP", purchase_orders=3), max_bytes=1_000_000)
    process_x12_receipt(store, PARTNERS, receipt.id)
    erp_file = tmp_path / "erp.jsonl"
    from tests.fixtures.postgres import PG_BIN, _as_cluster_owner

    stop = [str(part) for part in _as_cluster_owner(PG_BIN / "pg_ctl", "-D", restartable_postgres.cluster.data,
                                                    "-m", "immediate", "-w", "stop")]
    child = subprocess.run([sys.executable, "-c", _PUSH_CHILD, server.url(), str(erp_file), json.dumps(stop)],
                           capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(REPO)},
                           cwd=REPO, timeout=120, check=False)
    assert child.returncode == 1 and "OperationalError" in child.stderr, child.stderr[-3000:]
    assert len(FileErp(erp_file).created()) == 1
    restartable_postgres.start()

    # The retried run: the dead run's claims are taken back at once, in doubt (its write may still
    # commit); the next pass after that settles looks the sale order up before creating it.
    assert push_due_orders(store, FileErp(erp_file)).attempted == 0
    with store.transaction() as conn:
        assert st.deliveries_by_state(conn, "erp") == {st.FAILED: 3}
    later = st.utcnow() + st.WRITE_SETTLE + dt.timedelta(seconds=1)
    summary = push_due_orders(store, FileErp(erp_file), now=later)
    assert summary.pushed + summary.unchanged == 3, summary
    erp_refs = FileErp(erp_file).created()
    assert len(erp_refs) == 3
    assert_each_once(erp_refs, "sale orders")
    with store.transaction() as conn:
        assert st.deliveries_by_state(conn, "erp") == {st.DONE: 3}
    assert_store_invariants(store, expected_pos={("x12", "acme", f"PP-{n}") for n in (1, 2, 3)}, acks_sent=False)
    store.dispose()


@pytest.mark.slow_faults
def test_a_run_failed_by_a_postgres_restart_is_retried_by_dagster_and_finishes(restartable_postgres, tmp_path):
    """A real daemon with the shipped instance settings: the failed run's retry completes the file."""
    import signal

    import dagster as dg

    from tests.faults.test_kill_dagster_run import dagster_home, wait_for
    from tests.fixtures.postgres import PG_BIN, _as_cluster_owner

    server = restartable_postgres.server
    store = st.HubStore(server.url()).migrate()
    receipt = receive_document(store, channel="sftp", partner_id="acme", source_name="dagster-restart.x12",
                               data=many_interchanges(30), max_bytes=10_000_000)
    stop = [str(part) for part in _as_cluster_owner(PG_BIN / "pg_ctl", "-D", restartable_postgres.cluster.data,
                                                    "-m", "immediate", "-w", "stop")]
    home = dagster_home(tmp_path)
    log = tmp_path / "daemon.log"
    env = {**os.environ, "DAGSTER_HOME": str(home), "HUB_DATABASE_URL": server.url(), "HUB_PG_STOP": json.dumps(stop),
           "HUB_RECEIPT_ID": str(receipt.id), "HUB_RESTART_TEST_DIR": str(tmp_path), "PYTHONPATH": str(REPO)}
    daemon = Path(sys.executable).with_name("dagster-daemon")
    with log.open("wb") as out:
        process = subprocess.Popen([str(daemon), "run", "-f", str(REPO / "tests" / "faults" / "restart_defs.py")],
                                   cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    try:
        first_run = wait_for("the first run stopped PostgreSQL", lambda: (tmp_path / "stopped").exists()
                             and (tmp_path / "stopped").read_text(), process, log)
        restartable_postgres.start()
        with dg.DagsterInstance.from_config(str(home)) as instance:
            wait_for("the first run failed", lambda: (r := instance.get_run_by_id(first_run)) is not None
                     and r.status == dg.DagsterRunStatus.FAILURE, process, log)

            def retry_succeeded():
                runs = instance.get_runs(filters=dg.RunsFilter(tags={"dagster/root_run_id": first_run}))
                return any(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)

            wait_for("a retry of the failed run succeeded", retry_succeeded, process, log)
    finally:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(process.pid, sig)
                process.wait(timeout=15)
                break
            except (ProcessLookupError, subprocess.TimeoutExpired):
                continue
    with store.transaction() as conn:
        done = st.get_receipt(conn, receipt.id)
        acks = list(conn.execute(select(st.tables.outbound_documents.c.file_name)).scalars())
    assert done.state == "processed" and done.outcome == "accepted"
    assert len(acks) == 30
    assert_each_once(acks, "acks")
    expected = {("x12", "acme", f"PR-{n}-{m}") for n in range(1, 31) for m in (1, 2)}
    assert_store_invariants(store, expected_pos=expected, acks_sent=False)
    store.dispose()
