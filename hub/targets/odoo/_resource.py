"""The Odoo target's connection: a Dagster resource read from ``HUB_<NAME>_*`` environment variables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg
from pydantic import SecretStr

from connectors.erp import OdooConfig, OdooJson2Client
from hub.targets._protocol import DEFAULT_BATCH_SIZE
from hub.targets.odoo._target import OdooTarget
from mappings.odoo import OdooSalesGateway


class ErpResource(dg.ConfigurableResource):
    """The ERP's External JSON-2 API (Odoo 19+, or the sandbox ERP that speaks the same contract)."""

    base_url: str
    database: str | None = None
    api_key: str
    # Reads ride out a short outage within the run; writes are never resent by the client (the outbox does it).
    max_read_retries: int = 3
    # From the profiles' target settings (``targets: [{kind: odoo, name: erp, batch_size: 100, in_flight: 2}]``).
    batch_size: int = DEFAULT_BATCH_SIZE
    in_flight: int = 1
    confirm_orders: bool = False

    @classmethod
    def from_env(cls, name: str, *, batch_size: int | None = None, in_flight: int | None = None,
                 confirm_orders: bool | None = None) -> ErpResource:
        """The resource of target ``name``, resolved by Dagster at run time: ``HUB_ERP_URL`` etc. for ``erp``."""
        prefix = f"HUB_{name.upper()}"
        chosen = (("batch_size", batch_size), ("in_flight", in_flight), ("confirm_orders", confirm_orders))
        settings: dict[str, Any] = {key: value for key, value in chosen if value is not None}
        return cls(base_url=dg.EnvVar(f"{prefix}_URL"), database=dg.EnvVar(f"{prefix}_DATABASE"),
                   api_key=dg.EnvVar(f"{prefix}_API_KEY"), **settings)

    def _config(self) -> OdooConfig:
        return OdooConfig(database=self.database or None, api_key=SecretStr(self.api_key),
                          http={"base_url": self.base_url, "max_retries": self.max_read_retries})

    @contextmanager
    def gateway(self) -> Iterator[OdooSalesGateway]:
        """Sales operations over one HTTP connection pool."""
        with OdooJson2Client(self._config()) as client:
            yield OdooSalesGateway(client)

    @contextmanager
    def target(self, name: str) -> Iterator[OdooTarget]:
        """The ERP as the order target ``name`` (one HTTP connection pool for the pass)."""
        with self.gateway() as gateway:
            yield OdooTarget(gateway, name=name, write_settle=self.write_settle(), batch_size=self.batch_size,
                             max_in_flight=self.in_flight, confirm=self.confirm_orders)

    def write_settle(self) -> dt.timedelta:
        """How long a write sent without an answer (or by a run that died) may still commit in the ERP."""
        return dt.timedelta(seconds=self._config().in_doubt_wait_seconds)
