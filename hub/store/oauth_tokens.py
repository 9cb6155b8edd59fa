"""Rotating OAuth refresh tokens kept in the hub store (``oauth_tokens``), one row per provider and account.

Used by QuickBooks Online (provider ``quickbooks``, account the realm) and IMAP XOAUTH2 (``microsoft`` or
``google``, account the mailbox user). The environment's refresh token only seeds the row: after the first
renewal the provider's new token is the one that works, and it is in the store. When an operator re-consents
and sets a different token in the environment, its fingerprint no longer matches the row's ``seed_sha256`` and
the environment's token wins again ("the environment seeds, a new seed wins").

Renewals of one account are serialized across processes by :meth:`StoreTokens.renewal` (the connectors call it
through ``connectors._http.renew_rotating``): the lock is held while the newest token is read, sent to the
provider and its successor saved, so a sensor tick and a run never send the same token. On PostgreSQL it is a
transaction-scoped advisory lock on (provider, account), not ``SELECT ... FOR UPDATE``, because the row does not
exist before the first renewal from the environment's seed; it waits at most ``LOCK_TIMEOUT_SECONDS``. On SQLite it
is ``BEGIN IMMEDIATE``, the database's write lock (other writers wait for the token call, bounded by its HTTP
timeout, within their busy timeout; readers do not wait, WAL). The save is a compare-and-swap on the token read,
so a writer outside the lock is never overwritten. Access tokens are not stored: one would be a live credential in
the database and its backups, and the next process simply renews from the newest refresh token (Intuit and
Microsoft issue several valid access tokens side by side).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from canonical.errors import RetriableError
from hub.store._tables import oauth_tokens

if TYPE_CHECKING:
    from hub.store import HubStore


LOCK_TIMEOUT_SECONDS = 60
"""How long a PostgreSQL renewal waits for another process's (longer than the token call's 30 s HTTP timeout)."""


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _advisory_key(provider: str, account: str) -> int:
    """A signed 64-bit key for pg_advisory_xact_lock (a collision only makes two accounts take turns)."""
    digest = hashlib.sha256(f"oauth_tokens\0{provider}\0{account}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class StoreTokens:
    """The refresh token of one provider's account in the hub store (connectors._http.RefreshTokenStore)."""

    def __init__(self, store: HubStore, account: str, *, seed: str, provider: str) -> None:
        self.store, self.account, self.provider = store, account, provider
        self.seed = seed.strip()

    def load(self) -> str | None:
        """The stored token, unless the environment's seed changed since (then the seed); None without either."""
        with self.store.transaction() as conn:
            return self._pick(self._row(conn))

    def save(self, refresh_token: str, expires_in: float | None) -> None:
        """Keep the provider's latest token unconditionally (renewals use :meth:`renewal`'s compare-and-swap)."""
        values = self._values(refresh_token, expires_in)
        with self.store.transaction() as conn:
            if conn.execute(update(oauth_tokens).where(*self._key()).values(**values)).rowcount:
                return
            try:
                with conn.begin_nested():
                    conn.execute(insert(oauth_tokens).values(provider=self.provider, account=self.account, **values))
            except IntegrityError:  # another process inserted it first: ours is the newer token
                conn.execute(update(oauth_tokens).where(*self._key()).values(**values))

    @contextmanager
    def renewal(self, timeout_seconds: float = LOCK_TIMEOUT_SECONDS) -> Iterator[_Renewal]:
        """Hold this account's renewal lock across processes for the block; RetriableError when it stays taken.

        PostgreSQL waits ``timeout_seconds``; SQLite waits the engine's busy timeout (the URL's ``?timeout=``).
        """
        self.store.migrate()
        with self.store.engine.connect() as conn:
            try:
                if conn.dialect.name == "sqlite":
                    # pysqlite begins its own transaction only before a write; this takes the write lock now.
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                elif conn.dialect.name == "postgresql":
                    conn.execute(select(func.set_config("lock_timeout", f"{int(timeout_seconds * 1000)}ms", True)))
                    conn.execute(select(func.pg_advisory_xact_lock(_advisory_key(self.provider, self.account))))
            except OperationalError as exc:
                raise RetriableError(f"{self!r}: another process is renewing the token and holds its lock "
                                     f"({type(exc.orig).__name__})") from None
            yield _Renewal(self, conn)
            conn.commit()  # releases the lock (nothing to commit when the grant was refused)

    def _key(self) -> tuple[Any, Any]:
        return oauth_tokens.c.provider == self.provider, oauth_tokens.c.account == self.account

    def _row(self, conn: Connection) -> Any:
        return conn.execute(select(oauth_tokens.c.refresh_token, oauth_tokens.c.seed_sha256)
                            .where(*self._key())).first()

    def _pick(self, row: Any) -> str | None:
        if row is not None and (not self.seed or row.seed_sha256 == _sha256(self.seed)):
            return str(row.refresh_token)
        return self.seed or None

    def _values(self, refresh_token: str, expires_in: float | None) -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC)
        return {"refresh_token": refresh_token, "seed_sha256": _sha256(self.seed), "rotated_at": now,
                "expires_at": now + dt.timedelta(seconds=expires_in) if expires_in else None}

    def __repr__(self) -> str:
        return f"StoreTokens({self.provider!r}, {self.account!r})"  # never the tokens


class _Renewal:
    """One renewal inside the lock's transaction: reads see the newest row, the save is a compare-and-swap."""

    def __init__(self, tokens: StoreTokens, conn: Connection) -> None:
        self._tokens, self._conn = tokens, conn
        self._read: str | None = None  # the row's token when last read (None: no row)

    def current(self) -> str | None:
        """The newest refresh token (the row's, or the environment's seed when that changed)."""
        row = self._tokens._row(self._conn)
        self._read = None if row is None else str(row.refresh_token)
        return self._tokens._pick(row)

    def save(self, refresh_token: str, expires_in: float | None) -> bool:
        """Store the rotated token if the row still holds the one last read, and commit; False if it changed."""
        values = self._tokens._values(refresh_token, expires_in)
        if self._read is None:
            try:
                with self._conn.begin_nested():
                    self._conn.execute(insert(oauth_tokens).values(
                        provider=self._tokens.provider, account=self._tokens.account, **values))
                saved = True
            except IntegrityError:  # inserted meanwhile by a writer outside the lock: theirs stays
                saved = False
        else:
            saved = bool(self._conn.execute(update(oauth_tokens).where(
                *self._tokens._key(), oauth_tokens.c.refresh_token == self._read).values(**values)).rowcount)
        self._conn.commit()  # at once: the token just sent may be dead already
        return saved
