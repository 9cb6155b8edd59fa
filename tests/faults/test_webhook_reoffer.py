"""A queued webhook body whose run died is offered again by the webhook queue sensor (issue 8 point 4).

The sensor's cursor is the highest receipt it asked a run for; if that run is killed, lost or fails
after Dagster's own retries, the receipt stays ``received`` and no tick asks again. These tests drive
the real ``shopify_webhook_queue`` sensor against a real Dagster instance holding the runs (failed,
queued, started, waiting for Dagster's retry) and the real store on both backends.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg
import pytest
from dagster._core.remote_origin import InProcessCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

import hub.defs.channels.assets as channel_assets
from hub import store as st
from hub.defs._reoffer import Reoffer, ReofferPolicy, receipts_to_offer_again
from hub.defs.channels.assets import webhook_asset, webhook_queue_sensor
from hub.defs.resources import HubStoreResource
from hub.intake import receive_document
from hub.replay import replay_exception
from mappings.profiles import PartnerDirectory, PartnerProfile
from sandbox.shopify_server import SandboxShopify
from tests.faults.invariants import assert_store_invariants
from tests.present import present

SHOP = PartnerProfile(id="sandbox-shop", name="Sandbox shop", channels=[{"kind": "shopify",
    "shop_domain": "sandbox-shop.myshopify.com", "access_token_env": "T", "webhook_secret_env": "S"}])
JOB = "shopify_webhook_job"


@dg.op
def _dies() -> None:
    raise RuntimeError("the run died before processing its webhook body")


@dg.job(name=JOB)
def _dying_webhook_job() -> None:
    _dies()


@dataclass
class Queue:
    store: st.HubStore
    instance: dg.DagsterInstance
    shop: SandboxShopify
    cursor: str | None = None

    def tick(self) -> list[dg.RunRequest]:
        sensor = webhook_queue_sensor(JOB)
        resources = {"hub_store": HubStoreResource(database_url=self.store.url, partners_dir="unused")}
        result = sensor.evaluate_tick(dg.build_sensor_context(instance=self.instance, cursor=self.cursor,
                                                              resources=resources))
        self.cursor = result.cursor
        return list(result.run_requests or [])

    def webhook(self, webhook_id: str, *, received_at: dt.datetime | None = None) -> int:
        """A verified webhook body archived and queued, as the receiver does it."""
        (order_id,) = self.shop.seed_orders(1)
        receipt = receive_document(self.store, channel="shopify_webhook", partner_id=SHOP.id,
                                   source_name=f"orders/create:{webhook_id}", data=self.shop.webhook_body(order_id),
                                   max_bytes=1 << 20, now=received_at)
        return receipt.id

    def run_dies(self, request: dg.RunRequest, **extra_tags: str) -> dg.DagsterRun:
        """A run for the request that fails before processing (a killed run ends so once monitored)."""
        tags = {**request.tags, "dagster/run_key": present(request.run_key), **extra_tags}
        result = _dying_webhook_job.execute_in_process(instance=self.instance, tags=tags, raise_on_error=False)
        assert not result.success
        return result.dagster_run

    def run_killed(self, request: dg.RunRequest) -> dg.DagsterRun:
        """A run for the request that started and was killed (terminated from the UI, or by run monitoring)."""
        run = self.run_waiting(request, dg.DagsterRunStatus.STARTED)
        self.instance.report_run_canceled(run)
        assert self.instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.CANCELED
        return run

    def run_waiting(self, request: dg.RunRequest, status: dg.DagsterRunStatus) -> dg.DagsterRun:
        """A run for the request that the daemon queued or started and that has not ended yet."""
        # A queued run must say where its code lives (the daemon launches it from there).
        origin = RemoteJobOrigin(RemoteRepositoryOrigin(InProcessCodeLocationOrigin(
            LoadableTargetOrigin(python_file=__file__, attribute="_dying_webhook_job")), "__repository__"), JOB)
        return self.instance.create_run_for_job(_dying_webhook_job, status=status, remote_job_origin=origin,
                                                tags={**request.tags, "dagster/run_key": present(request.run_key)})

    def run(self, request: dg.RunRequest) -> dg.ExecuteInProcessResult:
        """The request's run as the daemon would launch it (the webhook asset, without the ERP step)."""
        resources = {"hub_store": HubStoreResource(database_url=self.store.url, partners_dir="unused")}
        return dg.materialize([webhook_asset()], instance=self.instance, resources=resources,
                              run_config=request.run_config, tags=request.tags)

    def exceptions(self, state: st.ExceptionState | None = st.OPEN) -> list[st.QueuedException]:
        with self.store.transaction() as conn:
            return st.list_exceptions(conn, state=state)

    def receipt(self, receipt_id: int) -> st.Receipt:
        with self.store.transaction() as conn:
            return st.get_receipt(conn, receipt_id)


