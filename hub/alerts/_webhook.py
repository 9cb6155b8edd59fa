"""Alerts to a generic webhook: a documented JSON body, optionally signed with HMAC-SHA256, retried on 429/5xx."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import httpx

from canonical import __version__
from connectors._http import retry_after_seconds
from hub.alerts._alert import Alert
from hub.alerts._channel import AlertDeliveryError, scrub

SIGNATURE_HEADER = "X-Orderhub-Signature"
"""``sha256=<hex HMAC-SHA256 of the raw body with the shared secret>``, sent when a secret is configured."""


def signature(secret: str, body: bytes) -> str:
    """The value of ``SIGNATURE_HEADER`` for ``body`` (receivers compare it with ``hmac.compare_digest``)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class WebhookChannel:
    """POSTs each alert's JSON body (``Alert.body``) to one URL."""

    url: str = field(repr=False)  # may carry a token in its path or query: never logged whole
    secret: str | None = field(default=None, repr=False)
    timeout: float = 10.0
    max_retries: int = 3
    """Further attempts after a 429, a 5xx or a network error; other answers are final."""
    max_wait: float = 10.0
    """Longest pause before a retry, whatever Retry-After asks."""
    retry_budget: float = 15.0
    """Longest time paused in all: a sensor tick must end well within Dagster's sensor timeout (60 s by default)."""
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    transport: httpx.BaseTransport | None = field(default=None, repr=False, compare=False)
    name: str = "webhook"

    def send(self, alert: Alert) -> None:
        """Deliver ``alert``, retrying as configured, or raise ``AlertDeliveryError``."""
        body = json.dumps(alert.body(), separators=(",", ":"), sort_keys=True).encode()
        headers = {"Content-Type": "application/json", "User-Agent": f"orderhub/{__version__}"}
        if self.secret:
            headers[SIGNATURE_HEADER] = signature(self.secret, body)
        parts = urlsplit(self.url)  # only host and port are named in errors: the rest may carry a token
        where = f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)
        paused = 0.0
        with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
            for attempt in range(self.max_retries + 1):
                try:
                    response = client.post(self.url, content=body, headers=headers)
                except httpx.TransportError as exc:
                    problem, wait = type(exc).__name__, None
                else:
                    if response.is_success:
                        return
                    problem = f"HTTP {response.status_code}"
                    if not _retriable(response.status_code):
                        raise AlertDeliveryError(f"{where} answered {problem}")
                    wait = retry_after_seconds(response.headers.get("Retry-After"))
                pause = min(self.max_wait, 2.0**attempt if wait is None else wait)
                if attempt == self.max_retries or paused + pause > self.retry_budget:
                    break
                self.sleep(pause)
                paused += pause
        detail = scrub(problem, self.url, self.secret)
        attempts = attempt + 1
        raise AlertDeliveryError(f"{where}: {detail} after {attempts} attempt{'s' if attempts > 1 else ''}")


def _retriable(status: int) -> bool:
    return status == 429 or status >= 500
