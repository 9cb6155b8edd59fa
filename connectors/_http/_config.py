"""Settings every HTTP connector shares: where the API is, how long to wait, how often to retry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from canonical import __version__


class HttpConnectorConfig(BaseModel):
    """Base URL, timeouts and retry policy of one external HTTP API account."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str = Field(description="API root, e.g. `https://shop.myshopify.com`; request paths are relative to it.")
    timeout_seconds: float = Field(default=30, gt=0, description="Read/write/pool timeout of one attempt.")
    connect_timeout_seconds: float = Field(default=10, gt=0)
    max_retries: int = Field(default=5, ge=0, description="Retries after the first attempt (429, 5xx, network).")
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
        return value


_HTTP_SETTINGS = tuple(HttpConnectorConfig.model_fields)


def _not_blank(value: SecretStr) -> SecretStr:
    if not value.get_secret_value().strip():
        raise ValueError("must not be empty")
    return value


Secret = Annotated[SecretStr, AfterValidator(_not_blank)]
"""A credential (API key, access token) that must not be blank; never shown in reprs or logs."""


class HttpAccountConfig(BaseModel):
    """One account of an HTTP API: its own settings, plus where and how patiently to call it in ``http``.

    Profiles, resources and tests may still give the HTTP settings flat (``timeout_seconds=10``,
    ``base_url=...``): they are gathered into ``http``, after the connector's own defaults
    (``http_defaults``), so every connector declares them once, here.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    http: HttpConnectorConfig

    flat_http_names: ClassVar[Mapping[str, str]] = {name: name for name in _HTTP_SETTINGS}
    """Flat keyword -> ``http`` field; a connector may name one in its own words (ERP: ``max_read_retries``)."""

    @classmethod
    def http_defaults(cls, values: Mapping[str, Any], http: Mapping[str, Any]) -> dict[str, Any]:
        """The connector's defaults for ``http`` fields nobody gave (e.g. a base URL made from the shop domain)."""
        return {}

    @model_validator(mode="before")
    @classmethod
    def _gather_http_settings(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        values = dict(data)
        given = values.pop("http", None)
        http = given.model_dump() if isinstance(given, HttpConnectorConfig) else dict(given or {})
        for flat, name in cls.flat_http_names.items():
            value = values.pop(flat, None)
            if value is None:
                continue  # None means "the default", as it did when these were flat fields
            if name in http:
                raise ValueError(f"{flat} is given twice: flat and in http")
            http[name] = value
        for name, value in cls.http_defaults(values, http).items():
            http.setdefault(name, value)
        values["http"] = http
        return values

    @property
    def base_url(self) -> str:
        """The API root every request path is relative to."""
        return self.http.base_url

    def http_config(self) -> HttpConnectorConfig:
        """The shared HTTP base's settings."""
        return self.http
