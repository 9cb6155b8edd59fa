"""Dagster resources every system uses: the hub store (with the partner profiles) and our SFTP server."""


import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import dagster as dg

from connectors.sftp import SftpClient, SftpConfig
from hub.settings import resolve_database_url
from hub.store import HubStore
from hub.targets.odoo._resource import ErpResource as ErpResource  # re-exported; erp/ binds one per target
from mappings.profiles import PartnerDirectory

# Sensors may tick in threads of one code server (``sensors.use_threads`` in dagster.yaml): the first
# ticks would migrate a fresh store at the same time, and a second CREATE TABLE fails the migration.
_MIGRATING = threading.Lock()


@lru_cache(maxsize=8)
def _store(url: str) -> HubStore:
    with _MIGRATING:
        return HubStore(url).migrate()


class HubStoreResource(dg.ConfigurableResource):
    """The hub store and the partner profiles."""

    database_url: str | None = None  # None: resolve_database_url() (HUB_DATABASE_URL, else HUB_DATA_DIR's SQLite file)
    partners_dir: str
    max_document_bytes: int = 100 * 1024 * 1024

    def store(self) -> HubStore:
        """The migrated store (one engine per URL per process)."""
        return _store(resolve_database_url(self.database_url))

    def partners(self) -> PartnerDirectory:
        """Partner profiles, read fresh so a fixed profile takes effect on the next run."""
        return PartnerDirectory.load(Path(self.partners_dir))


class SftpResource(dg.ConfigurableResource):
    """Our SFTP server where partners drop files and collect acks. Host keys are pinned."""

    host: str
    port: int = 22
    username: str
    password: str | None = None
    private_key_path: str | None = None
    known_hosts_path: str
    timeout_seconds: float = 30.0

    @contextmanager
    def client(self) -> Iterator[SftpClient]:
        """An open SFTP session."""
        config = SftpConfig(
            host=self.host, port=self.port, username=self.username,
            # Unused credentials are set to "" in the environment: both variables must exist for EnvVar.
            password=self.password or None, private_key_path=self.private_key_path or None,
            known_hosts_path=self.known_hosts_path,
            timeout_seconds=self.timeout_seconds,
        )
        with SftpClient(config) as client:
            yield client


def hub_store_resource(partners_dir: Path, max_document_bytes: int) -> HubStoreResource:
    """The store (``HUB_DATABASE_URL``, resolved by Dagster at run time) and the profiles of ``partners_dir``."""
    return HubStoreResource(database_url=dg.EnvVar("HUB_DATABASE_URL"), partners_dir=str(partners_dir),
                            max_document_bytes=max_document_bytes)


def env_var_names(resource: dg.ConfigurableResource) -> tuple[str, ...]:
    """The environment variables ``resource`` reads through ``EnvVar`` / ``EnvVar.int`` when a run starts."""
    names = (getattr(value, "env_var_name", None) for value in vars(resource).values())
    return tuple(name for name in names if isinstance(name, str))


def unset_env_vars(resource: dg.ConfigurableResource) -> tuple[str, ...]:
    """The variables ``resource`` reads that are unset or blank here (its runs and ticks could not use it)."""
    return tuple(name for name in env_var_names(resource) if not os.environ.get(name, "").strip())


SFTP_CREDENTIALS = ("HUB_SFTP_PASSWORD", "HUB_SFTP_PRIVATE_KEY_PATH")
"""One of them is set, the other an empty string (``EnvVar`` needs both to exist)."""


def missing_sftp_env() -> tuple[str, ...]:
    """What ``sftp_resource()`` lacks here: a variable unset or blank (the unused credential aside), no credential."""
    names = env_var_names(sftp_resource())
    missing = [name for name in names
               if name not in os.environ or (name not in SFTP_CREDENTIALS and not os.environ[name].strip())]
    if not set(SFTP_CREDENTIALS) & set(missing) and not any(os.environ[name].strip() for name in SFTP_CREDENTIALS):
        missing.append(" or ".join(SFTP_CREDENTIALS))
    return tuple(missing)


def sftp_resource() -> SftpResource:
    """Our SFTP server, wired to ``HUB_SFTP_*`` environment variables resolved by Dagster at run time."""
    return SftpResource(
        host=dg.EnvVar("HUB_SFTP_HOST"),
        port=dg.EnvVar.int("HUB_SFTP_PORT"),
        username=dg.EnvVar("HUB_SFTP_USERNAME"),
        password=dg.EnvVar("HUB_SFTP_PASSWORD"),
        private_key_path=dg.EnvVar("HUB_SFTP_PRIVATE_KEY_PATH"),
        known_hosts_path=dg.EnvVar("HUB_SFTP_KNOWN_HOSTS_PATH"),
    )
