"""How to reach one SFTP server: address, credentials and the pinned host key."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

MIB = 1024 * 1024


class SftpConfig(BaseModel):
    """Connection settings for one SFTP account; the server's host key must be pinned in ``known_hosts_path``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = Field(min_length=1)
    port: int = Field(default=22, ge=1, le=65535)
    username: str = Field(min_length=1)
    password: SecretStr | None = None
    private_key_path: Path | None = None
    private_key_passphrase: SecretStr | None = None
    known_hosts_path: Path = Field(
        description="OpenSSH known_hosts file that pins the server's host key ([host]:port for ports other than 22)."
    )
    timeout_seconds: float = Field(default=30.0, gt=0, description="Connect, authentication and per-read timeout.")
    max_file_bytes: int = Field(default=100 * MIB, gt=0, description="Largest file read_file accepts by default.")

    @field_validator("password", "private_key_path", "private_key_passphrase", mode="before")
    @classmethod
    def _empty_means_unset(cls, value: object) -> object:
        # Settings from environment variables arrive as "" when unset; that is "no credential", not a path ".".
        return None if value == "" else value

    @model_validator(mode="after")
    def _needs_a_credential(self) -> SftpConfig:
        if self.password is None and self.private_key_path is None:
            raise ValueError("an SFTP account needs a password or a private_key_path")
        return self

    @property
    def address(self) -> str:
        """``host:port`` as shown in messages."""
        return f"{self.host}:{self.port}"
