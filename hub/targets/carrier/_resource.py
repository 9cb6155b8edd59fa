"""The carrier target's connection: a Dagster resource read from ``HUB_<NAME>_*`` environment variables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import dagster as dg
from pydantic import SecretStr

from canonical.errors import ConfigurationError
from connectors.easypost import EasyPostClient, EasyPostConfig
from hub.settings import get_settings, resolve_database_url
from hub.store import HubStore
from hub.targets.carrier._target import CarrierTarget
from mappings.profiles import CarrierRouting, PartnerDirectory


@lru_cache(maxsize=8)
def _store(url: str) -> HubStore:
    return HubStore(url).migrate()


class CarrierResource(dg.ConfigurableResource):
    """An EasyPost account (or the sandbox carrier, same contract) and where its labels' outbox rows live."""

    base_url: str
    api_key: str
    mode: str = "test"  # test (EZTK key) or production (EZAK key); a key of the other kind is refused
    timeout_seconds: float = 30
    database_url: str | None = None  # None: the hub store (HUB_DATABASE_URL or HUB_DATA_DIR's SQLite file)
    partners_dir: str | None = None  # None: HUB_PARTNERS_DIR

    @classmethod
    def from_env(cls, name: str) -> CarrierResource:
        """The resource of target ``name``, resolved at run time: ``HUB_<NAME>_URL``, ``_API_KEY``, ``_MODE``."""
        prefix = f"HUB_{name.upper()}"
        return cls(base_url=dg.EnvVar(f"{prefix}_URL"), api_key=dg.EnvVar(f"{prefix}_API_KEY"),
                   mode=dg.EnvVar(f"{prefix}_MODE"))

    def config(self) -> EasyPostConfig:
        """The connector's settings (the key checked against the mode)."""
        try:
            return EasyPostConfig.model_validate({"api_key": SecretStr(self.api_key), "mode": self.mode,
                                                  "http": {"base_url": self.base_url,
                                                           "timeout_seconds": self.timeout_seconds}})
        except ValueError as exc:
            raise ConfigurationError(f"carrier settings: {exc}") from None

    def _routing_of(self, name: str):
        partners = PartnerDirectory.load(Path(self.partners_dir) if self.partners_dir else get_settings().partners_dir)

        def routing(partner_id: str) -> CarrierRouting | None:
            profile = partners.get(partner_id)
            return next((t.carrier for t in profile.targets if t.name == name), None)

        return routing

    @contextmanager
    def target(self, name: str) -> Iterator[CarrierTarget]:
        """The carrier as the order target ``name`` (one HTTP connection pool for the pass)."""
        with EasyPostClient(self.config()) as client:
            yield CarrierTarget(client, _store(resolve_database_url(self.database_url)), name=name,
                                routing_of=self._routing_of(name), write_settle=self.write_settle())

    @contextmanager
    def client(self) -> Iterator[EasyPostClient]:
        """The EasyPost client alone (tracking polls)."""
        with EasyPostClient(self.config()) as client:
            yield client

    def write_settle(self) -> dt.timedelta:
        """How long a buy sent without an answer may still complete: the timeout and a minute more."""
        return dt.timedelta(seconds=self.timeout_seconds + 60)
