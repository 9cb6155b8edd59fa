"""Connection settings for an Odoo database reached through the External JSON-2 API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from connectors._http import HttpConnectorConfig
from canonical import __version__


class OdooConfig(BaseModel):
    """Where the Odoo server is and how to authenticate; the API key never appears in reprs or logs."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str = Field(description="Server root, e.g. `https://mycompany.example.com` (no `/json/2`).")
    database: str | None = Field(
        default=None, description="Sent as `X-Odoo-Database`; only needed when one server hosts several databases."
    )
    api_key: SecretStr = Field(description="A user's API key, sent as `Authorization: bearer <key>`.")
    timeout_seconds: float = Field(default=30, gt=0)
    connect_timeout_seconds: float | None = Field(default=None, gt=0, description="Default: `timeout_seconds`.")
    max_read_retries: int = Field(
        default=0,
        ge=0,
        description="Retries of a read-only call (search_read, read, ...) after its first attempt, with the "
        "shared base's backoff and Retry-After. Calls that change data are never retried here: the outbox "
        "retries them after looking whether they took effect.",
    )
    write_settle_seconds: float | None = Field(
        default=None,
        gt=0,
        description="How long after a write that got no answer (timeout, dropped connection, proxy 502/504) "
        "the hub waits before it looks the record up and may write again: longer than `timeout_seconds` and "
        "than the longest an Odoo request can still run after its client left (`limit_time_real`, 120 s by "
        "default in multi-worker mode). Default: the larger of `timeout_seconds` + 60 and 180.",
    )
    backoff_base_seconds: float = Field(default=0.5, ge=0)
    backoff_cap_seconds: float = Field(
        default=60, ge=0, description="Longest single wait; a longer Retry-After is handed back as RetriableError."
    )
    user_agent: str = Field(default=f"orderhub/{__version__}", min_length=1)

    @field_validator("base_url")
    @classmethod
    def _http_root(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        if value.endswith("/json/2"):
            # A common mistake when copying from Odoo's examples; the client adds the prefix itself.
            value = value[: -len("/json/2")]
        return value

    @field_validator("api_key")
    @classmethod
    def _non_empty_key(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("api_key must not be empty")
        return value

    @model_validator(mode="after")
    def _settle_after_timeout(self) -> OdooConfig:
        if self.write_settle_seconds is not None and self.write_settle_seconds <= self.timeout_seconds:
            raise ValueError("write_settle_seconds must be longer than timeout_seconds: a write without an answer "
                             "may still commit until then")
        return self

    @property
    def in_doubt_wait_seconds(self) -> float:
        """Seconds to wait after a write whose outcome is unknown before looking it up (never an immediate retry)."""
        if self.write_settle_seconds is not None:
            return self.write_settle_seconds
        return max(self.timeout_seconds + 60, 180.0)

    @property
    def endpoint(self) -> str:
        """The JSON-2 root URL, `<base_url>/json/2`."""
        return f"{self.base_url}/json/2"

    def http_config(self) -> HttpConnectorConfig:
        """The shared HTTP base's settings; its ``max_retries`` applies to read-only calls only."""
        return HttpConnectorConfig(
            base_url=self.base_url,
            timeout_seconds=self.timeout_seconds,
            connect_timeout_seconds=self.connect_timeout_seconds or self.timeout_seconds,
            max_retries=self.max_read_retries,
            backoff_base_seconds=self.backoff_base_seconds,
            backoff_cap_seconds=self.backoff_cap_seconds,
            user_agent=self.user_agent,
        )
