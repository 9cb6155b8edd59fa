"""The in-process IMAP sandbox (``sandbox.imap_server``) against the hub's own IMAP client and email sync:
the same code that reads Dovecot reads it, moves included (MOVE, and COPY + STORE + EXPUNGE without it)."""

from __future__ import annotations

import imaplib
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from canonical.errors import ConfigurationError
from connectors.imap import ImapConfig, ImapMailbox, OAuth2Config
from hub import store as st
from hub.intake import sync_orders
from hub.sources import EMAIL
from hub.sources.email import MailboxSession
from mappings.profiles import PartnerDirectory
from sandbox.imap_server import SandboxImapServer
from tests.email_messages import message

USER, PASSWORD = "orders@example.test", "sandbox-pw"


@pytest.fixture(params=[True, False], ids=["move", "copy-expunge"])
def server(request) -> Iterator[SandboxImapServer]:
    with SandboxImapServer(USER, PASSWORD, access_token="token-1", move=request.param) as imap:
        yield imap


def config(server: SandboxImapServer, **changes) -> ImapConfig:
    return ImapConfig(host=server.host, port=server.port, security="plain", username=USER,
                      password=SecretStr(PASSWORD), **changes)


def test_the_hub_client_reads_uids_sizes_and_raw_bytes_without_marking_them_seen(server):
    first, second = message("10 x A @ 1.00\n"), message("2 x B @ 3.00\n", message_id="<2@x>")
    assert (server.deliver(first), server.deliver(second)) == (1, 2)
    with ImapMailbox(config(server)) as box:
        state = box.state()
        assert state.uidnext == 3 and state.uidvalidity > 0
        assert box.uids_after(0) == [1, 2]
        assert box.uids_after(1) == [2]
        assert box.uids_after(2) == [], "UID 3:* answers the highest UID (RFC 3501); the client filters it"
        assert box.size(2) == len(second)
        assert box.fetch_raw(1) == first and box.fetch_raw(2) == second
        assert box.fetch_raw(9) is None and box.size(9) is None
    session = imaplib.IMAP4(server.host, server.port)
    session.login(USER, PASSWORD)
    session.select("INBOX")
    _, flags = session.uid("FETCH", "1:2", "(FLAGS)")
    session.logout()
    assert all(b"\\Seen" not in item for item in flags), "BODY.PEEK[] leaves the message unread"


def test_move_to_processed_creates_the_folder_and_keeps_the_bytes(server):
    raw = message("10 x A @ 1.00\n")
    server.deliver(raw)
    server.deliver(message("other", message_id="<o@x>"))
    with ImapMailbox(config(server)) as box:
        box.move(1, "Processed")
        assert box.uids_after(0) == [2], "only the moved message left the mailbox"
        box.move(2, "Rejected")
        assert box.uids_after(0) == []
    assert server.messages("Processed") == [raw]
    assert (server.count("INBOX"), server.count("Processed"), server.count("Rejected")) == (0, 1, 1)
    assert ("MOVE" in server.capabilities) == (server.capabilities.endswith("MOVE"))


def test_copy_fallback_expunges_only_the_moved_message():
    with SandboxImapServer(USER, PASSWORD, move=False) as server:
        for n in range(3):
            server.deliver(message(f"{n} x A @ 1.00\n", message_id=f"<{n}@x>"))
        person = imaplib.IMAP4(server.host, server.port)
        person.login(USER, PASSWORD)
        person.select("INBOX")
        person.uid("STORE", "3", "+FLAGS.SILENT", r"(\Deleted)")  # a person's own deletion, not expunged by us
        with ImapMailbox(config(server)) as box:
            assert "MOVE" not in box.capabilities
            box.move(1, "Processed")
        person.logout()
        assert server.count("INBOX") == 2 and server.count("Processed") == 1


