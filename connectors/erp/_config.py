"""Connection settings for an Odoo database reached through the External JSON-2 API."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pydantic import Field, field_validator, model_validator

from connectors._http import HttpConnectorConfig
from connectors._http._config import HttpAccountConfig, Secret


class OdooConfig(HttpAccountConfig):
    """Where the Odoo server is and how to authenticate; the API key never appears in reprs or logs.

    ``http.base_url`` is the server root, e.g. ``https://mycompany.example.com`` (a trailing ``/json/2``
    is dropped). ``http.max_retries`` (flat: ``max_read_retries``, default 0) applies to read-only calls
    (search_read, read, ...) only: calls that change data are never retried by the client; the outbox
    retries them after looking whether they took effect. ``http.connect_timeout_seconds`` defaults to
    ``http.timeout_seconds``.
    """

    flat_http_names: ClassVar[Mapping[str, str]] = {
        **{flat: name for flat, name in HttpAccountConfig.flat_http_names.items() if name != "max_retries"},
        "max_read_retries": "max_retries",
    }

    database: str | None = Field(
        default=None, description="Sent as `X-Odoo-Database`; only needed when one server hosts several databases."
    )
    api_key: Secret = Field(description="A user's API key, sent as `Authorization: bearer <key>`.")
    write_settle_seconds: float | None = Field(
        default=None,
        gt=0,
        description="How long after a write that got no answer (timeout, dropped connection, proxy 502/504) "
        "the hub waits before it looks the record up and may write again: longer than `timeout_seconds` and "
        "than the longest an Odoo request can still run after its client left (`limit_time_real`, 120 s by "
        "default in multi-worker mode). Default: the larger of `timeout_seconds` + 60 and 180.",
    )

    @classmethod
    def http_defaults(cls, values: Mapping[str, Any], http: Mapping[str, Any]) -> dict[str, Any]:
        """Reads are not retried unless asked; connecting may take as long as an answer."""
        return {"max_retries": 0, "connect_timeout_seconds": http.get("timeout_seconds", 30)}

    @field_validator("http")
    @classmethod
    def _server_root(cls, value: HttpConnectorConfig) -> HttpConnectorConfig:
        if value.base_url.endswith("/json/2"):
            # A common mistake when copying from Odoo's examples; the client adds the prefix itself.
            return value.model_copy(update={"base_url": value.base_url[: -len("/json/2")]})
        return value

    @model_validator(mode="after")
    def _settle_after_timeout(self) -> OdooConfig:
        if self.write_settle_seconds is not None and self.write_settle_seconds <= self.http.timeout_seconds:
            raise ValueError("write_settle_seconds must be longer than timeout_seconds: a write without an answer "
                             "may still commit until then")
        return self

    @property
    def in_doubt_wait_seconds(self) -> float:
        """Seconds to wait after a write whose outcome is unknown before looking it up (never an immediate retry)."""
        if self.write_settle_seconds is not None:
            return self.write_settle_seconds
        return max(self.http.timeout_seconds + 60, 180.0)

    @property
    def endpoint(self) -> str:
        """The JSON-2 root URL, `<base_url>/json/2`."""
        return f"{self.base_url}/json/2"
