"""Where a rotating OAuth refresh token lives between renewals (QuickBooks, Microsoft 365, Gmail).

Providers that rotate refresh tokens hand out a new one with each access token and may stop honouring the old
one; a renewal therefore starts from :meth:`RefreshTokenStore.load` and hands the answer's token to
:meth:`RefreshTokenStore.save` before the access token is used. The hub keeps it in its store.
"""

from __future__ import annotations

from typing import Protocol


class RefreshTokenStore(Protocol):
    """Where the current refresh token lives between runs (the hub keeps it in its store)."""

    def load(self) -> str | None:
        """The latest refresh token, or None when none was kept yet."""
        ...

    def save(self, refresh_token: str, expires_in: float | None) -> None:
        """Keep ``refresh_token`` (valid ``expires_in`` seconds when the provider says) as the latest one."""
        ...


class MemoryTokenStore:
    """A refresh token kept in memory only (tests, one-off scripts): the rotation is lost when it ends."""

    def __init__(self, refresh_token: str) -> None:
        self.refresh_token: str | None = refresh_token
        self.saved: list[str] = []

    def load(self) -> str | None:
        """The token last saved (or given)."""
        return self.refresh_token

    def save(self, refresh_token: str, expires_in: float | None) -> None:
        """Remember it, and that it was saved."""
        self.refresh_token = refresh_token
        self.saved.append(refresh_token)
