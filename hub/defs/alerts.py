"""Alert sensors: a failed run, new exceptions, overdue acks, each sent to the channels ``HUB_ALERT_*`` configure.

``alert_definitions()`` returns the sensors and the ``hub_alerts`` resource to add to the Definitions. The
resource's fields are ``EnvVar``s of the variables set when the definitions load, resolved by Dagster at each
tick, so secrets never sit in the definitions; a deployment that sets none gets alerts in the log only.
The sensors launch no runs: each tick reports what it sent as its skip reason. When every configured channel
fails, the tick fails: the exceptions and acks sensors keep their cursor, so the next tick sends the same alert
again; Dagster moves a run status sensor's cursor on regardless, and records the error on the tick and in the
failed run's event log instead.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import ValidationError

from hub import store as st
from hub.alerts import (
    AckCursor,
    Alert,
    AlertChannel,
    AlertConfig,
    AlertSettings,
    ExceptionCursor,
    FailedStep,
    build_channels,
    check_new_exceptions,
    check_overdue_acks,
    dispatch,
    run_failed_alert,
)
from hub.defs.resources import HubStoreResource

if TYPE_CHECKING:  # the type of a failure event's `error`; Dagster does not export it at the top level
    from dagster._utils.error import SerializableErrorInfo

log = logging.getLogger(__name__)

RESOURCE_KEY = "hub_alerts"
RUN_TAGS = ("partner", "receipt", "hub/connector")  # run tags worth repeating in an alert: ids, never names


class AlertsResource(dg.ConfigurableResource):
    """Alert channels and thresholds; every field is the ``HUB_ALERT_*`` variable of the same name (as text)."""

    deployment: str = ""
    ui_url: str = ""  # HUB_UI_URL
    smtp_host: str = ""
    smtp_port: str = ""
    smtp_tls: str = ""
    smtp_from: str = ""
    smtp_to: str = ""
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout: str = ""
    smtp_ca_file: str = ""
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_timeout: str = ""
    webhook_max_retries: str = ""
    slack_token: str = ""
    slack_channel: str = ""
    slack_timeout: str = ""
    slack_base_url: str = ""
    ack_overdue_minutes: str = ""
    max_items: str = ""

    def settings(self) -> AlertConfig:
        """The settings these fields give (an empty field keeps ``AlertConfig``'s default)."""
        values = {name: getattr(self, name) for name in env_names() if getattr(self, name)}
        return AlertConfig.model_validate(values)

    def channels(self) -> list[AlertChannel]:
        """The configured channels (none: alerts are logged only)."""
        return build_channels(self.settings())


def env_names() -> dict[str, str]:
    """Each ``AlertsResource`` field and the environment variable it reads."""
    return {name: "HUB_UI_URL" if name == "ui_url" else f"HUB_ALERT_{name.upper()}"
            for name in AlertsResource.model_fields}


def alerts_resource(environ: Mapping[str, str] | None = None) -> AlertsResource:
    """The resource reading, through ``EnvVar``, every alert variable set in ``environ`` (default: os.environ)."""
    environ = os.environ if environ is None else environ
    return AlertsResource(**{name: dg.EnvVar(var) for name, var in env_names().items() if environ.get(var)})


class AlertNotDelivered(Exception):
    """No configured channel took the alert: the tick fails and keeps its cursor, so the next one tries again."""


def send(alert: Alert, hub_alerts: AlertsResource) -> str:
    """Dispatch ``alert``; what happened, for the tick's skip reason."""
    report = dispatch(alert, hub_alerts.channels())
    if report.lost:
        raise AlertNotDelivered(f"{alert.subject()}: {report.summary()}")
    return f"{alert.subject()}: {report.summary()}"


def _store_alert_sensor(settings: AlertConfig, *, name: str, description: str, check: Any, cursor_type: Any,
                        nothing: str) -> dg.SensorDefinition:
    """A sensor that asks ``check`` for an alert since its cursor, sends it, and moves the cursor on."""

    @dg.sensor(name=name, minimum_interval_seconds=settings.sensor_interval_seconds,
               default_status=dg.DefaultSensorStatus.RUNNING, description=description)
    def _sensor(context: dg.SensorEvaluationContext, hub_store: HubStoreResource, hub_alerts: AlertsResource):
        alert, cursor = check(hub_store.store(), cursor_type.load(context.cursor), hub_alerts.settings(),
                              now=st.utcnow())
        outcome = send(alert, hub_alerts) if alert is not None else nothing
        context.update_cursor(cursor.dump())
        return dg.SkipReason(outcome)

    return _sensor


def new_exceptions_sensor(settings: AlertConfig) -> dg.SensorDefinition:
    """Alerts once for each exception queued since the last tick (its cursor: an id high-water mark)."""
    return _store_alert_sensor(
        settings, name="alert_new_exceptions", check=check_new_exceptions, cursor_type=ExceptionCursor,
        description="Sends one alert per tick listing the exceptions queued since the last one.",
        nothing="no new exception",
    )


def overdue_acks_sensor(settings: AlertConfig) -> dg.SensorDefinition:
    """Alerts once for each 997/TA1 pending or failed past ``HUB_ALERT_ACK_OVERDUE_MINUTES`` (again if it changes)."""
    return _store_alert_sensor(
        settings, name="alert_overdue_acks", check=check_overdue_acks, cursor_type=AckCursor,
        description="Sends an alert for acknowledgements we owe partners that are overdue and not alerted yet.",
        nothing="no newly overdue acknowledgement",
    )


def run_failure_sensor(settings: AlertConfig) -> dg.SensorDefinition:
    """Alerts for every failed run of this code location: job, run id, failing steps and error classes, a link."""

    @dg.run_failure_sensor(
        name="alert_on_run_failure", minimum_interval_seconds=settings.sensor_interval_seconds,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description="Sends an alert for each failed run, with its failing steps and a link to it in the UI.",
    )
    def _sensor(context: dg.RunFailureSensorContext, hub_alerts: AlertsResource):
        run = context.dagster_run
        steps = [FailedStep(event.step_key or "?", _error_class(getattr(event.event_specific_data, "error", None)))
                 for event in context.get_step_failure_events()]
        alert_settings = hub_alerts.settings()
        alert = run_failed_alert(
            job_name=run.job_name, run_id=run.run_id, run_url=alert_settings.run_url(run.run_id), steps=steps,
            run_error_class=_error_class(getattr(context.failure_event.event_specific_data, "error", None)),
            tags={key: run.tags[key] for key in RUN_TAGS if key in run.tags}, deployment=alert_settings.deployment,
        )
        context.log.info(send(alert, hub_alerts))

    return _sensor


def alert_definitions(settings: AlertConfig | None = None) -> dict[str, Any]:
    """The alert sensors and their resource: ``{"sensors": [...], "resources": {"hub_alerts": ...}}``.

    They also need the ``hub_store`` resource the other definitions have.
    """
    if settings is None:
        try:
            settings = AlertSettings()
        except ValidationError as exc:
            # A mistake in the alert settings must not take the code location (intake, pushes) down with it: the
            # alert sensors' ticks fail with the same message until it is fixed.
            log.error("alert settings are invalid; the alert sensors fail until they are fixed: %s", exc)
            settings = AlertSettings.model_construct()  # defaults, without reading the environment again
    return {
        "sensors": [run_failure_sensor(settings), new_exceptions_sensor(settings), overdue_acks_sensor(settings)],
        "resources": {RESOURCE_KEY: alerts_resource()},
    }


def _error_class(error: SerializableErrorInfo | None) -> str | None:
    """The user's error class: Dagster wraps a step's exception in its own (DagsterExecutionStepExecutionError)."""
    while error is not None and error.cls_name and error.cls_name.startswith("Dagster") and error.cause is not None:
        error = error.cause
    return error.cls_name if error is not None else None


@dg.definitions
def alerts() -> dg.Definitions:
    """The alert sensors and the ``hub_alerts`` resource, as ``dg.load_from_defs_folder`` loads them."""
    parts = alert_definitions()
    return dg.Definitions(sensors=parts["sensors"], resources=parts["resources"])
