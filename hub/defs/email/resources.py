"""An email account's IMAP resource: host and folders from its profile, secrets from the variables it names."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from pydantic import SecretStr

from connectors.imap import ImapConfig, ImapMailbox, OAuth2Config, xoauth2_token_source
from connectors.imap._oauth import provider_of
from hub.defs.resources import HubStoreResource
from hub.sources.email import MailboxSession
from hub.store import HubStore
from hub.store.oauth_tokens import StoreTokens
from mappings.email import EmailChannelSettings


class EmailMailboxResource(dg.ConfigurableResource):
    """One IMAP mailbox, and the hub store its exactly-once ledger lives in."""

    host: str
    port: int
    security: str
    username: str
    password: str = ""
    oauth2_token_url: str = ""
    oauth2_client_id: str = ""
    oauth2_client_secret: str = ""
    oauth2_refresh_token: str = ""
    mailbox: str = "INBOX"
    processed_folder: str = "Processed"
    rejected_folder: str = "Rejected"
    max_message_bytes: int = 25 * 1024 * 1024
    tls_ca_file: str = ""
    database_url: str | None = None  # None: resolve_database_url() (HUB_DATABASE_URL, else HUB_DATA_DIR's SQLite file)

    def imap_config(self) -> ImapConfig:
        """The connector's settings (secrets as ``SecretStr``)."""
        oauth2 = None
        if self.oauth2_token_url:
            oauth2 = OAuth2Config(token_url=self.oauth2_token_url, client_id=self.oauth2_client_id,
                                  client_secret=SecretStr(self.oauth2_client_secret),
                                  refresh_token=SecretStr(self.oauth2_refresh_token))
        return ImapConfig(host=self.host, port=self.port, security=self.security,
                          username=self.username, password=SecretStr(self.password) if not oauth2 else None,
                          oauth2=oauth2, mailbox=self.mailbox, processed_folder=self.processed_folder,
                          rejected_folder=self.rejected_folder, max_message_bytes=self.max_message_bytes,
                          ca_file=self.tls_ca_file or None)

    def store(self) -> HubStore:
        """The hub store: the exactly-once ledger, and the rotated XOAUTH2 refresh token."""
        return HubStoreResource(database_url=self.database_url, partners_dir="").store()

    def imap_mailbox(self, store: HubStore | None) -> ImapMailbox:
        """The mailbox, not yet open; with XOAUTH2 its refresh token rotates in ``store`` (``oauth_tokens``)."""
        config = self.imap_config()
        if config.oauth2 is None or store is None:  # password, or XOAUTH2 without a store (rotation kept in memory)
            return ImapMailbox(config)
        # The environment's refresh token only seeds the row: Microsoft rotates it on every refresh.
        tokens = StoreTokens(store, config.username, seed=self.oauth2_refresh_token,
                             provider=provider_of(config.oauth2.token_url))
        return ImapMailbox(config, oauth=xoauth2_token_source(config.oauth2, account=config.username, tokens=tokens,
                                                              timeout_seconds=config.timeout_seconds))

    @contextmanager
    def mailbox_client(self) -> Iterator[ImapMailbox]:
        """The open mailbox alone (the sensor only looks)."""
        with self.imap_mailbox(self.store() if self.oauth2_token_url else None) as box:  # a password needs no store
            yield box

    @contextmanager
    def client(self) -> Iterator[MailboxSession]:
        """The open mailbox with the store (what the sync reads pages with)."""
        store = self.store()
        with self.imap_mailbox(store) as box:
            yield MailboxSession(box, store, f"{self.username}@{self.host}")


def email_resource(settings: EmailChannelSettings) -> EmailMailboxResource:
    """The resource of a profile's mailbox, wired to the environment variables the profile names."""
    def env(name: str | None) -> str:
        return dg.EnvVar(name) if name else ""

    return EmailMailboxResource(
        host=settings.host, port=dg.EnvVar.int(settings.port_env) if settings.port_env else settings.port,
        security=settings.security, username=settings.username,
        password=env(settings.password_env), oauth2_token_url=settings.oauth2_token_url or "",
        oauth2_client_id=env(settings.oauth2_client_id_env),
        oauth2_client_secret=env(settings.oauth2_client_secret_env),
        oauth2_refresh_token=env(settings.oauth2_refresh_token_env), mailbox=settings.mailbox,
        processed_folder=settings.processed_folder, rejected_folder=settings.rejected_folder,
        max_message_bytes=settings.max_message_bytes, tls_ca_file=settings.tls_ca_file or "",
    )  # the store: the same resolve_database_url() as the hub_store resource (HUB_DATABASE_URL, else HUB_DATA_DIR)
