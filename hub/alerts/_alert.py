"""An alert: what happened, in a few lines fit for email, a webhook or Slack. Never names or addresses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

WEBHOOK_BODY_VERSION = 1
"""The version of the webhook's JSON body (docs/operations.md, "Alerts"); raised on an incompatible change."""


class AlertKind(StrEnum):
    """What an alert is about."""

    RUN_FAILED = "run_failed"
    NEW_EXCEPTIONS = "new_exceptions"
    OVERDUE_ACKS = "overdue_acks"


@dataclass(frozen=True)
class Link:
    """A labelled URL (a run in the Dagster UI, the exception queue)."""

    label: str
    url: str


@dataclass(frozen=True)
class Alert:
    """One alert, built from ids, partner ids, file names, kinds and reasons only (no order PII)."""

    kind: AlertKind
    title: str
    lines: tuple[str, ...] = ()
    links: tuple[Link, ...] = ()
    counts: Mapping[str, int] = field(default_factory=dict)
    deployment: str = ""
    """The deployment's name (``HUB_ALERT_DEPLOYMENT``, e.g. ``prod``), so one inbox can serve several."""
    created_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def subject(self) -> str:
        """The title, prefixed with the deployment's name when one is configured (``[prod] ...``)."""
        return f"[{self.deployment}] {self.title}" if self.deployment else self.title

    def text(self) -> str:
        """The plain-text body: the lines, then the links."""
        parts = list(self.lines)
        if self.links:
            parts += ["", *(f"{link.label}: {link.url}" for link in self.links)]
        return "\n".join(parts) + "\n"

    def body(self) -> dict[str, Any]:
        """The webhook's JSON body (version ``WEBHOOK_BODY_VERSION``)."""
        return {
            "version": WEBHOOK_BODY_VERSION,
            "source": "orderhub",
            "deployment": self.deployment,
            "kind": str(self.kind),
            "title": self.title,
            "lines": list(self.lines),
            "links": [{"label": link.label, "url": link.url} for link in self.links],
            "counts": dict(self.counts),
            "created_at": self.created_at.isoformat(),
        }

