"""Where a rotating OAuth refresh token lives between renewals (QuickBooks, Microsoft 365, Gmail).

Providers that rotate refresh tokens hand out a new one with each access token and may stop honouring the old
one. Two processes (a sensor tick and a run, two runs) renewing the same account at once would both send the
same token: the loser gets ``invalid_grant`` or stores an older token over the newer one. So a renewal goes
through :func:`renew_rotating`: it holds the store's per-account lock (:meth:`LockingTokenStore.renewal`, across
processes in the hub store) while it reads the newest token, calls the token endpoint and saves the answer's
token, and retries once from the newest stored token when the provider refused one another writer had rotated.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

from canonical.errors import ConfigurationError

_log = logging.getLogger(__name__)
T = TypeVar("T")


class RefreshTokenStore(Protocol):
    """Where the current refresh token lives between runs (the hub keeps it in its store)."""

    def load(self) -> str | None:
        """The latest refresh token, or None when none was kept yet."""
        ...

    def save(self, refresh_token: str, expires_in: float | None) -> None:
        """Keep ``refresh_token`` (valid ``expires_in`` seconds when the provider says) as the latest one."""
        ...


class TokenRenewal(Protocol):
    """One renewal under the store's lock: the newest token read, and the rotated one saved before it ends."""

    def current(self) -> str | None:
        """The newest refresh token (read again on every call)."""
        ...

    def save(self, refresh_token: str, expires_in: float | None) -> bool:
        """Keep the rotated token unless the stored one changed since :meth:`current` read it; False if it had."""
        ...


@runtime_checkable
class LockingTokenStore(RefreshTokenStore, Protocol):
    """A :class:`RefreshTokenStore` that serializes renewals of its account (across processes in the hub store)."""

    def renewal(self) -> AbstractContextManager[TokenRenewal]:
        """Hold the account's renewal lock for the block (raises RetriableError when it cannot be had in time)."""
        ...


@dataclass
class Grant:
    """What a refresh-token grant answered for the store (the access token stays with the caller)."""

    refresh_token: str | None  # the rotated one, when the provider sent one
    refresh_expires_in: float | None


class _Unlocked:
    """A renewal over a plain load/save store: no lock, every save taken (stores without ``renewal``)."""

    def __init__(self, tokens: RefreshTokenStore) -> None:
        self._tokens = tokens

    def current(self) -> str | None:
        return self._tokens.load()

    def save(self, refresh_token: str, expires_in: float | None) -> bool:
        self._tokens.save(refresh_token, expires_in)
        return True


@contextmanager
def _unlocked(tokens: RefreshTokenStore) -> Iterator[TokenRenewal]:
    yield _Unlocked(tokens)


def renew_rotating(tokens: RefreshTokenStore, grant: Callable[[str], tuple[Grant, T]], *,
                   missing: Callable[[], Exception]) -> T:
    """Run ``grant(refresh_token)`` under the store's renewal lock and save the rotated token before returning.

    ``grant`` raises :class:`ConfigurationError` when the provider refuses the token (``invalid_grant``): if the
    store holds a newer token by then (a writer outside the lock rotated it), the grant is tried once more with
    that one before the error (which tells a person to re-consent) is raised. ``missing()`` is raised when there
    is no token at all.
    """
    locked = tokens.renewal() if isinstance(tokens, LockingTokenStore) else _unlocked(tokens)
    with locked as renewal:
        sent = renewal.current()
        if not sent:
            raise missing()
        try:
            answer, result = grant(sent)
        except ConfigurationError:
            newest = renewal.current()
            if not newest or newest == sent:
                raise
            _log.info("refresh token refused after another process rotated it: retrying with the newest one")
            answer, result = grant(newest)
        if answer.refresh_token and not renewal.save(answer.refresh_token, answer.refresh_expires_in):
            # Someone outside the lock stored a token meanwhile: theirs stays (never overwrite a newer row);
            # the access token we were given is valid all the same.
            _log.warning("the stored refresh token changed during the renewal: kept the stored one")
        return result


class MemoryTokenStore:
    """A refresh token kept in memory only (tests, one-off scripts): the rotation is lost when it ends."""

    def __init__(self, refresh_token: str) -> None:
        self.refresh_token: str | None = refresh_token
        self.saved: list[str] = []
        self._lock = threading.Lock()  # the threads sharing it renew one at a time

    def load(self) -> str | None:
        """The token last saved (or given)."""
        return self.refresh_token

    def save(self, refresh_token: str, expires_in: float | None) -> None:
        """Remember it, and that it was saved."""
        self.refresh_token = refresh_token
        self.saved.append(refresh_token)

    @contextmanager
    def renewal(self) -> Iterator[TokenRenewal]:
        """Hold this store's lock (threads of one process) for the renewal."""
        with self._lock:
            yield _Unlocked(self)
