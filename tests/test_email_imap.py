"""The IMAP connector against a real Dovecot: UIDs since a cursor, raw bytes, moves; XOAUTH2 token refresh."""

from __future__ import annotations

import httpx
import pytest
import respx
from imap_tools.errors import MailboxLoginError

from canonical.errors import ConfigurationError
from connectors.imap import ImapConfig, ImapError, ImapMailbox, OAuth2Config
from tests.fixtures._integration import free_port
from tests.fixtures.dovecot import PASSWORD, access_token

MESSAGE = (b"From: Buyer <buyer@acme.test>\r\nTo: orders@example.test\r\nSubject: PO 1\r\n"
           b"Message-ID: <po1@acme.test>\r\n\r\nbody line\r\n")


def _config(server, user, **overrides) -> ImapConfig:
    return ImapConfig(host=server.host, port=server.port, security="plain", username=user, password=PASSWORD,
                      **overrides)


def test_new_uids_raw_bytes_and_move_creating_the_folder(dovecot_server):
    user = dovecot_server.new_mailbox()
    for n in range(3):
        dovecot_server.append(user, MESSAGE.replace(b"PO 1", f"PO {n}".encode()))
    with ImapMailbox(_config(dovecot_server, user)) as box:
        state = box.state()
        assert state.uidvalidity > 0 and state.uidnext == 4
        assert box.uids_after(0) == [1, 2, 3]
        assert box.uids_after(2) == [3]
        assert box.uids_after(3) == []  # "4:*" still answers UID 3: filtered
        raw = box.fetch_raw(2)
        assert raw == MESSAGE.replace(b"PO 1", b"PO 1")
        assert box.size(2) == len(raw)
        box.move(1, "Processed")
        box.move(2, "Rejected")
        assert box.uids_after(0) == [3]
        assert box.fetch_raw(1) is None
    assert dovecot_server.count(user, "Processed") == 1
    assert dovecot_server.count(user, "Rejected") == 1
    assert dovecot_server.count(user, "INBOX") == 1


def test_move_without_the_move_extension_copies_and_expunges_only_that_message(dovecot_server, monkeypatch):
    user = dovecot_server.new_mailbox()
    for _ in range(2):
        dovecot_server.append(user, MESSAGE)
    with ImapMailbox(_config(dovecot_server, user)) as box:
        caps = tuple(c for c in box.capabilities if c != "MOVE")
        monkeypatch.setattr(type(box), "capabilities", property(lambda self: caps))
        box.move(1, "Processed")
        assert box.uids_after(0) == [2]
    assert dovecot_server.count(user, "Processed") == 1


def test_plain_imap_is_refused_unless_loopback():
    with pytest.raises(ConfigurationError, match="loopback"):
        ImapConfig(host="imap.example.com", port=143, security="plain", username="u", password="p")
    assert ImapConfig(host="::1", security="plain", username="u", password="p").security == "plain"
    with pytest.raises(ConfigurationError, match="either a password or OAuth2"):
        ImapConfig(host="imap.example.com", username="u")


def test_wrong_password_is_a_configuration_error(dovecot_server):
    user = dovecot_server.new_mailbox()
    config = ImapConfig(host=dovecot_server.host, port=dovecot_server.port, security="plain", username=user,
                        password="wrong")
    with pytest.raises(ConfigurationError, match="login refused"):
        ImapMailbox(config).open()


class _FakeBox:
    """Stands in for imap-tools' mailbox: refuses every XOAUTH2 token but ``accepted``."""

    def __init__(self, accepted: str) -> None:
        self.accepted, self.tried = accepted, list[str]()

    def xoauth2(self, username, token, initial_folder=None):
        self.tried.append(token)
        if token != self.accepted:
            raise MailboxLoginError(("NO", [b"AUTHENTICATE failed"]), "OK")
        return self


@respx.mock
def test_xoauth2_refreshes_a_refused_token_once():
    route = respx.post("https://login.example.test/oauth2/v2.0/token").mock(side_effect=[
        httpx.Response(200, json={"access_token": "stale", "expires_in": 3600}),
        httpx.Response(200, json={"access_token": "fresh", "expires_in": 3600}),
    ])
    config = ImapConfig(host="outlook.office365.com", username="orders@example.test", oauth2=OAuth2Config(
        token_url="https://login.example.test/oauth2/v2.0/token", client_id="app", client_secret="s",
        refresh_token="r"))
    mailbox = ImapMailbox(config)
    box = _FakeBox(accepted="fresh")
    mailbox._login(box)  # type: ignore[arg-type]
    assert box.tried == ["stale", "fresh"]
    assert route.call_count == 2
    form = route.calls[0].request.content.decode()
    assert "grant_type=refresh_token" in form and "refresh_token=r" in form


@respx.mock
def test_xoauth2_refused_twice_is_a_configuration_error():
    respx.post("https://oauth2.example.test/token").mock(
        return_value=httpx.Response(200, json={"access_token": "nope", "expires_in": 3600}))
    config = ImapConfig(host="imap.gmail.com", username="orders@example.test", oauth2=OAuth2Config(
        token_url="https://oauth2.example.test/token", client_id="app", client_secret="s", refresh_token="r"))
    with pytest.raises(ConfigurationError, match="login refused"):
        ImapMailbox(config)._login(_FakeBox(accepted="fresh"))  # type: ignore[arg-type]


@respx.mock
def test_xoauth2_login_against_dovecot_refreshes_a_refused_token(dovecot_server):
    """Dovecot asks the identity provider (the fixture's introspection endpoint) about each token."""
    user = dovecot_server.new_mailbox()
    dovecot_server.append(user, MESSAGE)
    token_url = "https://login.example.test/tenant/oauth2/v2.0/token"
    route = respx.post(token_url).mock(side_effect=[
        httpx.Response(200, json={"access_token": "revoked-early", "expires_in": 3600}),
        httpx.Response(200, json={"access_token": access_token(user), "expires_in": 3600}),
    ])
    config = ImapConfig(host=dovecot_server.host, port=dovecot_server.port, security="plain", username=user,
                        oauth2=OAuth2Config(token_url=token_url, client_id="app", client_secret="s",
                                            refresh_token="r"))
    with ImapMailbox(config) as box:
        assert box.uids_after(0) == [1]
    assert route.call_count == 2


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_tls_and_starttls_check_the_certificate(dovecot_server, security):
    user = dovecot_server.new_mailbox()
    dovecot_server.append(user, MESSAGE)
    port = dovecot_server.tls_port if security == "tls" else dovecot_server.port
    trusted = ImapConfig(host=dovecot_server.host, port=port, security=security, username=user, password=PASSWORD,
                         ca_file=str(dovecot_server.ca_file))
    with ImapMailbox(trusted) as box:
        assert box.fetch_raw(1) == MESSAGE
    untrusted = trusted.model_copy(update={"ca_file": None})  # the system's trust store does not know it
    with pytest.raises(ConfigurationError, match="certificate is not trusted"):
        ImapMailbox(untrusted).open()
    unreachable = trusted.model_copy(update={"port": free_port()})
    with pytest.raises(ImapError, match="cannot connect"):
        ImapMailbox(unreachable).open()
