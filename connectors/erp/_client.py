"""A thin client for Odoo's External JSON-2 API: ``POST /json/2/<model>/<method>``, on the shared HTTP base."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx

from canonical.errors import ConfigurationError, HubError, RetriableError
from connectors._http import HttpConnector, StaticHeaderAuth
from connectors.erp._config import OdooConfig
from connectors.erp._errors import IN_DOUBT_STATUSES, ErpWriteInDoubt, error_from_response

_MODEL = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
# Odoo refuses methods starting with "_" (private) over RPC; refuse them before the round trip.
_METHOD = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]*$")

# ORM methods that only read: safe to send again after a timeout or a 5xx. Any other method
# (create, write, unlink, action_confirm, action_cancel, ...) may change data and is sent once.
READ_ONLY_METHODS = frozenset(
    {"read", "search", "search_read", "search_count", "search_fetch", "read_group", "name_search", "fields_get",
     "default_get"}
)


class OdooJson2Client(HttpConnector):
    """Calls any public model method over JSON-2 and returns its JSON result (floats as Decimal).

    Timeouts, Retry-After, pacing and logs without secrets come from ``connectors._http``.
    Read-only methods (:data:`READ_ONLY_METHODS`) are retried ``config.max_read_retries`` times
    with the base's backoff; a call that changes data is sent exactly once, because a timed-out
    create may still commit: one that got no answer raises :class:`ErpWriteInDoubt` with
    ``retry_after`` = ``config.in_doubt_wait_seconds``, and the outbox (``hub.delivery``) waits that
    long, then looks in the ERP before it tries again.
    Errors become hub errors in ``_errors.py`` (with ``retry_after`` from ``Retry-After``).

    Pass ``http_client`` (e.g. a Starlette ``TestClient``, left open on :meth:`close`) or
    ``transport`` (e.g. ``httpx.MockTransport``) in tests; ``sleep``/``clock``/``rng`` keep
    retry tests from waiting.
    """

    name = "odoo"

    def __init__(
        self,
        config: OdooConfig,
        *,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.odoo = config
        super().__init__(
            config.http_config(),
            auth=StaticHeaderAuth("Authorization", config.api_key, prefix="bearer"),
            transport=transport,
            http_client=http_client,
            sleep=sleep,
            clock=clock,
            rng=rng,
        )

    def __enter__(self) -> OdooJson2Client:
        return self

    def call(
        self,
        model: str,
        method: str,
        *,
        ids: list[int] | None = None,
        context: dict[str, Any] | None = None,
        **params: Any,
    ) -> Any:
        """Run ``model.method`` with named ``params`` on ``ids`` (record methods) and return its result."""
        if not _MODEL.match(model):
            raise ValueError(f"not an Odoo model name: {model!r}")
        if not _METHOD.match(method):
            raise ValueError(f"not a public Odoo method name: {method!r}")
        body: dict[str, Any] = {}
        if ids is not None:
            body["ids"] = list(ids)
        if context:
            body["context"] = context
        body.update(params)

        read_only = method in READ_ONLY_METHODS
        try:
            response = self.request(
                "POST",
                f"{self.odoo.endpoint}/{model}/{method}",
                content=json.dumps(body, default=_json_default, separators=(",", ":")).encode(),
                headers=self._headers(),
                max_retries=None if read_only else 0,
                idempotent=read_only,
            )
        except RetriableError as exc:
            if read_only or not _may_have_committed(exc):
                raise
            wait = self.odoo.in_doubt_wait_seconds
            raise ErpWriteInDoubt(
                f"{exc}; outcome unknown: the write may still commit, so it is looked up again after {wait:.0f} s "
                "before anything is written again",
                retry_after=wait,
            ) from exc
        if response.status_code != 200:
            # Odoo answers 200 or an error; another 2xx (a proxy's 204) is no result: the old contract's FatalError.
            error = self.classify_error(response)
            assert error is not None
            raise error
        try:
            return json.loads(response.content, parse_float=Decimal)
        except ValueError as exc:
            raise ConfigurationError(
                f"Odoo {model}.{method}: HTTP 200 but the body is not JSON; is {self.odoo.base_url} an Odoo 19+ server?"
            ) from exc

    def classify_error(self, response: httpx.Response) -> HubError | None:
        """Odoo's error bodies and statuses (``_errors.py``), with the API key blanked out of its message."""
        return error_from_response(
            response, call=_call_of(response.request), secret=self.odoo.api_key.get_secret_value()
        )

    def _headers(self) -> dict[str, str]:
        # Authorization comes from the auth; User-Agent and Accept from the base.
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.odoo.database:
            # A database name, not a secret: fine in requests the base may describe in logs.
            headers["X-Odoo-Database"] = self.odoo.database
        return headers


def _may_have_committed(error: RetriableError) -> bool:
    """Whether a failed write may have reached Odoo and committed (or may still commit)."""
    cause = error.__cause__
    if isinstance(cause, httpx.TransportError):
        # A connection never made carried nothing; anything later (timeout, reset) may have.
        return not isinstance(cause, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))
    return getattr(error, "status_code", None) in IN_DOUBT_STATUSES


def _call_of(request: httpx.Request) -> str:
    """``model.method`` from ``.../json/2/<model>/<method>``."""
    model, _, method = request.url.path.rstrip("/").rpartition("/")
    return f"{model.rpartition('/')[2]}.{method}"


def _json_default(value: Any) -> Any:
    """JSON for the Python values business code passes: Odoo wants floats and its own date formats."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime):
        # Odoo Datetime fields are naive UTC "YYYY-MM-DD HH:MM:SS".
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    raise TypeError(f"cannot send {type(value).__name__} to Odoo")
