"""Concurrent renewals of one rotating refresh token (issue 13): processes take turns under the store's lock.

Each thread builds its own HubStore (its own engine and connections, as a separate Dagster run process would),
on SQLite and on real PostgreSQL. The token endpoints rotate the refresh token on every call and refuse the old
one at once; the transport waits before each token call so that, without the lock, every thread has read the
same stored token before the first one reaches the endpoint.
"""

from __future__ import annotations

import multiprocessing
import secrets
import threading
import time
from urllib.parse import parse_qs

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from canonical.errors import ConfigurationError, RetriableError
from connectors._http import MemoryTokenStore
from connectors.imap import OAuth2Config
from connectors.imap._oauth import XOAuth2Tokens
from connectors.quickbooks import IntuitOAuth
from hub.store import HubStore
from hub.store._tables import oauth_tokens
from hub.store.oauth_tokens import StoreTokens
from sandbox.quickbooks_server import SandboxQuickBooks

THREADS = 4
WINDOW = 0.3  # seconds each token call waits before it leaves: every unlocked thread reads the token first
MS_URL = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
USER = "orders@contoso.test"


class SlowTransport(httpx.HTTPTransport):
    """Token calls to the sandbox leave only after ``WINDOW`` seconds (a slow network); refusals are counted."""

    refused: list[int] = []  # noqa: RUF012 - one list for the threads of this process: the test's "no invalid_grant"

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        time.sleep(WINDOW)
        response = super().handle_request(request)
        if response.status_code == 400:
            response.read()
            if b"invalid_grant" in response.content:
                self.refused.append(1)
        return response


class RotatingMicrosoft:
    """A Microsoft-style token endpoint (httpx MockTransport handler): a new refresh token each time, the old dead."""

    def __init__(self, refresh_token: str) -> None:
        self.refresh_token, self.issued_access = refresh_token, set[str]()
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        time.sleep(WINDOW)
        sent = parse_qs(request.content.decode())["refresh_token"][0]
        with self._lock:
            self.calls += 1
            if sent != self.refresh_token:
                return httpx.Response(400, json={"error": "invalid_grant", "error_description": "AADSTS70000"})
            self.refresh_token = f"r-{secrets.token_hex(8)}"
            access = f"a-{secrets.token_hex(8)}"
            self.issued_access.add(access)
            return httpx.Response(200, json={"access_token": access, "expires_in": 3599,
                                             "refresh_token": self.refresh_token})


class Unlocked:
    """The store as it was before issue 13: load and save only, no renewal lock (the control case)."""

    def __init__(self, tokens: StoreTokens) -> None:
        self.load, self.save = tokens.load, tokens.save


def stored(store: HubStore, provider: str, account: str) -> str | None:
    with store.transaction() as conn:
        return conn.execute(select(oauth_tokens.c.refresh_token).where(
            oauth_tokens.c.provider == provider, oauth_tokens.c.account == account)).scalar()


def race(renew_in_a_process) -> list[Exception]:
    """Run ``renew_in_a_process()`` on THREADS threads released together; the exceptions they raised."""
    barrier, errors = threading.Barrier(THREADS), []

    def one() -> None:
        barrier.wait()
        try:
            renew_in_a_process()
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def quickbooks_renewal(qbo: SandboxQuickBooks, store_url: str, *, locked: bool = True):
    def renew() -> None:
        store = HubStore(store_url)  # a process of its own: its own engine and connections
        tokens = StoreTokens(store, qbo.realm_id, seed="AB11-seed", provider="quickbooks")
        auth = IntuitOAuth(qbo.token_url, client_id=qbo.client_id, client_secret=SecretStr(qbo.client_secret),
                           tokens=tokens if locked else Unlocked(tokens), transport=SlowTransport())
        try:
            auth.refresh()
            request = httpx.Request("GET", qbo.base_url)
            auth.apply(request)
            assert request.headers["Authorization"].removeprefix("Bearer ") in qbo.state.access_tokens
        finally:
            auth.close()
            store.dispose()
    return renew


@pytest.fixture
def qbo():
    with SandboxQuickBooks(refresh_token="AB11-seed") as server:
        yield server


def test_concurrent_quickbooks_renewals_take_turns_and_keep_the_one_valid_token(qbo, store):
    SlowTransport.refused.clear()
    errors = race(quickbooks_renewal(qbo, store.url))
    assert errors == []
    assert SlowTransport.refused == []  # no invalid_grant, not even one retried
    assert len(qbo.state.refresh_tokens_issued) == THREADS  # each renewed once, from the token before it
    assert stored(store, "quickbooks", qbo.realm_id) == qbo.refresh_token  # the newest, the one that works


def renew_in_a_process(store_url: str, token_url: str, client_id: str, client_secret: str, realm_id: str,
                       barrier, results) -> None:
    """A Dagster run's process in miniature: its own interpreter, store engine and Intuit client."""
    store = HubStore(store_url)
    auth = IntuitOAuth(token_url, client_id=client_id, client_secret=SecretStr(client_secret),
                       tokens=StoreTokens(store, realm_id, seed="AB11-seed", provider="quickbooks"),
                       transport=SlowTransport())
    barrier.wait(timeout=60)
    try:
        auth.refresh()
        results.put(f"ok, refused {len(SlowTransport.refused)}")
    except Exception as exc:  # noqa: BLE001 - reported to the test
        results.put(f"{type(exc).__name__}: {exc}")
    finally:
        auth.close()
        store.dispose()


