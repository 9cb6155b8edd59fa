"""How to reach one IMAP mailbox: server, transport security, login, folders and size limits."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator

from canonical.errors import ConfigurationError

Security = Literal["tls", "starttls", "plain"]
LOOPBACK_NAMES = frozenset({"localhost"})


class OAuth2Config(BaseModel):
    """An OAuth 2.0 refresh-token grant giving XOAUTH2 access tokens (Microsoft 365, Gmail)."""

    token_url: str
    client_id: str
    client_secret: SecretStr
    refresh_token: SecretStr


class ImapConfig(BaseModel):
    """One mailbox: ``tls`` (993) or ``starttls`` (143); ``plain`` only to a loopback address (tests, sandbox)."""

    host: str
    port: int = 993
    security: Security = "tls"
    username: str
    password: SecretStr | None = None
    oauth2: OAuth2Config | None = None
    mailbox: str = "INBOX"
    processed_folder: str = "Processed"
    rejected_folder: str = "Rejected"
    max_message_bytes: int = Field(default=25 * 1024 * 1024, gt=0)
    """Larger messages are not downloaded: they are moved to the rejected folder and queued."""
    timeout_seconds: float = 30.0
    ca_file: str | None = None
    """PEM file of the certificate authorities to trust instead of the system's (a private CA)."""

    @model_validator(mode="after")
    def _checked(self) -> ImapConfig:
        if (self.password is None) == (self.oauth2 is None):
            raise ConfigurationError(f"IMAP {self.host}: give either a password or OAuth2 settings, not both or none")
        if self.security == "plain" and not is_loopback(self.host):
            raise ConfigurationError(f"IMAP {self.host}: plain (unencrypted) IMAP is allowed to a loopback address "
                                     "only; use tls or starttls")
        return self


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (127.0.0.0/8, ::1, localhost)."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
