"""Under the daemon as in production (issue 15): one run per partner per tick, pools per partner, the push drains
its outbox, the check after a run looks at that run's orders.

Real Dagster instances (``dg.instance_for_test``: SQLite storage with pools), the real sensors and jobs
of ``build_definitions``, a sandbox SFTP server, and the toy target of ``tests/seam`` (a folder) so no
ERP is needed.
"""

from __future__ import annotations

import datetime as dt
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
import yaml

import hub.defs.edi.sensors as sensors
import hub.defs.erp._drain as drain
import tests.seam.toy_target  # noqa: F401 - registers the toy target kind
from hub import store as st
from hub.defs import build_definitions
from hub.defs._pools import pool_slot, sftp_pool
from hub.defs.edi.assets import edi_inbound_orders
from hub.defs.resources import HubStoreResource, SftpResource
from hub.intake import process_x12_receipt, receive_document
from mappings.profiles import PartnerDirectory
from mappings.x12.samples import SampleLine, build_850
from sandbox.sftp_server import SandboxSftpServer
from tests.present import present
from tests.seam.toy_target import ToyBox

REPO = Path(__file__).resolve().parent.parent
LINES = [SampleLine("WID-100", "2", "4.50")]
PLACEHOLDERS = {  # the SFTP resource of jobs that never open it here
    "HUB_SFTP_HOST": "127.0.0.1", "HUB_SFTP_PORT": "2222", "HUB_SFTP_USERNAME": "hub", "HUB_SFTP_PASSWORD": "x",
    "HUB_SFTP_PRIVATE_KEY_PATH": "", "HUB_SFTP_KNOWN_HOSTS_PATH": "/nonexistent",
}
ONE_SLOT = {"concurrency": {"pools": {"default_limit": 1}}}


def _profiles(folder: Path, **acme_changes) -> Path:
    """acme's and northwind's real profiles, both delivering to the toy box; ``acme_changes`` applied to acme's."""
    folder.mkdir()
    for partner_id in ("acme", "northwind"):
        data = yaml.safe_load((REPO / "mappings" / "partners" / f"{partner_id}.yaml").read_text())
        data["targets"] = [{"kind": "toy", "name": "toybox"}]
        if partner_id == "acme":
            for key, value in acme_changes.items():
                data[key] = value
        (folder / f"{partner_id}.yaml").write_text(yaml.safe_dump(data))
    return folder


# --- one run per partner per tick -------------------------------------------------------------------------


@dataclass
class Inbox:
    server: SandboxSftpServer
    known_hosts: Path
    partners: PartnerDirectory
    partners_dir: Path
    store: st.HubStore
    instance: dg.DagsterInstance
    cursor: str | None = None

    def drop(self, *names: str) -> None:
        for folder in ("inbox", "archive"):
            (self.server.root / "acme" / folder).mkdir(parents=True, exist_ok=True)
        for n, name in enumerate(names):
            data = build_850(self.partners.get("acme"), po_number=f"PO-{name}", control_number=100 + n)
            (self.server.root / "acme" / "inbox" / name).write_bytes(data)

    def tick(self, max_files: int = 50) -> list[dg.RunRequest]:
        sensor = sensors.sftp_inbox_sensor(self.partners.get("acme"), "edi_inbound_job", max_files=max_files)
        resources = {
            "hub_store": HubStoreResource(database_url=self.store.url, partners_dir=str(self.partners_dir)),
            "sftp": SftpResource(host=self.server.host, port=self.server.port, username="hub", password="pw",
                                 known_hosts_path=str(self.known_hosts)),
        }
        result = sensor.evaluate_tick(dg.build_sensor_context(instance=self.instance, cursor=self.cursor,
                                                              resources=resources))
        self.cursor = result.cursor
        return list(result.run_requests or [])

    def run_fails(self, request: dg.RunRequest) -> None:
        """A run for the request that died before processing anything (what run monitoring leaves)."""
        tags = {**request.tags, "dagster/run_key": present(request.run_key)}
        assert not _dying_intake_job.execute_in_process(instance=self.instance, tags=tags,
                                                        raise_on_error=False).success


@dg.op
def _dies() -> None:
    raise RuntimeError("killed before processing its receipts")


@dg.job(name="edi_inbound_job")
def _dying_intake_job() -> None:
    _dies()