def test_renewals_in_separate_processes_take_turns(qbo, store):
    spawn = multiprocessing.get_context("spawn")  # fresh interpreters, as Dagster's run workers
    barrier, results = spawn.Barrier(2), spawn.Queue()
    processes = [spawn.Process(target=renew_in_a_process, args=(store.url, qbo.token_url, qbo.client_id,
                                                                 qbo.client_secret, qbo.realm_id, barrier, results))
                 for _ in range(2)]
    for process in processes:
        process.start()
    answers = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=30)
    assert answers == ["ok, refused 0", "ok, refused 0"]  # no invalid_grant, not even one retried
    assert len(qbo.state.refresh_tokens_issued) == 2
    assert stored(store, "quickbooks", qbo.realm_id) == qbo.refresh_token


def test_without_the_lock_the_same_renewals_collide(qbo, sqlite_store):
    """The control: the race above is real, so its test can fail (invalid_grant, or an older token stored)."""
    errors = race(quickbooks_renewal(qbo, sqlite_store.url, locked=False))
    stale = stored(sqlite_store, "quickbooks", qbo.realm_id) != qbo.refresh_token
    assert any(isinstance(e, ConfigurationError) and "invalid_grant" in str(e) for e in errors) or stale


def test_concurrent_microsoft_renewals_take_turns(store):
    endpoint = RotatingMicrosoft("r-seed")

    def renew() -> None:
        own = HubStore(store.url)  # a process of its own
        oauth2 = OAuth2Config(token_url=MS_URL, client_id="app-id", client_secret="s", refresh_token="r-seed")
        source = XOAuth2Tokens(oauth2, account=USER, tokens=StoreTokens(own, USER, seed="r-seed",
                                                                        provider="microsoft"),
                               transport=httpx.MockTransport(endpoint))
        try:
            assert source.access_token() in endpoint.issued_access
        finally:
            source.close()
            own.dispose()

    assert race(renew) == []
    assert endpoint.calls == THREADS  # no call refused, not even one retried
    assert stored(store, "microsoft", USER) == endpoint.refresh_token


def test_a_refusal_after_another_writer_rotated_is_retried_once_from_the_newest_token():
    tokens = MemoryTokenStore("r1")
    sent: list[str] = []

    def endpoint(request: httpx.Request) -> httpx.Response:
        sent.append(parse_qs(request.content.decode())["refresh_token"][0])
        if sent[-1] == "r1":
            tokens.refresh_token = "r2"  # a writer outside the lock rotated r1 meanwhile
            return httpx.Response(400, json={"error": "invalid_grant"})
        return httpx.Response(200, json={"access_token": "a2", "expires_in": 3599, "refresh_token": "r3"})

    oauth2 = OAuth2Config(token_url=MS_URL, client_id="app-id", client_secret="s", refresh_token="r1")
    source = XOAuth2Tokens(oauth2, account=USER, tokens=tokens, transport=httpx.MockTransport(endpoint))
    assert source.access_token() == "a2"
    assert sent == ["r1", "r2"] and tokens.refresh_token == "r3"


def test_a_refusal_of_the_newest_token_still_asks_for_re_consent_after_one_call():
    calls: list[httpx.Request] = []

    def endpoint(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(400, json={"error": "invalid_grant"})

    oauth2 = OAuth2Config(token_url=MS_URL, client_id="app-id", client_secret="s", refresh_token="r1")
    source = XOAuth2Tokens(oauth2, account=USER, tokens=MemoryTokenStore("r1"),
                           transport=httpx.MockTransport(endpoint))
    with pytest.raises(ConfigurationError, match="re-consent"):
        source.access_token()
    assert len(calls) == 1


def test_a_renewal_waits_a_bounded_time_for_the_lock(store):
    holder, waiter = HubStore(store.url), HubStore(f"{store.url}?timeout=0.3" if store.url.startswith("sqlite")
                                                   else store.url)
    try:
        with StoreTokens(holder, USER, seed="r1", provider="microsoft").renewal():
            started = time.monotonic()
            waiting = StoreTokens(waiter, USER, seed="r1", provider="microsoft")
            with pytest.raises(RetriableError, match="holds its lock"), waiting.renewal(timeout_seconds=0.3):
                pass
            assert time.monotonic() - started < 10
        with StoreTokens(waiter, USER, seed="r1", provider="microsoft").renewal():
            pass  # free again once the holder is done
    finally:
        holder.dispose()
        waiter.dispose()


@pytest.mark.integration
def test_the_save_never_overwrites_a_token_changed_outside_the_lock(postgres_server, fresh_postgres_database):
    """PostgreSQL only: on SQLite the renewal holds the write lock, so no writer can change the row meanwhile."""
    store = HubStore(postgres_server.url(fresh_postgres_database)).migrate()
    try:
        tokens = StoreTokens(store, USER, seed="r1", provider="microsoft")
        tokens.save("r2", None)
        with tokens.renewal() as renewal:
            assert renewal.current() == "r2"
            tokens.save("r3", None)  # an older version of the hub, saving without the lock
            assert renewal.save("r2-rotated", None) is False
        assert tokens.load() == "r3"
        with tokens.renewal() as renewal:
            assert renewal.current() == "r3" and renewal.save("r4", None) is True
        assert tokens.load() == "r4"
    finally:
        store.dispose()