@pytest.fixture
def queue(store, monkeypatch) -> Iterator[Queue]:
    # No grace period: a run that ended is "long ago" at once (the grace itself has its own test).
    monkeypatch.setattr(channel_assets, "WEBHOOK_REOFFER_GRACE", dt.timedelta(0), raising=False)
    monkeypatch.setattr(HubStoreResource, "partners", lambda self: PartnerDirectory([SHOP]))
    with SandboxShopify(access_token="t", webhook_secret="s", shop_domain=SHOP.shopify.shop_domain) as shop, \
            dg.instance_for_test() as instance:
        yield Queue(store, instance, shop)


@pytest.mark.parametrize("dies", ["failed", "killed"])
def test_a_webhook_whose_run_died_is_offered_again_once_under_a_new_run_key(queue: Queue, dies: str):
    receipt_id = queue.webhook("w-1")
    (first,) = queue.tick()
    assert first.run_key == f"webhook:{receipt_id}"
    queue.run_dies(first) if dies == "failed" else queue.run_killed(first)

    (again,) = queue.tick()
    assert again.run_key == f"webhook:{receipt_id}:retry-1", "a new key: Dagster would skip the old one"
    assert again.tags["receipt"] == str(receipt_id)
    assert again.run_config == first.run_config
    assert [r.run_key for r in queue.tick()] == [again.run_key], "a re-tick asks again under the same key only"

    # The daemon launches it: it processes the body, and nothing is offered again.
    assert queue.run(again).success
    assert queue.receipt(receipt_id).state == "processed"
    assert queue.tick() == []
    assert_store_invariants(queue.store)


@pytest.mark.parametrize("status", [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED,
                                    dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING])
def test_a_webhook_with_a_run_queued_or_started_is_not_offered_again(queue: Queue, status):
    queue.webhook("w-1")
    (first,) = queue.tick()
    queue.run_dies(first)
    (again,) = queue.tick()
    queue.run_waiting(again, status)
    assert queue.tick() == [], "a run is on it: never doubled"


def test_a_pending_dagster_retry_is_not_doubled_and_counts_as_an_attempt(queue: Queue):
    receipt_id = queue.webhook("w-1")
    (first,) = queue.tick()
    failed = queue.run_dies(first)
    queue.instance.add_run_tags(failed.run_id, {"dagster/will_retry": "true"})
    assert queue.tick() == [], "Dagster will retry it itself"

    # Dagster's retry was launched and failed too, with no retry left: now the sensor offers it.
    queue.instance.add_run_tags(failed.run_id, {"dagster/auto_retry_run_id": "the-retry"})
    queue.run_dies(first, **{"dagster/will_retry": "false"})
    (again,) = queue.tick()
    assert again.run_key == f"webhook:{receipt_id}:retry-2"


