"""The QuickBooks Online connection: a Dagster resource read from ``HUB_QBO_*`` environment variables.

Required: ``HUB_QBO_REALM_ID`` (the company), ``HUB_QBO_CLIENT_ID`` and ``HUB_QBO_CLIENT_SECRET`` (the Intuit
app), ``HUB_QBO_REFRESH_TOKEN`` (the token the app's authorization gave; it only seeds the store, which keeps
every rotated one). Optional: ``HUB_QBO_ENVIRONMENT`` (``production``, or ``sandbox`` for Intuit's sandbox
companies), ``HUB_QBO_BASE_URL`` and ``HUB_QBO_TOKEN_URL`` (our loopback sandbox). Delivered quantities come
from the order target's ERP, the same ``HUB_<NAME>_*`` variables as its push.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import dagster as dg
from pydantic import SecretStr

from canonical.errors import ConfigurationError
from connectors.quickbooks import QuickBooksClient, QuickBooksConfig
from hub.settings import get_settings, resolve_database_url
from hub.store import HubStore
from hub.targets.odoo._resource import ErpResource
from hub.targets.quickbooks._target import QuickBooksAccountingTarget
from hub.targets.quickbooks._tokens import StoreTokens
from mappings.profiles import PartnerDirectory

ENV_PREFIX = "HUB_QBO"


@lru_cache(maxsize=8)
def _store(url: str) -> HubStore:
    return HubStore(url).migrate()


class QuickBooksResource(dg.ConfigurableResource):
    """One QuickBooks Online company (or the sandbox, same contract), and the ERP whose deliveries it bills."""

    erp: ErpResource
    realm_id: str
    client_id: str
    client_secret: str
    refresh_token: str  # the seed; the store keeps the rotated ones
    environment: str = ""  # '' : HUB_QBO_ENVIRONMENT, else production
    base_url: str = ""  # '' : HUB_QBO_BASE_URL, else Intuit's for the environment
    token_url: str = ""  # '' : HUB_QBO_TOKEN_URL, else Intuit's
    timeout_seconds: float = 30
    database_url: str | None = None  # None: the hub store (HUB_DATABASE_URL or HUB_DATA_DIR's SQLite file)
    partners_dir: str | None = None  # None: HUB_PARTNERS_DIR

    @classmethod
    def from_env(cls, name: str) -> QuickBooksResource:
        """The resource invoicing the orders of target ``name``, resolved at run time from the environment."""
        return cls(erp=ErpResource.from_env(name), realm_id=dg.EnvVar(f"{ENV_PREFIX}_REALM_ID"),
                   client_id=dg.EnvVar(f"{ENV_PREFIX}_CLIENT_ID"),
                   client_secret=dg.EnvVar(f"{ENV_PREFIX}_CLIENT_SECRET"),
                   refresh_token=dg.EnvVar(f"{ENV_PREFIX}_REFRESH_TOKEN"))

    def config(self) -> QuickBooksConfig:
        """The connector's settings (the optional ones from the environment when not given)."""
        values: dict[str, Any] = {
            "realm_id": self.realm_id.strip(), "client_id": self.client_id.strip(),
            "client_secret": SecretStr(self.client_secret),
            "environment": self.environment or os.environ.get(f"{ENV_PREFIX}_ENVIRONMENT") or "production",
            "http": {"timeout_seconds": self.timeout_seconds}}
        base_url = self.base_url or os.environ.get(f"{ENV_PREFIX}_BASE_URL")
        token_url = self.token_url or os.environ.get(f"{ENV_PREFIX}_TOKEN_URL")
        if base_url:
            values["http"]["base_url"] = base_url
        if token_url:
            values["token_url"] = token_url
        try:
            return QuickBooksConfig.model_validate(values)
        except ValueError as exc:  # pydantic names the fields, never the secret's value
            raise ConfigurationError(f"QuickBooks settings: {exc}") from None

    def _profiles(self) -> PartnerDirectory:
        return PartnerDirectory.load(Path(self.partners_dir) if self.partners_dir else get_settings().partners_dir)

    @contextmanager
    def accounting(self, name: str) -> Iterator[QuickBooksAccountingTarget]:
        """QuickBooks as the accounting target of order target ``name``, for one pass."""
        config = self.config()
        partners = self._profiles()

        def settings(partner_id: str) -> Any:
            profile = partners.get(partner_id)
            target = next((t for t in profile.targets if t.name == name), None)
            return profile, (target.accounting if target is not None else None)

        def customer_of(partner_id: str) -> str:
            profile, accounting = settings(partner_id)
            return (accounting.customer if accounting is not None and accounting.customer else profile.name)

        def item_of(partner_id: str, sku: str) -> str:
            _, accounting = settings(partner_id)
            return accounting.items.get(sku, sku) if accounting is not None else sku

        tokens = StoreTokens(_store(resolve_database_url(self.database_url)), config.realm_id, seed=self.refresh_token)
        with self.erp.accounting(name) as deliveries, QuickBooksClient(config, tokens) as client:
            yield QuickBooksAccountingTarget(client, deliveries, name=name, customer_of=customer_of, item_of=item_of,
                                             write_settle=self.write_settle())

    def write_settle(self) -> dt.timedelta:
        """How long a create sent without an answer may still land: the timeout and a minute more."""
        return dt.timedelta(seconds=self.timeout_seconds + 60)