def test_wrong_password_is_a_configuration_error_and_xoauth2_logs_in():
    with SandboxImapServer(USER, PASSWORD, access_token="token-1") as server:
        with pytest.raises(ConfigurationError, match="login refused"):
            ImapMailbox(config(server).model_copy(update={"password": SecretStr("nope")})).open()

        class Tokens:
            def __init__(self) -> None:
                self.tokens = ["expired", "token-1"]

            def access_token(self) -> str:
                return self.tokens[0]

            def refresh(self) -> None:
                self.tokens.pop(0)

        oauth = OAuth2Config(token_url="http://127.0.0.1:9/token", client_id="c", client_secret=SecretStr("s"),
                             refresh_token=SecretStr("r"))
        xoauth = ImapConfig(host=server.host, port=server.port, security="plain", username=USER, oauth2=oauth)
        with ImapMailbox(xoauth, oauth=Tokens()) as box:
            assert box.uids_after(0) == []


PROFILE = """\
id: acme_mail
name: Acme Retail
currency: USD
channels:
  - kind: email_imap
    host: 127.0.0.1
    port: {port}
    security: plain
    username: {user}
    password_env: HUB_TEST_IMAP_PASSWORD
    sender_domains: [acme-retail.test]
"""


def test_the_email_sync_reads_the_sandbox_once_and_moves_each_message(server, tmp_path, sqlite_store):
    (tmp_path / "acme_mail.yaml").write_text(PROFILE.format(port=server.port, user=USER))
    profile = PartnerDirectory.load(tmp_path).get("acme_mail")
    server.deliver(message("10 x WID-100 @ 8.99\n"))
    server.deliver(message("Weekly deals", headers={"List-Id": "<deals.acme-retail.test>"}, message_id="<n@x>"))

    def sync():
        with ImapMailbox(config(server)) as box:
            return sync_orders(sqlite_store, EMAIL, MailboxSession(box, sqlite_store, f"{USER}@127.0.0.1"), profile)

    assert sync().summary.orders_new == 1
    assert (server.count("INBOX"), server.count("Processed"), server.count("Rejected")) == (0, 2, 0)
    server.rebuild("Processed")  # unrelated folder renumbered: nothing to read again in INBOX
    for raw in server.messages("Processed"):
        server.deliver(raw)  # the same bytes again (a restored INBOX): duplicates by content
    assert sync().summary.orders_new == 0
    with sqlite_store.transaction() as conn:
        outcomes = conn.execute(st.tables.receipts.select().with_only_columns(st.tables.receipts.c.outcome)
                                .order_by(st.tables.receipts.c.id)).scalars().all()
    assert outcomes == ["accepted", "ignored", "duplicate", "duplicate"]
    assert server.count("Processed") == 4


def test_the_demo_mailbox_without_dovecot_is_the_in_process_server_the_profile_reaches(monkeypatch):
    from hub.defs.email.resources import email_resource
    from mappings.email import EmailChannelSettings
    from sandbox.mail import INPROCESS, SandboxMail
    from tests.fixtures.partners import PARTNERS

    monkeypatch.setenv("HUB_SANDBOX_IMAP", INPROCESS)
    mail = SandboxMail(PARTNERS)
    assert mail.profile is not None and mail.profile.id == "cornerhw"
    mail.start()
    try:
        assert mail.kind == "in-process IMAP sandbox"
        env = mail.environment()
        mail.deliver(message("1 x BOLT-M8 @ 8.40\n"))
        settings = mail.profile.channel("email_imap")
        assert isinstance(settings, EmailChannelSettings)
        resource = email_resource(settings)  # what Dagster resolves: the port and password from these variables
        port, password = (getattr(resource, field).env_var_name for field in ("port", "password"))
        config = resource.model_copy(update={"port": int(env[port]), "password": env[password]}).imap_config()
        with ImapMailbox(config) as box:
            assert box.uids_after(0) == [1]
        assert mail.count("INBOX") == 1 and mail.count("Processed") == 0
    finally:
        mail.stop()
