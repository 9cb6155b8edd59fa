"""The alert sensors evaluated against a real store (SQLite and PostgreSQL), sending to a real SMTP server and a
real webhook receiver on 127.0.0.1: each exception and each overdue ack alerts once, a failed run alerts."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import itertools

import dagster as dg
import pytest
from pydantic import ValidationError

from hub import store as st
from hub.alerts import AckCursor, AlertConfig, AlertSettings, ExceptionCursor, check_new_exceptions
from hub.defs.alerts import (
    AlertNotDelivered,
    AlertsResource,
    alert_definitions,
    alerts_resource,
    new_exceptions_sensor,
    overdue_acks_sensor,
    run_failure_sensor,
)
from hub.defs.resources import HubStoreResource
from tests.fixtures._integration import free_port
from tests.fixtures.alert_receivers import http_receiver, smtp_sink
from tests.fixtures.store import postgres_store_url

SETTINGS = AlertConfig()
SECRET = "hook-secret"


@pytest.fixture
def smtp():
    with smtp_sink() as sink:
        yield sink


@pytest.fixture
def http():
    with http_receiver() as receiver:
        yield receiver


@pytest.fixture
def alerts(smtp, http) -> AlertsResource:
    """Email and webhook on, two items listed per alert, acks overdue after 30 minutes."""
    return AlertsResource(
        deployment="test", ui_url="http://ui.test/", smtp_host="127.0.0.1", smtp_port=str(smtp.port),
        smtp_tls="none", smtp_from="hub@example.test", smtp_to="ops@example.test", webhook_url=f"{http.url}/alerts",
        webhook_secret=SECRET, webhook_max_retries="0", max_items="2", ack_overdue_minutes="30",
    )


@pytest.fixture
def instance():
    with dg.DagsterInstance.ephemeral() as dagster_instance:
        yield dagster_instance


@pytest.fixture
def hub_store(store, tmp_path) -> HubStoreResource:
    return HubStoreResource(database_url=store.url, partners_dir=str(tmp_path))


def tick(sensor: dg.SensorDefinition, cursor: str | None, **resources) -> tuple[str, str | None]:
    """Evaluate ``sensor`` once: its skip message and the cursor it leaves."""
    with dg.build_sensor_context(cursor=cursor, resources=resources) as context:  # `with`: tears the resources down
        result = sensor(context)
    assert isinstance(result, dg.SkipReason)
    return result.skip_message or "", context.cursor


_refs = itertools.count(1)


def queue_exception(store: st.HubStore, *, kind: str = "not_x12", reason: str = "not an X12 interchange",
                    file: str | None = None) -> int:
    """A new open exception (its own document_ref: open_exception returns the same id for the same thing)."""
    now = st.utcnow()
    with store.transaction() as conn:
        receipt_id = None
        if file is not None:
            sha = st.archive_raw(conn, file.encode(), now=now)
            receipt_id = st.record_receipt(conn, channel="sftp", partner_id="acme", source_name=file,
                                           raw_sha256=sha, now=now).id
        return st.open_exception(conn, channel="sftp", kind=kind, reason=reason, now=now, partner_id="acme",
                                 receipt_id=receipt_id, document_ref=f"ST {next(_refs)}")


def queue_ack(store: st.HubStore, *, control: str, age: dt.timedelta) -> int:
    with store.transaction() as conn:
        return st.queue_outbound(conn, partner_id="acme", kind="997", receipt_id=None, control_number=control,
                                 file_name=f"997_{control}.x12", content="ISA*...~", now=st.utcnow() - age)


def test_new_exceptions_alert_once_by_email_and_webhook(store, hub_store, alerts, smtp, http):
    sensor = new_exceptions_sensor(SETTINGS)
    first = queue_exception(store, file="po-0001.edi")
    second = queue_exception(store, kind="rejected_document", reason="BEG03\nmissing")
    third = queue_exception(store, kind="unknown_order", reason="change of PO 77 never received")

    message, cursor = tick(sensor, None, hub_store=hub_store, hub_alerts=alerts)

    assert "email: sent; webhook: sent" in message
    [mail] = smtp.received
    assert mail.message["Subject"] == "[test] 3 new exceptions in the queue"
    body = mail.message.get_content()
    assert f"#{first} acme not_x12 [po-0001.edi]: not an X12 interchange" in body
    assert f"#{second} acme rejected_document: BEG03 missing" in body
    assert f"#{third}" not in body and "and 1 more" in body
    assert "exception queue: http://ui.test/assets/exception_queue" in body
    [request] = http.received
    assert request.headers["x-orderhub-signature"] == \
        "sha256=" + hmac.new(SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.json()["counts"] == {"new": 3, "not_x12": 1, "rejected_document": 1, "unknown_order": 1}

    # Nothing new: nothing sent. One more: only it.
    message, cursor = tick(sensor, cursor, hub_store=hub_store, hub_alerts=alerts)
    assert message == "no new exception"
    assert len(smtp.received) == 1 and len(http.received) == 1
    fourth = queue_exception(store, kind="duplicate_order", reason="PO 12 already stored")
    tick(sensor, cursor, hub_store=hub_store, hub_alerts=alerts)
    assert len(http.received) == 2
    assert http.received[1].json()["lines"][0] == f"#{fourth} acme duplicate_order: PO 12 already stored"


def test_an_exception_closed_before_the_tick_is_not_alerted(store, hub_store, alerts, http):
    gone = queue_exception(store)
    with store.transaction() as conn:
        st.close_exception(conn, gone, state=st.RESOLVED, now=st.utcnow(), note="handled")
    message, cursor = tick(new_exceptions_sensor(SETTINGS), None, hub_store=hub_store, hub_alerts=alerts)
    assert message == "no new exception" and http.received == []
    assert ExceptionCursor.load(cursor).after_id == gone


def test_an_exception_committed_late_below_the_mark_still_alerts_once(store):
    """On PostgreSQL id 10 can commit after id 11: ids below the mark not seen yet are watched for an hour."""
    early, late = queue_exception(store), queue_exception(store)
    assert early < late
    now = st.utcnow()
    cursor = ExceptionCursor(after_id=late, gaps={early: now.timestamp()})  # `late` seen, `early` not yet
    alert, cursor = check_new_exceptions(store, cursor, SETTINGS, now=now)
    assert alert is not None and alert.lines[0].startswith(f"#{early} ")
    assert cursor.gaps == {}
    alert, _ = check_new_exceptions(store, cursor, SETTINGS, now=now)
    assert alert is None

    expired = ExceptionCursor(after_id=late, gaps={early: (now - dt.timedelta(hours=2)).timestamp()})
    alert, cursor = check_new_exceptions(store, expired, SETTINGS, now=now)
    assert alert is None and cursor.gaps == {}


def test_gaps_below_the_mark_are_remembered(store):
    first, second, third = queue_exception(store), queue_exception(store), queue_exception(store)
    with store.transaction() as conn:  # `second` invisible: pretend it is still uncommitted
        conn.execute(st.tables.exceptions.delete().where(st.tables.exceptions.c.id == second))
    _, cursor = check_new_exceptions(store, ExceptionCursor(), SETTINGS, now=st.utcnow())
    assert cursor.after_id == third and set(cursor.gaps) == {second}
    assert ExceptionCursor.load(cursor.dump()) == cursor
    assert first < second < third


def test_overdue_acks_alert_once_until_they_change(store, hub_store, alerts, smtp, http):
    sensor = overdue_acks_sensor(SETTINGS)
    late = queue_ack(store, control="000000101", age=dt.timedelta(minutes=45))
    queue_ack(store, control="000000102", age=dt.timedelta(minutes=5))  # not overdue yet

    message, cursor = tick(sensor, None, hub_store=hub_store, hub_alerts=alerts)
    [request] = http.received
    body = request.json()
    assert body["kind"] == "overdue_acks" and body["title"] == "1 acknowledgement overdue (over 30 min)"
    assert body["lines"][0].startswith("997 997_000000101.x12 to acme: pending since ")
    assert f"outbound #{late}, control number 000000101" in body["lines"][0]
    assert smtp.received[0].message["X-Orderhub-Alert"] == "overdue_acks"
    assert AckCursor.load(cursor).alerted == {late: "pending"}

    message, cursor = tick(sensor, cursor, hub_store=hub_store, hub_alerts=alerts)
    assert message == "no newly overdue acknowledgement" and len(http.received) == 1

    with store.transaction() as conn:  # pending -> failed is a change: alerted again
        st.mark_outbound_failed(conn, late)
    _, cursor = tick(sensor, cursor, hub_store=hub_store, hub_alerts=alerts)
    assert len(http.received) == 2 and ": failed since " in http.received[1].json()["lines"][0]

    with store.transaction() as conn:  # requeued and sent: leaves the cursor
        st.requeue_outbound(conn, late, content="ISA*...~")
        st.mark_outbound_sent(conn, late, now=st.utcnow())
    _, cursor = tick(sensor, cursor, hub_store=hub_store, hub_alerts=alerts)
    assert len(http.received) == 2 and AckCursor.load(cursor).alerted == {}


def test_when_every_channel_is_down_the_tick_fails_and_keeps_its_cursor(store, hub_store, http):
    sensor = new_exceptions_sensor(SETTINGS)
    down = AlertsResource(webhook_url=f"http://127.0.0.1:{free_port()}/x", webhook_max_retries="0")
    queue_exception(store)
    with (dg.build_sensor_context(cursor=None, resources={"hub_store": hub_store, "hub_alerts": down}) as context,
          pytest.raises(AlertNotDelivered, match=r"webhook: 127\.0\.0\.1:[0-9]+: ConnectError")):
        sensor(context)
    assert context.cursor is None

    up = AlertsResource(webhook_url=http.url)
    message, _ = tick(sensor, context.cursor, hub_store=hub_store, hub_alerts=up)
    assert message.endswith("webhook: sent") and len(http.received) == 1


def test_without_channels_alerts_are_logged_only(store, hub_store, caplog):
    queue_exception(store)
    message, cursor = tick(new_exceptions_sensor(SETTINGS), None, hub_store=hub_store, hub_alerts=AlertsResource())
    assert message.endswith("no alert channel configured: logged only")
    assert ExceptionCursor.load(cursor).after_id > 0
    assert "1 new exception in the queue" in caplog.text


@dg.op
def parse_file() -> None:
    raise ValueError("segment BEG missing")


@dg.job
def failing_job() -> None:
    parse_file()


def test_a_failed_run_alerts_with_job_run_step_error_class_and_link(instance, alerts, smtp, http):
    result = failing_job.execute_in_process(instance=instance, raise_on_error=False,
                                            tags={"partner": "acme", "receipt": "42"})
    assert not result.success
    with dg.build_run_status_sensor_context(
        sensor_name="alert_on_run_failure", dagster_event=result.get_run_failure_event(),
        dagster_instance=instance, dagster_run=result.dagster_run, resources={"hub_alerts": alerts},
    ).for_run_failure() as context:
        run_failure_sensor(SETTINGS)(context)

    run_id = result.dagster_run.run_id
    [request] = http.received
    body = request.json()
    assert body["kind"] == "run_failed" and body["title"] == "Run of failing_job failed"
    assert body["lines"] == ["Job: failing_job", f"Run: {run_id}", "Failed step: parse_file (ValueError)",
                             "partner: acme", "receipt: 42"]
    assert body["links"] == [{"label": "run", "url": f"http://ui.test/runs/{run_id}"}]
    assert "segment BEG missing" not in request.body.decode()  # error text may hold order data: class only
    assert smtp.received[0].message["Subject"] == "[test] Run of failing_job failed"


def test_alert_definitions_load_and_read_the_environment(store, hub_store, http, monkeypatch):
    monkeypatch.setenv("HUB_ALERT_WEBHOOK_URL", f"{http.url}/from-env")
    monkeypatch.setenv("HUB_ALERT_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("HUB_ALERT_DEPLOYMENT", "staging")
    parts = alert_definitions(AlertSettings(sensor_interval_seconds=120))
    defs = dg.Definitions(sensors=parts["sensors"], resources={"hub_store": hub_store, **parts["resources"]})
    dg.Definitions.validate_loadable(defs)
    sensors = {s.name: s for s in defs.get_repository_def().sensor_defs}
    assert set(sensors) == {"alert_on_run_failure", "alert_new_exceptions", "alert_overdue_acks"}
    assert sensors["alert_new_exceptions"].minimum_interval_seconds == 120
    resource = alerts_resource()
    assert isinstance(resource.webhook_secret, dg.EnvVar)  # read by Dagster at each tick, not baked in

    queue_exception(store)
    tick(sensors["alert_new_exceptions"], None, hub_store=hub_store, hub_alerts=resource)
    [request] = http.received
    assert request.path == "/from-env" and request.json()["deployment"] == "staging"
    assert request.headers["x-orderhub-signature"].startswith("sha256=")


def test_invalid_alert_settings_fail_the_ticks_not_the_code_location(store, hub_store, monkeypatch):
    monkeypatch.setenv("HUB_ALERT_SMTP_HOST", "mail.example.test")  # no FROM, no TO
    monkeypatch.setenv("HUB_ALERT_SMTP_PASSWORD", "smtp-S3CRET")
    parts = alert_definitions()
    dg.Definitions.validate_loadable(
        dg.Definitions(sensors=parts["sensors"], resources={"hub_store": hub_store, **parts["resources"]}))

    queue_exception(store)
    sensor = new_exceptions_sensor(SETTINGS)
    with (dg.build_sensor_context(resources={"hub_store": hub_store, "hub_alerts": alerts_resource()}) as context,
          pytest.raises(ValidationError, match="HUB_ALERT_SMTP_TO") as invalid):
        sensor(context)
    assert "smtp-S3CRET" not in str(invalid.value)


def test_a_run_failed_outside_any_step_alerts_too(instance, alerts, http):
    """A run marked failed by Dagster itself (run monitoring, a lost run worker) has no step failure events."""
    run = instance.create_run_for_job(job_def=failing_job, tags={"partner": "acme"})
    event = instance.report_run_failed(run)
    failed = instance.get_run_by_id(run.run_id)
    assert event is not None and failed is not None
    with dg.build_run_status_sensor_context(
        sensor_name="alert_on_run_failure", dagster_event=event, dagster_instance=instance,
        dagster_run=failed, resources={"hub_alerts": alerts},
    ).for_run_failure() as context:
        run_failure_sensor(SETTINGS)(context)

    lines = http.received[0].json()["lines"]
    assert lines == ["Job: failing_job", f"Run: {run.run_id}", "Failed outside a step (no error recorded)",
                     "partner: acme"]


@pytest.mark.integration
def test_an_exception_committed_after_a_higher_id_still_alerts(request):
    """PostgreSQL: a transaction holding a lower id commits after one holding a higher id, between two ticks."""
    store = st.HubStore(postgres_store_url(request)).migrate()
    try:
        slow = store.engine.connect()
        slow_tx = slow.begin()
        now = st.utcnow()
        low = st.open_exception(slow, channel="sftp", kind="not_x12", reason="slow writer", now=now,
                                partner_id="acme", document_ref="slow")
        high = queue_exception(store)
        assert low < high
        alert, cursor = check_new_exceptions(store, ExceptionCursor(), SETTINGS, now=now)
        assert alert is not None and [line.split()[0] for line in alert.lines[:-1]] == [f"#{high}"]
        assert cursor.after_id == high and set(cursor.gaps) == {low}

        slow_tx.commit()
        slow.close()
        alert, cursor = check_new_exceptions(store, cursor, SETTINGS, now=st.utcnow())
        assert alert is not None and [line.split()[0] for line in alert.lines[:-1]] == [f"#{low}"]
        assert cursor.gaps == {}
        assert check_new_exceptions(store, cursor, SETTINGS, now=st.utcnow())[0] is None
    finally:
        store.dispose()
