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
        description="SQLAlchemy URL of the hub store; default: a SQLite file under data_dir.",
    )
    partners_dir: Path = Field(
        default=REPO_ROOT / "mappings" / "partners",
        description="Folder of partner profiles (one YAML file per trading partner).",
    )
    max_document_bytes: int = Field(
        default=100 * 1024 * 1024, description="Largest inbound document accepted (bytes)."
    )
    def amount_limits(self) -> AmountLimits:
        """The deployment's amount limits, HUB_MAX_ORDER_TOTAL / HUB_MAX_AMOUNT (partner profiles may override them)."""
        return deployment_amount_limits()

    def resolved_database_url(self) -> str:
        """The store URL: ``HUB_DATABASE_URL`` or the embedded SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hub.sqlite3').resolve()}"


def get_settings() -> HubSettings:
    """Fresh settings from the current environment (cheap; not cached so tests can change env)."""
    return HubSettings()
