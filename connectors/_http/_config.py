"""Settings every HTTP connector shares: where the API is, how long to wait, how often to retry."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