@pytest.fixture
def inbox(sqlite_store, tmp_path) -> Iterator[Inbox]:
    partners_dir = tmp_path / "partners"
    partners_dir.mkdir()
    shutil.copy(REPO / "mappings" / "partners" / "acme.yaml", partners_dir / "acme.yaml")
    with SandboxSftpServer(tmp_path / "sftp", username="hub", password="pw") as server, \
            dg.instance_for_test() as instance:
        server.write_known_hosts(tmp_path / "known_hosts")
        yield Inbox(server, tmp_path / "known_hosts", PartnerDirectory.load(partners_dir), partners_dir,
                    sqlite_store, instance)


def _receipts(request: dg.RunRequest) -> list[int]:
    return request.run_config["ops"]["edi_inbound_orders"]["config"]["receipt_ids"]


def test_one_tick_asks_for_one_run_carrying_every_file_it_took(inbox: Inbox):
    inbox.drop("a.x12", "b.x12", "c.x12", "d.x12")
    assert inbox.tick() == [], "first seen: taken once unchanged on the next tick"
    (request,) = inbox.tick()
    receipts = _receipts(request)
    assert len(set(receipts)) == 4
    assert set(request.run_config["ops"]["edi_inbound_orders"]["config"]["inbox_files"]) == set(map(str, receipts))
    assert request.tags["partner"] == "acme" and request.tags["hub/connector"] == "sftp_acme"
    assert {f"hub.receipt/{r}" for r in receipts} <= set(request.tags)
    assert inbox.tick() == [] and inbox.tick() == [], "a re-tick never asks again for the same files"


def test_the_files_of_one_tick_are_split_at_the_cap(inbox: Inbox):
    inbox.drop("a.x12", "b.x12", "c.x12", "d.x12", "e.x12")
    inbox.tick(max_files=2)
    requests = inbox.tick(max_files=2)
    assert [len(_receipts(r)) for r in requests] == [2, 2, 1]
    assert len({r for request in requests for r in _receipts(request)}) == 5, "each file in exactly one run"
    assert len({request.run_key for request in requests}) == 3
    assert inbox.tick(max_files=2) == []


def test_the_receipts_of_a_batch_run_that_died_are_offered_again_together(inbox: Inbox, monkeypatch):
    monkeypatch.setattr(sensors, "UNFINISHED_RECEIPT_GRACE", dt.timedelta(0))  # a run that ended is "long ago"
    inbox.drop("a.x12", "b.x12", "c.x12")
    inbox.tick()
    (first,) = inbox.tick()
    inbox.run_fails(first)

    (again,) = inbox.tick()
    assert sorted(_receipts(again)) == sorted(_receipts(first))
    assert again.run_key.startswith("acme:retry:") and again.run_key != first.run_key
    assert [r.run_key for r in inbox.tick()] == [again.run_key], "the same key until a run for them exists"
    inbox.instance.create_run_for_job(_dying_intake_job, status=dg.DagsterRunStatus.STARTED,
                                      tags={**again.tags, "dagster/run_key": present(again.run_key)})
    assert inbox.tick() == [], "a run is on them: never doubled"


# --- pools ------------------------------------------------------------------------------------------------


def test_pools_come_from_the_profile(tmp_path, monkeypatch):
    for key, value in {**PLACEHOLDERS, "HUB_TOYBOX_FOLDER": str(tmp_path / "box")}.items():
        monkeypatch.setenv(key, value)
    acme = yaml.safe_load((REPO / "mappings" / "partners" / "acme.yaml").read_text())
    channel = acme["channels"][0]
    partners_dir = _profiles(tmp_path / "partners", targets=[{"kind": "toy", "name": "toybox", "pool": "box_host"}],
                             channels=[{**channel, "sftp": {**channel["sftp"], "pool": "sftp_shared_host"}}])
    partners = PartnerDirectory.load(partners_dir)
    assert sftp_pool(partners.get("acme")) == "sftp_shared_host"
    assert sftp_pool(partners.get("northwind")) == "sftp_northwind", "default: one pool per partner"

    defs = build_definitions(partners_dir)
    assert defs.resolve_assets_def("toybox_orders").op.pool == "box_host"
    assert {s.name for s in defs.sensors or []} >= {"sftp_inbox_acme", "sftp_inbox_northwind", "toybox_outbox"}
    assert defs.resolve_sensor_def("sftp_inbox_acme").minimum_interval_seconds == 15
    monkeypatch.setenv("HUB_SENSOR_INTERVAL_SECONDS", "5")
    assert build_definitions(partners_dir).resolve_sensor_def("toybox_outbox").minimum_interval_seconds == 5


