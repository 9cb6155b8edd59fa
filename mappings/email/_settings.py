"""A profile's email channel: the mailbox orders arrive in, how to log in (secrets by variable name), who may send."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from mappings.profiles import ChannelSettings, register_channel_kind


class EmailChannelSettings(ChannelSettings):
    """One IMAP mailbox a customer emails orders to (``channels: [{kind: email_imap, ...}]``)."""

    kind: Literal["email_imap"] = "email_imap"
    host: str
    port: int = 993
    port_env: str | None = Field(default=None, description="Sandbox only: environment variable holding the port "
                                 "(the demo's IMAP server picks a free one); unset in production.")
    security: Literal["tls", "starttls", "plain"] = "tls"
    username: str
    tls_ca_file: str | None = Field(default=None, description="PEM file of a private CA to trust (else the system's).")
    password_env: str | None = Field(default=None, description="Environment variable holding the password.")
    oauth2_token_url: str | None = Field(default=None, description="OAuth 2.0 token endpoint (XOAUTH2 login).")
    oauth2_client_id_env: str | None = None
    oauth2_client_secret_env: str | None = None
    oauth2_refresh_token_env: str | None = None
    mailbox: str = "INBOX"
    processed_folder: str = "Processed"
    rejected_folder: str = "Rejected"
    max_message_bytes: int = Field(default=25 * 1024 * 1024, gt=0, le=100 * 1024 * 1024)
    poll_seconds: int = Field(default=60, ge=30)
    sender_addresses: list[str] = Field(default_factory=list, description="Addresses this customer sends from.")
    sender_domains: list[str] = Field(default_factory=list, description="Domains this customer sends from.")

    @field_validator("sender_addresses", "sender_domains")
    @classmethod
    def _lower(cls, values: list[str]) -> list[str]:
        return [value.strip().lower().lstrip("@") for value in values if value.strip()]

    @model_validator(mode="after")
    def _one_login(self) -> EmailChannelSettings:
        oauth = (self.oauth2_token_url, self.oauth2_client_id_env, self.oauth2_client_secret_env,
                 self.oauth2_refresh_token_env)
        if (self.password_env is not None) == any(oauth):
            raise ValueError("give password_env, or the oauth2_* settings for XOAUTH2 (not both)")
        if any(oauth) and not all(oauth):
            raise ValueError("XOAUTH2 needs oauth2_token_url, oauth2_client_id_env, oauth2_client_secret_env and "
                             "oauth2_refresh_token_env")
        return self

    def sends(self, address: str) -> bool:
        """Whether ``address`` is one of this customer's senders (any sender when none are listed)."""
        if not self.sender_addresses and not self.sender_domains:
            return True
        address = address.strip().lower()
        return address in self.sender_addresses or address.rpartition("@")[2] in self.sender_domains


# A profile may list it as soon as the email mappings are imported (hub.sources registers it again, harmlessly).
register_channel_kind(EmailChannelSettings)
