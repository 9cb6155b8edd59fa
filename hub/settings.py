"""Hub settings read from the environment (``HUB_*``), with defaults that run the embedded demo."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from canonical.model import AmountLimits, deployment_amount_limits

REPO_ROOT = Path(__file__).resolve().parent.parent


class HubSettings(BaseSettings):
    """Process-wide settings. Secrets never live here: Dagster resources read them with ``EnvVar``."""

    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore")

    data_dir: Path = Field(default=REPO_ROOT / "var", description="Where the embedded store and sandbox live.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the hub store; default: a SQLite file under data_dir "
                    "(see resolve_database_url).",
    )
    partners_dir: Path = Field(
        default=REPO_ROOT / "mappings" / "partners",
        description="Folder of partner profiles (one YAML file per trading partner).",
    )
    max_document_bytes: int = Field(
        default=100 * 1024 * 1024, description="Largest inbound document accepted (bytes)."
    )
    sensor_interval_seconds: int = Field(
        default=15, ge=1, description="How often the inbox, webhook queue and outbox sensors look (seconds).")
    intake_batch_max_files: int = Field(
        default=50, ge=1, description="Most files one intake run carries (one run per partner per tick below it).")
    push_time_budget_seconds: float = Field(
        default=120.0, gt=0, description="How long one push keeps draining the outbox before a later run goes on.")

    def amount_limits(self) -> AmountLimits:
        """The deployment's amount limits, HUB_MAX_ORDER_TOTAL / HUB_MAX_AMOUNT (partner profiles may override them)."""
        return deployment_amount_limits()


def get_settings() -> HubSettings:
    """Fresh settings from the current environment (cheap; not cached so tests can change env)."""
    return HubSettings()


STORE_FILE_NAME = "hub.sqlite3"
"""The embedded SQLite store's file in the data folder."""


def resolve_database_url(url: str | None = None, *, data_dir: Path | None = None) -> str:
    """The hub store's URL: ``url`` if given, else ``HUB_DATABASE_URL``, else the SQLite file in ``data_dir``.

    The one place the URL is decided (CLI, webhooks app, Dagster resource, demo, Alembic), so every
    entry point opens the same store. ``data_dir`` defaults to ``HUB_DATA_DIR``.
    """
    if url:
        return url
    settings = get_settings()
    if settings.database_url:
        return settings.database_url
    return sqlite_url((data_dir or settings.data_dir) / STORE_FILE_NAME)


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file, made absolute so the working directory does not matter."""
    return f"sqlite:///{Path(path).resolve()}"