def test_two_partners_take_their_pools_at_once_and_one_partner_waits_for_its_own(sqlite_store, tmp_path):
    partners_dir = _profiles(tmp_path / "partners")
    partners = PartnerDirectory.load(partners_dir)
    receipts = {}
    for partner_id in ("acme", "northwind"):
        data = build_850(partners.get(partner_id), po_number=f"{partner_id}-1", lines=LINES)
        receipts[partner_id] = receive_document(sqlite_store, channel="sftp", partner_id=partner_id,
                                                source_name=f"{partner_id}.x12", data=data, max_bytes=10**6).id
    resources = {"hub_store": HubStoreResource(database_url=sqlite_store.url, partners_dir=str(partners_dir)),
                 "sftp": SftpResource(host="127.0.0.1", username="hub", known_hosts_path="/nonexistent")}

    with dg.instance_for_test(overrides=ONE_SLOT) as instance:
        outcome: dict[str, bool] = {}

        def intake(partner_id: str) -> None:
            config = {"ops": {"edi_inbound_orders": {"config": {"receipt_ids": [receipts[partner_id]]}}}}
            outcome[partner_id] = dg.materialize([edi_inbound_orders], instance=instance, resources=resources,
                                                 run_config=config, raise_on_error=False).success

        other = instance.create_run_for_job(_dying_intake_job, status=dg.DagsterRunStatus.STARTED)
        with pool_slot(instance, other, "another_acme_run", "sftp_acme"):  # acme's run elsewhere holds its pool
            intake("northwind")
            assert outcome.get("northwind") is True, "another partner's pool: runs at once"
            # (Dagster runs in process are not thread-safe with each other: one at a time in this process.)
            acme = threading.Thread(target=intake, args=("acme",), daemon=True)
            acme.start()
            time.sleep(3)
            assert acme.is_alive() and "acme" not in outcome, "acme's pool is taken: acme's run waits"
        acme.join(60)
        assert outcome.get("acme") is True, "then it runs"
    with sqlite_store.transaction() as conn:
        assert st.processed_receipt_ids(conn, receipts.values()) == set(receipts.values())


# --- the push drains its outbox ---------------------------------------------------------------------------


@dataclass
class Hub:
    defs: dg.Definitions
    store: st.HubStore
    partners: PartnerDirectory
    box: ToyBox
    instance: dg.DagsterInstance

    def receive(self, name: str, purchase_orders: int, control: int) -> None:
        """An acme file of ``purchase_orders`` POs through the intake: orders stored, toy box deliveries queued."""
        data = build_850(self.partners.get("acme"), po_number=name, purchase_orders=purchase_orders,
                         control_number=control, lines=LINES)
        receipt = receive_document(self.store, channel="sftp", partner_id="acme", source_name=f"{name}.x12",
                                   data=data, max_bytes=10**6)
        assert process_x12_receipt(self.store, self.partners, receipt.id).orders_created == purchase_orders

    def push(self, **tags: str) -> dg.ExecuteInProcessResult:
        return self.defs.resolve_job_def("toybox_push_job").execute_in_process(instance=self.instance, tags=tags)

    def pending(self) -> int:
        with self.store.transaction() as conn:
            return st.deliveries_by_state(conn, "toybox").get(st.PENDING, 0)

    def outbox_tick(self, cursor: str | None = None) -> dg.SensorExecutionData:
        sensor = self.defs.resolve_sensor_def("toybox_outbox")
        context = dg.build_sensor_context(instance=self.instance, cursor=cursor, definitions=self.defs,
                                          resources={"hub_store": (self.defs.resources or {})["hub_store"]})
        return sensor.evaluate_tick(context)


@pytest.fixture
def hub(sqlite_store, tmp_path, monkeypatch) -> Iterator[Hub]:
    for key, value in {**PLACEHOLDERS, "HUB_DATABASE_URL": sqlite_store.url,
                       "HUB_TOYBOX_FOLDER": str(tmp_path / "box")}.items():
        monkeypatch.setenv(key, value)
    partners_dir = _profiles(tmp_path / "partners")
    with dg.instance_for_test() as instance:
        yield Hub(build_definitions(partners_dir), sqlite_store, PartnerDirectory.load(partners_dir),
                  ToyBox(tmp_path / "box", "toybox"), instance)