def test_a_webhook_no_run_finishes_goes_to_the_exception_queue_after_the_last_attempt(queue: Queue, monkeypatch):
    monkeypatch.setattr(channel_assets, "WEBHOOK_MAX_RUNS", 3, raising=False)
    receipt_id = queue.webhook("w-1")
    other = queue.webhook("w-2")
    first, second = queue.tick()
    queue.run_dies(first)
    assert queue.run(second).success  # the other body's run worked
    for attempt in (1, 2):
        (again,) = queue.tick()
        assert again.run_key == f"webhook:{receipt_id}:retry-{attempt}"
        queue.run_dies(again)

    assert queue.tick() == [] and queue.tick() == [], "given up: not offered again, queued once"
    (queued,) = queue.exceptions()
    assert queued.kind == "intake_not_finished" and queued.channel == "shopify_webhook"
    assert queued.receipt_id == receipt_id and queued.partner_id == SHOP.id
    assert queued.reason.startswith("Shopify webhook 'orders/create:w-1' was received but 3 intake runs ended")
    assert f"receipt={receipt_id}" in queued.reason and "replay" in queued.reason
    assert queue.receipt(other).state == "processed"

    # After the fix, the replay maps the archived body; the exception closes, nothing is offered again.
    assert replay_exception(queue.store, PartnerDirectory([SHOP]), queued.id).done
    assert queue.receipt(receipt_id).state == "processed" and queue.exceptions() == []
    assert queue.tick() == []
    assert_store_invariants(queue.store)


def test_a_webhook_whose_run_just_ended_gets_the_grace_period_first(queue: Queue, monkeypatch):
    monkeypatch.setattr(channel_assets, "WEBHOOK_REOFFER_GRACE", dt.timedelta(minutes=10), raising=False)
    queue.webhook("w-1")
    (first,) = queue.tick()
    queue.run_dies(first)
    assert queue.tick() == [], "Dagster's run retries and run monitoring get their chance first"


def test_an_old_webhook_with_no_run_at_all_is_offered_once_the_grace_period_is_over(queue: Queue, monkeypatch):
    monkeypatch.setattr(channel_assets, "WEBHOOK_REOFFER_GRACE", dt.timedelta(minutes=10), raising=False)
    old = queue.webhook("w-old", received_at=st.utcnow() - dt.timedelta(minutes=11))
    queue.cursor = str(old)  # its request was lost (e.g. the instance was reset) after the cursor moved
    fresh = queue.webhook("w-new")
    assert [r.run_key for r in queue.tick()] == [f"webhook:{fresh}", f"webhook:{old}:retry-0"]


def test_the_shared_reoffer_serves_one_partner_of_a_channel_as_the_inbox_sensors_need(queue: Queue):
    """hub.defs._reoffer as an SFTP inbox sensor calls it: its partner only, its own tags and keys."""
    def sftp_receipt(partner: str, name: str) -> st.Receipt:
        return receive_document(queue.store, channel="sftp", partner_id=partner, source_name=name,
                                data=f"ISA {partner} {name}".encode(), max_bytes=1 << 20)

    mine, theirs = sftp_receipt("acme", "a.x12"), sftp_receipt("globex", "b.x12")
    taken_now = sftp_receipt("acme", "c.x12")
    queue.webhook("w-1")  # another channel: not this sensor's

    def offer(**kw) -> list[Reoffer]:
        return receipts_to_offer_again(
            queue.instance, queue.store, channel="sftp", partner_id="acme", key_prefix="acme",
            run_tags=lambda r: {"partner": r.partner_id, "receipt": str(r.id)},
            describe=lambda r: f"file '{r.source_name}'", skip={taken_now.id},
            policy=ReofferPolicy(grace=dt.timedelta(0), max_runs=1), **kw)

    assert [(o.receipt.id, o.run_key, o.runs) for o in offer()] == [(mine.id, f"acme:{mine.id}:retry-0", 0)]
    _dying_webhook_job.execute_in_process(instance=queue.instance, raise_on_error=False,
                                          tags={"partner": "acme", "receipt": str(mine.id)})
    assert offer() == [] and offer() == []
    (queued,) = queue.exceptions()
    assert (queued.kind, queued.channel, queued.receipt_id, queued.document_ref) == (
        "intake_not_finished", "sftp", mine.id, "file 'a.x12'")
    assert theirs.id not in {q.receipt_id for q in queue.exceptions()}
