"""A receipt whose run died is offered again by its inbox sensor (issue 8 point 4, sensor part).

The sensor's cursor moves on as soon as a file is receipted; if the run then fails or is lost, the
receipt stays ``received``. These tests drive the real sensor against a Dagster instance holding
the runs (failed, started, waiting for Dagster's own retry) and a real store on both backends.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest
import yaml

import hub.defs.edi.sensors as sensors
from hub import store as st
from hub.defs.resources import HubStoreResource, SftpResource
from hub.intake import process_x12_receipt
from hub.replay import replay_exception
from mappings.profiles import PartnerDirectory
from mappings.x12.samples import build_850
from sandbox.sftp_server import SandboxSftpServer
from tests.present import present

REPO = Path(__file__).resolve().parents[2]


@dg.op
def _dies() -> None:
    raise RuntimeError("the run died before processing its receipt")


@dg.job(name="edi_inbound_job")
def _dying_intake_job() -> None:
    _dies()


@dataclass
class Site:
    server: SandboxSftpServer
    known_hosts: Path
    partners_dir: Path
    store: st.HubStore
    instance: dg.DagsterInstance
    cursor: str | None = None
    runs: list[str] = field(default_factory=list)

    @property
    def partners(self) -> PartnerDirectory:
        return PartnerDirectory.load(self.partners_dir)

    def tick(self) -> list[dg.RunRequest]:
        sensor = sensors.sftp_inbox_sensor(self.partners.get("acme"), "edi_inbound_job")
        resources = {
            "hub_store": HubStoreResource(database_url=self.store.url, partners_dir=str(self.partners_dir)),
            "sftp": SftpResource(host=self.server.host, port=self.server.port, username="hub", password="pw",
                                 known_hosts_path=str(self.known_hosts)),
        }
        result = sensor.evaluate_tick(dg.build_sensor_context(instance=self.instance, cursor=self.cursor,
                                                              resources=resources))
        self.cursor = result.cursor
        return list(result.run_requests or [])

    def received(self, name: str = "po.x12") -> dg.RunRequest:
        """Drop a file and tick until it is receipted; returns the sensor's run request."""
        for folder in ("inbox", "archive"):
            (self.server.root / "acme" / folder).mkdir(parents=True, exist_ok=True)
        (self.server.root / "acme" / "inbox" / name).write_bytes(build_850(self.partners.get("acme")))
        for _ in range(2):  # taken on the tick that finds it unchanged since the one before
            if requests := self.tick():
                (request,) = requests
                return request
        raise AssertionError(f"{name} was never taken")

    def run_dies(self, request: dg.RunRequest, **extra_tags: str) -> dg.DagsterRun:
        """A run for the request that fails before processing (a killed run ends the same way once monitored)."""
        tags = {**request.tags, "dagster/run_key": present(request.run_key), **extra_tags}
        result = _dying_intake_job.execute_in_process(instance=self.instance, tags=tags, raise_on_error=False)
        assert not result.success
        return result.dagster_run

    def run_in_progress(self, request: dg.RunRequest, status=dg.DagsterRunStatus.STARTED) -> dg.DagsterRun:
        return self.instance.create_run_for_job(_dying_intake_job, status=status,
                                                tags={**request.tags, "dagster/run_key": present(request.run_key)})

    def exceptions(self) -> list[st.QueuedException]:
        with self.store.transaction() as conn:
            return st.list_exceptions(conn)


@pytest.fixture
def site(store, tmp_path, monkeypatch) -> Iterator[Site]:
    partners_dir = tmp_path / "partners"
    partners_dir.mkdir()
    shutil.copy(REPO / "mappings" / "partners" / "acme.yaml", partners_dir / "acme.yaml")
    assert yaml.safe_load((partners_dir / "acme.yaml").read_text())["channels"][0]["sftp"]["inbox"] == "acme/inbox"
    # No grace period: a run that ended is "long ago" at once (the grace itself has its own test).
    monkeypatch.setattr(sensors, "UNFINISHED_RECEIPT_GRACE", dt.timedelta(0), raising=False)
    with SandboxSftpServer(tmp_path / "sftp", username="hub", password="pw") as server, \
            dg.instance_for_test() as instance:
        server.write_known_hosts(tmp_path / "known_hosts")
        yield Site(server, tmp_path / "known_hosts", partners_dir, store, instance)


def test_a_receipt_whose_run_died_is_offered_again_under_a_new_stable_run_key(site: Site):
    first = site.received()
    receipt = first.tags["receipt"]
    site.run_dies(first)

    (again,) = site.tick()
    assert again.run_key == f"acme:{receipt}:retry-1"
    assert again.tags["receipt"] == receipt
    assert again.run_config["ops"]["edi_inbound_orders"]["config"]["receipt_ids"] == [int(receipt)]
    assert [r.run_key for r in site.tick()] == [again.run_key], "a re-tick asks again under the same key"

    site.run_in_progress(again)  # the daemon launched it
    assert site.tick() == [], "a run is on it: never doubled"


def test_a_run_not_started_yet_or_a_pending_dagster_retry_is_not_doubled(site: Site):
    first = site.received()
    site.run_in_progress(first, status=dg.DagsterRunStatus.NOT_STARTED)  # launched, not started yet
    assert site.tick() == []

    site2 = site.received("second.x12")
    failed = site.run_dies(site2)
    site.instance.add_run_tags(failed.run_id, {"dagster/will_retry": "true"})
    assert [r.tags["receipt"] for r in site.tick()] == [], "Dagster will retry it itself"

    # Dagster's retry was launched and failed too, with no retry left: now the sensor offers it.
    site.instance.add_run_tags(failed.run_id, {"dagster/auto_retry_run_id": "retry-run"})
    site.run_dies(site2, **{"dagster/will_retry": "false"})
    (again,) = site.tick()
    assert again.run_key == f"acme:{site2.tags['receipt']}:retry-2"


def test_a_poison_file_goes_to_the_exception_queue_after_the_last_attempt(site: Site, monkeypatch):
    monkeypatch.setattr(sensors, "MAX_INTAKE_RUNS", 2, raising=False)
    first = site.received()
    site.run_dies(first)
    (again,) = site.tick()
    site.run_dies(again)

    assert site.tick() == [] and site.tick() == []
    (queued,) = site.exceptions()
    assert queued.kind == "intake_not_finished" and queued.receipt_id == int(first.tags["receipt"])
    assert "2 intake runs" in queued.reason

    # After the fix, the replay processes the archived file; nothing is offered again.
    assert replay_exception(site.store, site.partners, queued.id).done
    assert site.tick() == []


def test_a_processed_receipt_is_never_offered_again(site: Site):
    first = site.received()
    process_x12_receipt(site.store, site.partners, int(first.tags["receipt"]))
    site.run_dies(first)  # e.g. the ack or ERP step failed after the intake committed
    assert site.tick() == []


def test_a_run_that_just_ended_gets_the_grace_period_first(site: Site, monkeypatch):
    monkeypatch.setattr(sensors, "UNFINISHED_RECEIPT_GRACE", dt.timedelta(minutes=10), raising=False)
    first = site.received()
    site.run_dies(first)
    assert site.tick() == [], "Dagster's run retries and monitoring get their chance first"
