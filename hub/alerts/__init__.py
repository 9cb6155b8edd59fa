"""Alerts: run failures, new exceptions and overdue acks, sent by email, a webhook or Slack. No Dagster here.

``dispatch(alert, build_channels(AlertSettings()))`` sends one alert everywhere configured; the checks in
``_watch`` say what is new since a cursor. ``hub.defs.alerts`` runs them as Dagster sensors.
"""

from hub.alerts._alert import WEBHOOK_BODY_VERSION, Alert, AlertKind, Link
from hub.alerts._channel import AlertChannel, AlertDeliveryError, Delivery, DispatchReport, dispatch
from hub.alerts._compose import FailedStep, new_exceptions_alert, overdue_acks_alert, run_failed_alert
from hub.alerts._settings import AlertConfig, AlertSettings, build_channels
from hub.alerts._slack import SlackChannel
from hub.alerts._smtp import SmtpChannel, SmtpSecurity
from hub.alerts._watch import AckCursor, ExceptionCursor, check_new_exceptions, check_overdue_acks
from hub.alerts._webhook import SIGNATURE_HEADER, WebhookChannel, signature

__all__ = [
    "SIGNATURE_HEADER",
    "WEBHOOK_BODY_VERSION",
    "AckCursor",
    "Alert",
    "AlertChannel",
    "AlertConfig",
    "AlertDeliveryError",
    "AlertKind",
    "AlertSettings",
    "Delivery",
    "DispatchReport",
    "ExceptionCursor",
    "FailedStep",
    "Link",
    "SlackChannel",
    "SmtpChannel",
    "SmtpSecurity",
    "WebhookChannel",
    "build_channels",
    "check_new_exceptions",
    "check_overdue_acks",
    "dispatch",
    "new_exceptions_alert",
    "overdue_acks_alert",
    "run_failed_alert",
    "signature",
]
