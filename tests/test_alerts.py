"""Alert channels against real receivers on 127.0.0.1: an SMTP server (aiosmtpd), an HTTP server for the
webhook and as Slack's Web API (slack_sdk speaks urllib, not httpx, so respx cannot stand in for Slack)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging

import pytest
from pydantic import ValidationError

from hub.alerts import (
    SIGNATURE_HEADER,
    Alert,
    AlertChannel,
    AlertConfig,
    AlertDeliveryError,
    AlertKind,
    AlertSettings,
    FailedStep,
    Link,
    SlackChannel,
    SmtpChannel,
    SmtpSecurity,
    WebhookChannel,
    build_channels,
    dispatch,
    overdue_acks_alert,
    run_failed_alert,
)
from hub.store import OutboundState, OverdueOutbound
from tests.fixtures._integration import free_port
from tests.fixtures.alert_receivers import http_receiver, self_signed_cert, smtp_sink
from tests.fixtures.clock import FakeClock

ALERT = Alert(
    kind=AlertKind.NEW_EXCEPTIONS, title="2 new exceptions in the queue",
    lines=("#1 acme not_x12 [po-1.edi]: not an X12 interchange", "#2 acme rejected_document: BEG03 missing"),
    links=(Link("exception queue", "http://ui.test/assets/exception_queue"),), counts={"new": 2},
    deployment="test",
)


@pytest.fixture
def smtp():
    with smtp_sink() as sink:
        yield sink


@pytest.fixture
def http():
    with http_receiver() as receiver:
        yield receiver


def email(port: int, **kwargs) -> SmtpChannel:
    defaults = {"security": SmtpSecurity.NONE, "timeout": 5.0}
    return SmtpChannel(host="127.0.0.1", port=port, sender="hub@example.test",
                       recipients=("ops@example.test", "oncall@example.test"), **{**defaults, **kwargs})


def test_email_reaches_a_local_smtp_server(smtp):
    email(smtp.port).send(ALERT)

    [mail] = smtp.received
    assert mail.mail_from == "hub@example.test"
    assert mail.rcpt_tos == ["ops@example.test", "oncall@example.test"]
    assert mail.message["Subject"] == "[test] 2 new exceptions in the queue"
    assert mail.message["To"] == "ops@example.test, oncall@example.test"
    assert mail.message["X-Orderhub-Alert"] == "new_exceptions"
    body = mail.message.get_content()
    assert "#1 acme not_x12 [po-1.edi]: not an X12 interchange" in body
    assert "exception queue: http://ui.test/assets/exception_queue" in body


def test_email_over_starttls_logs_in(tmp_path):
    cert, key = self_signed_cert(tmp_path)
    with smtp_sink(users={"alerts": "s3cret-pw"}, tls_cert=(cert, key)) as sink:
        email(sink.port, security=SmtpSecurity.STARTTLS, ca_file=str(cert), username="alerts",
              password="s3cret-pw").send(ALERT)
        assert sink.logins == ["alerts"] and sink.received[0].authenticated
        assert len(sink.received) == 1

        with pytest.raises(AlertDeliveryError) as refused:
            email(sink.port, security=SmtpSecurity.STARTTLS, ca_file=str(cert), username="alerts",
                  password="wrong-pw").send(ALERT)
        assert "SMTPAuthenticationError" in str(refused.value)
        assert "wrong-pw" not in str(refused.value)
        assert len(sink.received) == 1


def test_starttls_is_required_when_configured(smtp):
    with pytest.raises(AlertDeliveryError, match="SMTPNotSupportedError"):
        email(smtp.port, security=SmtpSecurity.STARTTLS).send(ALERT)
    assert smtp.received == []


def test_webhook_body_is_signed_with_hmac_sha256(http):
    WebhookChannel(url=f"{http.url}/hooks/alerts", secret="hook-secret").send(ALERT)

    [request] = http.received
    assert request.path == "/hooks/alerts"
    assert request.headers["content-type"] == "application/json"
    expected = "sha256=" + hmac.new(b"hook-secret", request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers[SIGNATURE_HEADER.lower()], expected)
    body = request.json()
    assert body["version"] == 1 and body["source"] == "orderhub" and body["deployment"] == "test"
    assert body["kind"] == "new_exceptions"
    assert body["title"] == "2 new exceptions in the queue"
    assert body["lines"][1] == "#2 acme rejected_document: BEG03 missing"
    assert body["links"] == [{"label": "exception queue", "url": "http://ui.test/assets/exception_queue"}]
    assert body["counts"] == {"new": 2}


def test_webhook_without_secret_is_not_signed(http):
    WebhookChannel(url=http.url).send(ALERT)
    assert SIGNATURE_HEADER.lower() not in http.received[0].headers


def test_webhook_retries_429_and_5xx_honouring_retry_after(http, clock: FakeClock):
    http.answer(503, {"error": "busy"}, {"Retry-After": "7"})
    http.answer(429, {"error": "slow down"}, {"Retry-After": "3600"})  # capped by max_wait
    http.answer(502)
    WebhookChannel(url=http.url, max_retries=3, max_wait=30.0, retry_budget=60.0, sleep=clock.sleep).send(ALERT)

    assert len(http.received) == 4
    assert clock.sleeps == [7.0, 30.0, 4.0]  # the third had no Retry-After: backoff 2**attempt
    assert len({r.body for r in http.received}) == 1


def test_webhook_stops_retrying_when_its_pause_budget_is_spent(http, clock: FakeClock):
    http.answer(503, None, {"Retry-After": "8"})
    http.answer(503, None, {"Retry-After": "8"})
    with pytest.raises(AlertDeliveryError, match=r"HTTP 503 after 2 attempts"):
        WebhookChannel(url=http.url, max_retries=3, sleep=clock.sleep).send(ALERT)  # budget 15 s: one pause
    assert clock.sleeps == [8.0] and len(http.received) == 2


def test_webhook_gives_up_after_its_retries(http, clock: FakeClock):
    for _ in range(4):
        http.answer(500)
    with pytest.raises(AlertDeliveryError, match=r"HTTP 500 after 3 attempts"):
        WebhookChannel(url=http.url, max_retries=2, sleep=clock.sleep).send(ALERT)
    assert len(http.received) == 3


def test_webhook_does_not_retry_a_client_error(http, clock: FakeClock):
    http.answer(400, {"error": "bad"})
    with pytest.raises(AlertDeliveryError, match="answered HTTP 400"):
        WebhookChannel(url=http.url, sleep=clock.sleep).send(ALERT)
    assert len(http.received) == 1 and clock.sleeps == []


def test_webhook_error_never_shows_its_url_token(clock: FakeClock):
    url = f"http://hub:T0KEN@127.0.0.1:{free_port()}/hooks/T0KEN-in-path?key=T0KEN"
    with pytest.raises(AlertDeliveryError) as down:
        WebhookChannel(url=url, max_retries=1, sleep=clock.sleep).send(ALERT)
    assert "ConnectError after 2 attempts" in str(down.value)
    assert "T0KEN" not in str(down.value)


def test_slack_posts_with_chat_post_message(http):
    http.answer(200, {"ok": True, "channel": "C123", "ts": "1700000000.000100"})
    SlackChannel.from_token("xoxb-test-token", "#ops-alerts", base_url=f"{http.url}/api/").send(ALERT)

    [request] = http.received
    assert request.path == "/api/chat.postMessage"
    assert request.headers["authorization"] == "Bearer xoxb-test-token"
    body = request.json()
    assert body["channel"] == "#ops-alerts"
    assert body["text"].startswith("*[test] 2 new exceptions in the queue*\n#1 acme not_x12")


def test_slack_ok_false_is_reported_with_its_error_code(http):
    http.answer(200, {"ok": False, "error": "channel_not_found"})
    with pytest.raises(AlertDeliveryError, match="Slack refused: channel_not_found"):
        SlackChannel.from_token("xoxb-test-token", "#nowhere", base_url=f"{http.url}/api/").send(ALERT)


def test_a_channel_that_is_down_is_reported_and_the_others_deliver(smtp, http, clock: FakeClock):
    down = free_port()  # nothing listens: connection refused
    channels: list[AlertChannel] = [
        email(down),
        WebhookChannel(url=f"http://127.0.0.1:{down}/hook", max_retries=1, sleep=clock.sleep),
        email(smtp.port),
        SlackChannel.from_token("xoxb-test-token", "#ops", base_url=f"{http.url}/api/"),
    ]
    report = dispatch(ALERT, channels)

    assert [d.channel for d in report.failed] == ["email", "webhook"]
    assert "ConnectionRefusedError" in str(report.failed[0].error)
    assert "ConnectError" in str(report.failed[1].error)
    assert not report.lost
    assert len(smtp.received) == 1
    assert [r.path for r in http.received] == ["/api/chat.postMessage"]
    assert "webhook: 127.0.0.1" in report.summary() and "slack: sent" in report.summary()


def test_all_channels_down_is_lost(clock: FakeClock):
    report = dispatch(ALERT, [email(free_port())])
    assert report.lost


def test_no_channel_configured_logs_the_alert(caplog):
    with caplog.at_level(logging.WARNING, logger="hub.alerts"):
        report = dispatch(ALERT, build_channels(AlertConfig()))
    assert report.deliveries == () and not report.lost
    assert report.summary() == "no alert channel configured: logged only"
    assert "[test] 2 new exceptions in the queue" in caplog.text


def test_settings_from_the_environment_build_the_channels(monkeypatch):
    for key, value in {
        "HUB_ALERT_SMTP_HOST": "mail.example.test", "HUB_ALERT_SMTP_PORT": "465", "HUB_ALERT_SMTP_TLS": "ssl",
        "HUB_ALERT_SMTP_FROM": "hub@example.test", "HUB_ALERT_SMTP_TO": "a@example.test, b@example.test",
        "HUB_ALERT_SMTP_USERNAME": "hub", "HUB_ALERT_SMTP_PASSWORD": "smtp-pw",
        "HUB_ALERT_WEBHOOK_URL": "https://hooks.example.test/x", "HUB_ALERT_WEBHOOK_SECRET": "hook-secret",
        "HUB_ALERT_SLACK_TOKEN": "xoxb-1", "HUB_ALERT_SLACK_CHANNEL": "#ops", "HUB_UI_URL": "https://dagster.test/",
        "HUB_ALERT_ACK_OVERDUE_MINUTES": "30",
    }.items():
        monkeypatch.setenv(key, value)
    settings = AlertSettings()
    smtp_channel, webhook, slack = build_channels(settings)

    assert isinstance(smtp_channel, SmtpChannel) and isinstance(webhook, WebhookChannel)
    assert isinstance(slack, SlackChannel)
    assert (smtp_channel.port, smtp_channel.security, smtp_channel.password) == (465, SmtpSecurity.SSL, "smtp-pw")
    assert smtp_channel.recipients == ("a@example.test", "b@example.test")
    assert webhook.secret == "hook-secret" and slack.channel == "#ops"
    assert settings.ack_overdue_minutes == 30
    assert settings.run_url("abc") == "https://dagster.test/runs/abc"
    for secret in ("smtp-pw", "hook-secret", "xoxb-1", "hooks.example.test"):
        assert secret not in repr(settings) and secret not in repr(build_channels(settings))


def test_incomplete_channel_settings_are_refused():
    with pytest.raises(ValidationError, match="HUB_ALERT_SMTP_TO") as invalid:
        AlertConfig.model_validate({"smtp_host": "mail.example.test", "smtp_from": "hub@example.test",
                                      "smtp_password": "smtp-S3CRET"})
    assert "smtp-S3CRET" not in str(invalid.value)
    with pytest.raises(ValidationError, match="HUB_ALERT_SLACK_CHANNEL"):
        AlertConfig.model_validate({"slack_token": "xoxb-1"})


def test_webhook_body_is_the_documented_json():
    body = ALERT.body()
    assert set(body) == {"version", "source", "deployment", "kind", "title", "lines", "links", "counts", "created_at"}
    assert json.loads(json.dumps(body)) == body


def test_overdue_acks_alert_lists_the_first_items_and_counts_all():
    when = dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC)
    docs = [OverdueOutbound(id=i, partner_id="acme", kind="TA1" if i == 3 else "997", control_number=f"00000000{i}",
                            file_name=f"ack_{i}.x12", state=OutboundState.FAILED if i == 3 else OutboundState.PENDING,
                            created_at=when) for i in (1, 2, 3)]
    alert = overdue_acks_alert(docs, max_items=2, minutes=60, deployment="prod")
    assert alert.subject() == "[prod] 3 acknowledgements overdue (over 60 min)"
    assert alert.lines[:3] == (
        "997 ack_1.x12 to acme: pending since 2026-12-04 08:00 UTC (outbound #1, control number 000000001)",
        "997 ack_2.x12 to acme: pending since 2026-12-04 08:00 UTC (outbound #2, control number 000000002)",
        "and 1 more",
    )
    assert alert.counts == {"overdue": 3, "pending": 2, "failed": 1}


def test_a_run_that_failed_outside_a_step_says_so():
    alert = run_failed_alert(job_name="erp_push_job", run_id="r1", run_url="http://ui/runs/r1", steps=[],
                             run_error_class="DagsterRunWorkerCrash")
    assert alert.lines == ("Job: erp_push_job", "Run: r1", "Failed outside a step (DagsterRunWorkerCrash)")
    assert alert.counts == {"failed_steps": 0}
    two = run_failed_alert(job_name="j", run_id="r2", run_url="u",
                           steps=[FailedStep("a", "ValueError"), FailedStep("b", None)])
    assert two.lines[2:] == ("Failed step: a (ValueError)", "Failed step: b (error)")
