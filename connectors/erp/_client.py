"""A thin client for Odoo's External JSON-2 API: ``POST /json/2/<model>/<method>``."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from decimal import Decimal
from types import TracebackType
from typing import Any

import httpx

from connectors.erp._config import OdooConfig
from connectors.erp._errors import error_from_response
from hub.errors import ConfigurationError, RetriableError

_log = logging.getLogger(__name__)

_MODEL = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
# Odoo refuses methods starting with "_" (private) over RPC; refuse them before the round trip.
_METHOD = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]*$")


class OdooJson2Client:
    """Calls any public model method over JSON-2 and returns its JSON result (floats as Decimal).

    Pass ``http_client`` (e.g. a Starlette ``TestClient``) or ``transport`` (e.g.
    ``httpx.MockTransport``) in tests; otherwise the client opens and owns its own connection pool.
    """

    def __init__(
        self,
        config: OdooConfig,
        *,
        http_client: httpx.Client | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            timeout=httpx.Timeout(config.timeout_seconds),
            transport=transport,
            # Odoo answers JSON-2 calls directly; a redirect means a wrong base URL (e.g. http -> https
            # or a login page), which must not silently turn the POST into a GET.
            follow_redirects=False,
        )

    def __enter__(self) -> OdooJson2Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool if this client opened it."""
        if self._owns_http:
            self._http.close()

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

        call = f"{model}.{method}"
        url = f"{self.config.endpoint}/{model}/{method}"
        started = time.monotonic()
        try:
            response = self._http.post(
                url,
                content=json.dumps(body, default=_json_default, separators=(",", ":")).encode(),
                headers=self._headers(),
            )
        except httpx.TimeoutException as exc:
            # A timed-out create may still commit on the server: callers must look before they retry.
            raise RetriableError(f"Odoo {call}: timed out after {self.config.timeout_seconds:g}s") from exc
        except httpx.TransportError as exc:
            raise RetriableError(f"Odoo {call}: cannot reach {self.config.base_url}: {type(exc).__name__}") from exc

        elapsed_ms = (time.monotonic() - started) * 1000
        # Model, method and status only: parameters and results can hold customer data.
        _log.debug("odoo %s -> HTTP %s in %.0f ms", call, response.status_code, elapsed_ms)
        if response.status_code != 200:
            error = error_from_response(response, call=call, secret=self.config.api_key.get_secret_value())
            # Odoo's message can quote record values (names, addresses): it travels in the exception only.
            _log.warning("odoo %s failed: HTTP %s (%s)", call, response.status_code, type(error).__name__)
            raise error
        try:
            return json.loads(response.content, parse_float=Decimal)
        except ValueError as exc:
            raise ConfigurationError(
                f"Odoo {call}: HTTP 200 but the body is not JSON; is {self.config.base_url} an Odoo 19+ server?"
            ) from exc

    def _headers(self) -> dict[str, str]:
        headers = {
            "Authorization": f"bearer {self.config.api_key.get_secret_value()}",
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "User-Agent": self.config.user_agent,
        }
        if self.config.database:
            headers["X-Odoo-Database"] = self.config.database
        return headers


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
