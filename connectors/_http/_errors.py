"""One mapping from HTTP answers to the hub's error tree, shared by every HTTP connector.

canonical.errors.ConfigurationError   401/403 (credentials, scopes), 404 by default (wrong base URL,
                                API version or shop), 3xx (we never follow redirects: a wrong URL)
canonical.errors.RetriableError       408, 425, 429, 5xx (not 501/505), connection failures, timeouts;
                                ``retry_after`` from the server's ``Retry-After``
canonical.errors.RejectedDocument     400, 409, 422: the server refused what we sent or asked for
canonical.errors.FatalError           any other status: the contract changed under us
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
from typing import Any

import httpx

from canonical.errors import ConfigurationError, FatalError, HubError, RejectedDocument, RetriableError

RETRIABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504, 507, 509, 520, 521, 522, 523, 524, 529})
_MAX_MESSAGE = 300


def retry_after_seconds(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds, possibly fractional, or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN is no hint
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - now).total_seconds())


def error_message(response: httpx.Response) -> str:
    """The server's own short error text from common JSON error bodies, else the reason phrase.

    Understands ``{"errors": "..."}``, ``{"errors": {"field": ["..."]}}`` (Shopify),
    ``{"errors": [{"code", "message"}]}`` (SP-API), ``{"message": "..."}`` and
    ``{"error": "...", "error_description": "..."}`` (OAuth).
    """
    try:
        body: Any = json.loads(response.content)
    except ValueError:
        return response.reason_phrase or ""
    text = _text_of(body)
    return _shorten(text) if text else (response.reason_phrase or "")


def _text_of(body: Any) -> str:
    if isinstance(body, str):
        return body
    if isinstance(body, list):
        return "; ".join(t for t in (_text_of(item) for item in body) if t)
    if not isinstance(body, dict):
        return ""
    if "errors" in body:
        errors = body["errors"]
        if isinstance(errors, dict):
            return "; ".join(f"{key}: {_text_of(value)}" for key, value in errors.items())
        return _text_of(errors)
    if "error" in body:
        parts = [_text_of(body["error"]), _text_of(body.get("error_description"))]
        return ": ".join(p for p in parts if p)
    if "message" in body:
        code = body.get("code")
        message = _text_of(body["message"])
        return f"{code}: {message}" if isinstance(code, str) and code else message
    return ""


def _shorten(message: str) -> str:
    message = " ".join(message.split())
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


def default_error(response: httpx.Response, *, what: str, retry_after: float | None) -> HubError:
    """The hub error for a non-2xx answer to ``what`` (e.g. ``"GET /admin/api/2024-10/orders.json"``)."""
    status = response.status_code
    message = error_message(response)
    text = f"{what}: HTTP {status}" + (f": {message}" if message else "")
    if status in (401, 403):
        return ConfigurationError(f"{text} (check the credentials, their expiry and the granted scopes)")
    if status == 404:
        return ConfigurationError(f"{text} (is the base URL, API version or account right?)")
    if 300 <= status < 400:
        return ConfigurationError(f"{text} (redirected to {response.headers.get('location', '?')}: wrong base URL?)")
    if status in (400, 409, 422):
        return RejectedDocument(text, location=what)
    if status in RETRIABLE_STATUSES:
        return RetriableError(text, retry_after=retry_after)
    return FatalError(text)
