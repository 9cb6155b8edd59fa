"""The one small protocol every alert channel follows, and sending an alert to all of them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from hub.alerts._alert import Alert

log = logging.getLogger("hub.alerts")


class AlertDeliveryError(Exception):
    """A channel could not deliver; the message is safe to log (no secret, no webhook URL)."""


class AlertChannel(Protocol):
    """Somewhere alerts go (email, a webhook, Slack)."""

    @property
    def name(self) -> str:
        """Short name used in reports and logs (``email``, ``webhook``, ``slack``)."""
        ...

    def send(self, alert: Alert) -> None:
        """Deliver ``alert`` or raise ``AlertDeliveryError``."""
        ...


@dataclass(frozen=True)
class Delivery:
    """How sending one alert to one channel went."""

    channel: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the channel took the alert."""
        return self.error is None


@dataclass(frozen=True)
class DispatchReport:
    """How sending one alert to every configured channel went."""

    deliveries: tuple[Delivery, ...]

    @property
    def failed(self) -> tuple[Delivery, ...]:
        """The channels that did not take it."""
        return tuple(d for d in self.deliveries if not d.ok)

    @property
    def lost(self) -> bool:
        """Channels are configured and none took the alert: the caller should try again later."""
        return bool(self.deliveries) and len(self.failed) == len(self.deliveries)

    def summary(self) -> str:
        """One line for a sensor's tick or a log: who got it, who did not and why."""
        if not self.deliveries:
            return "no alert channel configured: logged only"
        return "; ".join(f"{d.channel}: {'sent' if d.ok else d.error}" for d in self.deliveries)


def dispatch(alert: Alert, channels: Sequence[AlertChannel]) -> DispatchReport:
    """Send ``alert`` to each channel in turn; a failing channel is reported and never stops the others.

    With no channel configured the alert is logged (a deployment without alerting still has a trace).
    """
    if not channels:
        log.warning("alert %s (no channel configured): %s\n%s", alert.kind, alert.subject(), alert.text())
        return DispatchReport(())
    deliveries = []
    for channel in channels:
        try:
            channel.send(alert)
        except AlertDeliveryError as exc:
            deliveries.append(Delivery(channel.name, str(exc)))
        except Exception as exc:  # noqa: BLE001 - one channel's bug must not stop the others; its text may hold secrets
            deliveries.append(Delivery(channel.name, f"unexpected {type(exc).__name__}"))
            log.error("alert channel %s failed unexpectedly (%s)", channel.name, type(exc).__name__)
        else:
            deliveries.append(Delivery(channel.name))
    report = DispatchReport(tuple(deliveries))
    if report.failed:
        log.error("alert %s not delivered everywhere: %s", alert.kind, report.summary())
    else:
        log.info("alert %s sent: %s", alert.kind, report.summary())
    return report


def scrub(text: str, *secrets: str | None) -> str:
    """``text`` with every non-empty secret replaced by ``***`` (server answers may echo what we sent)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text
