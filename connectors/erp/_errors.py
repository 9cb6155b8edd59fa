"""How answers from Odoo's JSON-2 API become the hub's errors (the ERP's ``classify_error``).

Odoo's error body (``{"name", "message", "arguments", "context", "debug"}``) and a few of its
statuses differ from the shared mapping in ``connectors._http``, so the ERP keeps its own:

canonical.errors.ConfigurationError   401/403 (bad or expired API key, missing access right),
                                404 for an unknown model, method or database,
                                3xx (a wrong base URL: redirects are never followed),
                                anything that is not a JSON-2 endpoint
canonical.errors.RetriableError       408, 409, 425, 429, 5xx, connection failures and timeouts
                                (``retry_after`` from the server's ``Retry-After``)
    └── ErpWriteInDoubt         a write sent without an answer (timeout, connection dropped
                                after sending, proxy 408/502/504): it may have committed or
                                still commit; ``retry_after`` is how long to wait before
                                looking it up (the client's ``in_doubt_wait_seconds``)
canonical.errors.RejectedDocument
    └── ErpRejected             400/422 (Odoo refused the values: validation, unknown
                                product, missing partner), 413 (a body over the server's
                                limit: send fewer records) and records that no longer exist
canonical.errors.FatalError           any other status: the contract changed under us
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from canonical.errors import ConfigurationError, FatalError, HubError, RejectedDocument, RetriableError
from connectors._http import retry_after_seconds

_MAX_MESSAGE = 300
_RETRIABLE = {408, 409, 425, 429, 500, 502, 503, 504}

# Answers after which a write may still commit: a proxy that gave up waiting, not Odoo's own refusal.
IN_DOUBT_STATUSES = frozenset({408, 502, 504})
# The name of the custom module's UNIQUE(origin, client_order_ref) constraint (docs/operations.md),
# which Odoo quotes in its ValidationError when a second create for the same reference is refused.
UNIQUE_REF_CONSTRAINT = "orderhub_ref_unique"

__all__ = ["ErpRejected", "ErpUnavailable", "ErpWriteInDoubt", "error_from_response", "is_duplicate_reference",
           "retry_after_seconds"]


class ErpUnavailable(RetriableError):
    """A transient ERP answer (429, 5xx) with its HTTP status: the client tells in-doubt writes by it."""

    def __init__(self, message: str, *, status_code: int, retry_after: float | None = None) -> None:
        super().__init__(message, retry_after=retry_after)
        self.status_code = status_code


class ErpWriteInDoubt(RetriableError):
    """A write got no answer: its outcome is unknown until it can no longer be in flight; look before writing again."""

    write_in_doubt = True


def is_duplicate_reference(error: ErpRejected) -> bool:
    """Whether Odoo refused a create because the unique customer reference constraint says it exists already."""
    return error.error_name.endswith("ValidationError") and UNIQUE_REF_CONSTRAINT in error.reason


class ErpRejected(RejectedDocument):
    """The ERP refused what we sent for this order; fix the data (or the ERP's master data), then replay."""

    def __init__(
        self,
        reason: str,
        *,
        location: str | None = None,
        status_code: int | None = None,
        error_name: str | None = None,
    ) -> None:
        super().__init__(reason, location=location)
        self.status_code = status_code
        self.error_name = error_name or ""


def error_from_response(response: httpx.Response, *, call: str, secret: str) -> HubError:
    """The hub error for a non-200 JSON-2 answer to ``call`` ("model.method").

    The message carries Odoo's own message (shortened, with ``secret`` blanked out) but never
    the ``debug`` traceback, which can quote record values.
    """
    status = response.status_code
    name, message = _error_name_and_message(response)
    message = _redact(message, secret)
    text = f"Odoo {call}: HTTP {status}" + (f" {name}" if name else "") + (f": {message}" if message else "")

    if status in (401, 403):
        return ConfigurationError(f"{text} (check the API key, its expiry and the user's access rights)")
    if status == 404:
        if name.endswith("MissingError"):
            return ErpRejected(text, status_code=status, error_name=name)
        return ConfigurationError(f"{text} (is the Odoo app installed and the base URL / database right?)")
    if 300 <= status < 400:
        where = _redact(response.headers.get("location", "?"), secret)
        return ConfigurationError(f"{text} (redirected to {where}: is the base URL right?)")
    if status in (400, 413, 422):
        return ErpRejected(text, status_code=status, error_name=name)
    if status in _RETRIABLE:
        return ErpUnavailable(text, status_code=status,
                              retry_after=retry_after_seconds(response.headers.get("Retry-After")))
    return FatalError(text)


def _error_name_and_message(response: httpx.Response) -> tuple[str, str]:
    try:
        body: Any = json.loads(response.content)
    except ValueError:
        body = None
    if isinstance(body, dict):
        name = str(body.get("name") or "")
        message = body.get("message")
        if not message and isinstance(body.get("arguments"), list) and body["arguments"]:
            message = body["arguments"][0]
        return name, _shorten(str(message or ""))
    # Not Odoo's error object: a proxy page or an older server. Keep only the reason phrase.
    return "", response.reason_phrase or ""


def _shorten(message: str) -> str:
    message = " ".join(message.split())
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


def _redact(message: str, secret: str) -> str:
    return message.replace(secret, "***") if secret else message
