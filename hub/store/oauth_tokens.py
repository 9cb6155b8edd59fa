"""Rotating OAuth refresh tokens kept in the hub store (``oauth_tokens``), one row per provider and account.

Used by QuickBooks Online (provider ``quickbooks``, account the realm) and IMAP XOAUTH2 (``microsoft`` or
``google``, account the mailbox user). The environment's refresh token only seeds the row: after the first
renewal the provider's new token is the one that works, and it is in the store. When an operator re-consents
and sets a different token in the environment, its fingerprint no longer matches the row's ``seed_sha256`` and
the environment's token wins again ("the environment seeds, a new seed wins").
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import TYPE_CHECKING

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from hub.store._tables import oauth_tokens

if TYPE_CHECKING:
    from hub.store import HubStore


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class StoreTokens:
    """The refresh token of one provider's account in the hub store (connectors._http.RefreshTokenStore)."""

    def __init__(self, store: HubStore, account: str, *, seed: str, provider: str) -> None:
        self.store, self.account, self.provider = store, account, provider
        self.seed = seed.strip()

    def load(self) -> str | None:
        """The stored token, unless the environment's seed changed since (then the seed); None without either."""
        with self.store.transaction() as conn:
            row = conn.execute(select(oauth_tokens.c.refresh_token, oauth_tokens.c.seed_sha256).where(
                oauth_tokens.c.provider == self.provider, oauth_tokens.c.account == self.account)).first()
        if row is not None and (not self.seed or row.seed_sha256 == _sha256(self.seed)):
            return str(row.refresh_token)
        return self.seed or None

    def save(self, refresh_token: str, expires_in: float | None) -> None:
        """Keep the provider's latest token (committed at once: the old one may already be dead)."""
        now = dt.datetime.now(dt.UTC)
        values = {"refresh_token": refresh_token, "seed_sha256": _sha256(self.seed), "rotated_at": now,
                  "expires_at": now + dt.timedelta(seconds=expires_in) if expires_in else None}
        key = (oauth_tokens.c.provider == self.provider, oauth_tokens.c.account == self.account)
        with self.store.transaction() as conn:
            if conn.execute(update(oauth_tokens).where(*key).values(**values)).rowcount:
                return
            try:
                with conn.begin_nested():
                    conn.execute(insert(oauth_tokens).values(provider=self.provider, account=self.account, **values))
            except IntegrityError:  # another process inserted it first: ours is the newer token
                conn.execute(update(oauth_tokens).where(*key).values(**values))

    def __repr__(self) -> str:
        return f"StoreTokens({self.provider!r}, {self.account!r})"  # never the tokens