def _push_metadata(result: dg.ExecuteInProcessResult) -> dict:
    (materialization,) = result.asset_materializations_for_node("toybox_orders")
    return {key: value.value for key, value in materialization.metadata.items()}


def _check(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (check,) = [c for c in result.get_asset_check_evaluations() if c.check_name == "toybox_orders_exactly_once"]
    return check


def test_one_push_run_delivers_more_than_one_batch(hub: Hub, monkeypatch):
    monkeypatch.setattr(drain, "PUSH_BATCH", 2)  # 5 orders: passes of 2, 2, 1
    hub.receive("PO", 5, control=1)
    result = hub.push()
    assert result.success
    meta = _push_metadata(result)
    assert (meta["pushed"], meta["passes"], meta["budget_spent"], meta["due_left"]) == (5, 3, False, 0)
    assert len(hub.box.writes()) == 5 and hub.pending() == 0


def test_the_budget_stops_a_push_and_the_outbox_sensor_starts_the_next(hub: Hub):
    hub.receive("PO", 5, control=1)
    ticks = iter([0.0, 0.5, 10.0, 20.0])  # the budget (1 s) is spent after the second pass
    drained = drain.drain_outbox(hub.store, hub.box, budget_s=1.0, batch=2, clock=lambda: next(ticks))
    assert (drained.summary.pushed, drained.passes, drained.budget_spent) == (4, 2, True)
    assert hub.pending() == 1

    tick = hub.outbox_tick()
    (request,) = tick.run_requests or []
    assert request.run_key == "toybox:outbox:1" and request.tags["hub/check_scope"] == "run"
    assert tick.cursor == "1"
    running = hub.instance.create_run_for_job(hub.defs.resolve_job_def("toybox_push_job"),
                                              status=dg.DagsterRunStatus.STARTED)
    assert not hub.outbox_tick(tick.cursor).run_requests, "a push run is on it already"
    hub.instance.report_run_canceled(running)

    assert hub.push(**request.tags).success  # the run the sensor asked for
    assert hub.pending() == 0 and len(hub.box.writes()) == 5
    assert not hub.outbox_tick(tick.cursor).run_requests, "nothing pending: no run"


def test_the_drain_stops_when_a_pass_is_not_full(hub: Hub):
    hub.receive("PO", 3, control=1)
    calls = []

    def push(store, target, *, limit):
        calls.append(limit)
        return drain.deliver_due_orders(store, target, limit=limit)

    drained = drain.drain_outbox(hub.store, hub.box, batch=2, push=push)
    assert calls == [2, 2] and drained.summary.pushed == 3 and not drained.budget_spent


# --- the check after a run looks at that run's orders -----------------------------------------------------


def test_the_check_after_a_run_looks_only_at_the_orders_it_delivered(hub: Hub):
    hub.receive("OLD", 2, control=1)
    assert hub.push(**{"hub/check_scope": "run"}).success
    for path in hub.box.records("acme", "OLD-1"):
        path.unlink()  # lost in the target after it was delivered: the full reconciliation's business

    hub.receive("NEW", 3, control=2)
    result = hub.push(**{"hub/check_scope": "run"})
    check = _check(result)
    assert check.metadata["scope"].value == "run"
    assert check.metadata["expected_orders"].value == 3, "the 3 orders this run delivered, not the store's 5"
    assert check.passed

    full = hub.defs.resolve_job_def("toybox_reconciliation_job").execute_in_process(instance=hub.instance)
    check = _check(full)
    assert check.metadata["scope"].value == "all" and check.metadata["expected_orders"].value == 5
    assert not check.passed and check.metadata["missing_po_numbers"].value == ["OLD-1"]


def test_the_scoped_check_still_fails_on_an_order_the_run_touched(hub: Hub):
    hub.receive("PO", 2, control=1)
    # A second record for PO-2 already in the target (a double made by hand): the push finds the first.
    (hub.box.folder / "acme").mkdir(parents=True)
    for n in (1, 2):
        (hub.box.folder / "acme" / f"PO-2.{n}.json").write_text(
            '{"total": "9.00", "lines": [["WID-100", "2"]], "live": true}')
    check = _check(hub.push(**{"hub/check_scope": "run"}))
    assert check.metadata["scope"].value == "run"
    assert not check.passed and check.metadata["doubled_count"].value == 1
