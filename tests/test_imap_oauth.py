"""IMAP XOAUTH2 with rotating refresh tokens kept in the hub store (Microsoft 365, Gmail), and re-consent."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from sqlalchemy import select

from canonical.errors import ConfigurationError
from connectors.imap import OAuth2Config
from connectors.imap._oauth import MICROSOFT_IMAP_SCOPE, XOAuth2Tokens, provider_of
from hub.defs.email.resources import EmailMailboxResource
from hub.store._tables import oauth_tokens
from hub.store.oauth_tokens import StoreTokens
from tests.fixtures.dovecot import access_token

MS_URL = "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
GOOGLE_URL = "https://oauth2.googleapis.com/token"
USER = "orders@contoso.test"


def sources(store, url: str, seed: str, *, user: str = USER) -> XOAuth2Tokens:
    """A token source as one process (a sensor tick, a run) builds it: seed from the environment, store shared."""
    oauth2 = OAuth2Config(token_url=url, client_id="app-id", client_secret="app-secret", refresh_token=seed)
    return XOAuth2Tokens(oauth2, account=user, tokens=StoreTokens(store, user, seed=seed, provider=provider_of(url)))


def form(call) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.content.decode()).items()}


def answer(access: str, refresh: str | None = None, **extra) -> httpx.Response:
    body = {"access_token": access, "token_type": "Bearer", "expires_in": 3599, **extra}
    if refresh is not None:
        body["refresh_token"] = refresh
    return httpx.Response(200, json=body)


def stored(store, provider: str, user: str = USER):
    with store.transaction() as conn:
        return conn.execute(select(oauth_tokens).where(oauth_tokens.c.provider == provider,
                                                       oauth_tokens.c.account == user)).first()


def test_provider_from_the_token_endpoint():
    assert provider_of(MS_URL) == "microsoft"
    assert provider_of("https://login.microsoftonline.com/common/oauth2/v2.0/token") == "microsoft"
    assert provider_of(GOOGLE_URL) == "google"
    assert provider_of("http://127.0.0.1:8999/token") == "127.0.0.1"


@respx.mock
def test_microsoft_rotation_is_persisted_and_the_next_process_starts_from_it(store):
    route = respx.post(MS_URL).mock(side_effect=[answer("a1", "r2"), answer("a2", "r3")])
    assert sources(store, MS_URL, "r1").access_token() == "a1"
    first = form(route.calls[0])
    assert first == {"grant_type": "refresh_token", "refresh_token": "r1", "client_id": "app-id",
                     "client_secret": "app-secret", "scope": MICROSOFT_IMAP_SCOPE}
    assert stored(store, "microsoft").refresh_token == "r2"
    # A new process with the same environment seed uses the stored, rotated token, not the seed.
    assert sources(store, MS_URL, "r1").access_token() == "a2"
    assert form(route.calls[1])["refresh_token"] == "r2"
    row = stored(store, "microsoft")
    assert row.refresh_token == "r3" and row.rotated_at is not None


@respx.mock
def test_each_refresh_in_one_process_starts_from_the_store(sqlite_store):
    """Another process rotated the token meanwhile: ours must not send the one it read before."""
    route = respx.post(MS_URL).mock(side_effect=[answer("a1", "r2"), answer("a2", "r4")])
    tokens = sources(sqlite_store, MS_URL, "r1")
    tokens.access_token()
    StoreTokens(sqlite_store, USER, seed="r1", provider="microsoft").save("r3", None)  # the other process
    tokens.refresh()
    assert form(route.calls[1])["refresh_token"] == "r3"
    assert stored(sqlite_store, "microsoft").refresh_token == "r4"


@respx.mock
def test_a_new_environment_seed_wins_over_the_stored_token(sqlite_store):
    route = respx.post(MS_URL).mock(side_effect=[answer("a1", "r2"), answer("a2", "s2"), answer("a3", "s3")])
    sources(sqlite_store, MS_URL, "r1").access_token()
    # The owner re-consented; the operator set the new refresh token s1 in the environment.
    sources(sqlite_store, MS_URL, "s1").access_token()
    assert form(route.calls[1])["refresh_token"] == "s1"
    sources(sqlite_store, MS_URL, "s1").access_token()
    assert form(route.calls[2])["refresh_token"] == "s2"  # and from then on the rotation again


@respx.mock
def test_the_rotated_token_is_saved_before_the_access_token_is_handed_out():
    class Refusing:
        def load(self) -> str:
            return "r1"

        def save(self, refresh_token: str, expires_in: float | None) -> None:
            raise RuntimeError("store down")

    respx.post(MS_URL).mock(return_value=answer("a1", "r2"))
    oauth2 = OAuth2Config(token_url=MS_URL, client_id="app-id", client_secret="s", refresh_token="r1")
    with pytest.raises(RuntimeError, match="store down"):
        XOAuth2Tokens(oauth2, account=USER, tokens=Refusing()).access_token()


@respx.mock
def test_google_sends_no_scope_and_keeps_the_seed_until_it_rotates(sqlite_store):
    route = respx.post(GOOGLE_URL).mock(side_effect=[answer("g1"), answer("g2", "g-r2", refresh_token_expires_in=600)])
    assert sources(sqlite_store, GOOGLE_URL, "g-r1").access_token() == "g1"
    assert "scope" not in form(route.calls[0]) and form(route.calls[0])["refresh_token"] == "g-r1"
    assert stored(sqlite_store, "google") is None  # nothing rotated, nothing to keep
    sources(sqlite_store, GOOGLE_URL, "g-r1").access_token()
    assert form(route.calls[1])["refresh_token"] == "g-r1"
    row = stored(sqlite_store, "google")
    assert row.refresh_token == "g-r2" and row.expires_at is not None


@respx.mock
@pytest.mark.parametrize(("url", "body"), [
    (MS_URL, {"error": "invalid_grant", "error_description": "AADSTS70043: The refresh token has expired due to "
                                                             "inactivity. Trace ID: 1"}),
    (MS_URL, {"error": "interaction_required", "error_description": "AADSTS50076: multi-factor needed"}),
    (GOOGLE_URL, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."}),
])
def test_invalid_grant_says_to_re_consent_and_names_no_token(sqlite_store, url, body, caplog):
    respx.post(url).mock(return_value=httpx.Response(400, json=body))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(ConfigurationError, match="re-consent") as failure:
        sources(sqlite_store, url, "secret-refresh-1").access_token()
    assert USER in str(failure.value) and body["error"] in str(failure.value)
    assert "secret-refresh-1" not in str(failure.value) + caplog.text


@respx.mock
def test_invalid_client_is_a_configuration_error_and_5xx_is_retriable(sqlite_store):
    from canonical.errors import RetriableError

    respx.post(MS_URL).mock(side_effect=[httpx.Response(401, json={"error": "invalid_client"}),
                                         httpx.Response(503)])
    with pytest.raises(ConfigurationError, match="client id and secret"):
        sources(sqlite_store, MS_URL, "r1").access_token()
    with pytest.raises(RetriableError):
        sources(sqlite_store, MS_URL, "r1").access_token()


@respx.mock
def test_tokens_are_never_logged_nor_in_repr(sqlite_store, caplog):
    respx.post(MS_URL).mock(return_value=answer("access-xyz", "refresh-rotated"))
    caplog.set_level(logging.DEBUG)
    tokens = sources(sqlite_store, MS_URL, "refresh-seed")
    tokens.access_token()
    shown = caplog.text + repr(tokens) + repr(tokens._tokens)
    assert caplog.records  # the request was logged ...
    assert not any(t in shown for t in ("access-xyz", "refresh-rotated", "refresh-seed", "app-secret"))


@respx.mock
def test_the_email_resource_logs_in_to_dovecot_and_keeps_the_rotated_token(dovecot_server, store_url):
    """The sensor's and the sync's mailbox: Microsoft rotates the token on each refresh, the store follows."""
    user = dovecot_server.new_mailbox()
    route = respx.post(MS_URL).mock(side_effect=[answer(access_token(user), "m-r2"),
                                                 answer(access_token(user), "m-r3")])
    resource = EmailMailboxResource(host=dovecot_server.host, port=dovecot_server.port, security="plain",
                                    username=user, oauth2_token_url=MS_URL, oauth2_client_id="app-id",
                                    oauth2_client_secret="app-secret", oauth2_refresh_token="m-r1",
                                    database_url=store_url)
    with resource.mailbox_client() as box:
        assert box.uids_after(0) == []
    with resource.client() as session:
        assert session is not None
    assert [form(c)["refresh_token"] for c in route.calls] == ["m-r1", "m-r2"]
    assert stored(resource.store(), "microsoft", user).refresh_token == "m-r3"


def test_a_password_mailbox_touches_no_token_store(dovecot_server, monkeypatch):
    user = dovecot_server.new_mailbox()
    resource = EmailMailboxResource(host=dovecot_server.host, port=dovecot_server.port, security="plain",
                                    username=user, password="x")
    monkeypatch.setattr(EmailMailboxResource, "store", lambda self: pytest.fail("store opened"))
    with pytest.raises(ConfigurationError, match="login refused"), resource.mailbox_client():
        pass


@respx.mock
def test_a_public_client_sends_no_secret_and_no_token_at_all_is_a_configuration_error(sqlite_store):
    route = respx.post(MS_URL).mock(return_value=answer("a1", "r2"))
    oauth2 = OAuth2Config(token_url=MS_URL, client_id="app-id", client_secret="", refresh_token="r1")
    XOAuth2Tokens(oauth2, account=USER).access_token()
    assert "client_secret" not in form(route.calls[0])
    empty = StoreTokens(sqlite_store, USER, seed="", provider="microsoft")
    with pytest.raises(ConfigurationError, match="no microsoft refresh token"):
        XOAuth2Tokens(oauth2, account=USER, tokens=empty).access_token()
    assert route.call_count == 1
