"""Email intake against a real Dovecot: exactly once per message, moves after the commit, dedup on UIDVALIDITY
change and resends, newsletters ignored, bad mail queued with a reason, what customers send read."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from canonical.model import Order, PartyRole
from connectors.imap import ImapMailbox
from hub import store as st
from hub.defs.email.resources import email_resource
from hub.intake import sync_orders
from hub.replay import replay_exception
from hub.sources import EMAIL
from hub.sources.email import MailboxSession
from mappings.profiles import PartnerDirectory, PartnerProfile
from tests.email_messages import message
from tests.fixtures.dovecot import PASSWORD
from tests.xlsx_writer import xlsx

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
    max_message_bytes: {limit}
"""
BODY = "Hello,\nplease ship:\n\n10 x WID-100 @ 8.99\nqty 6 WID-200 @ 7.25\n\nThanks\n"


@pytest.fixture
def mailbox(dovecot_server, tmp_path, monkeypatch) -> Iterator[tuple[str, PartnerProfile]]:
    user = dovecot_server.new_mailbox()
    folder = tmp_path / "partners"
    folder.mkdir()
    (folder / "acme_mail.yaml").write_text(PROFILE.format(port=dovecot_server.port, user=user, limit=200_000))
    monkeypatch.setenv("HUB_TEST_IMAP_PASSWORD", PASSWORD)
    monkeypatch.setenv("HUB_PARTNERS_DIR", str(folder))
    partners = PartnerDirectory.load(folder)
    assert not partners.problems, partners.problems
    yield user, partners.get("acme_mail")


def sync(store: st.HubStore, profile: PartnerProfile):
    resource = email_resource(profile.channel("email_imap"))  # type: ignore[arg-type]
    config = resource.model_copy(update={"password": PASSWORD}).imap_config()
    with ImapMailbox(config) as box:
        return sync_orders(store, EMAIL, MailboxSession(box, store, f"{config.username}@{config.host}"), profile)


def receipts(store: st.HubStore) -> list[tuple[str, str | None]]:
    table = st.tables.receipts
    with store.transaction() as conn:
        rows = conn.execute(select(table.c.outcome, table.c.reason).where(table.c.channel == "email")
                            .order_by(table.c.id)).all()
    return [(row.outcome, row.reason) for row in rows]


def orders(store: st.HubStore) -> list[Order]:
    table = st.tables.orders
    with store.transaction() as conn:
        ids = conn.execute(select(table.c.id).order_by(table.c.id)).scalars().all()
        return [st.load_order(conn, order_id) for order_id in ids]


def open_exceptions(store: st.HubStore):
    with store.transaction() as conn:
        return st.list_exceptions(conn, state=st.OPEN, limit=100)


def folders(server, user) -> dict[str, int]:
    return {name: server.count(user, name) for name in ("INBOX", "Processed", "Rejected")}


def test_body_lines_stored_once_and_the_message_moved_after_the_commit(dovecot_server, mailbox, sqlite_store):
    user, profile = mailbox
    dovecot_server.append(user, message(BODY))
    result = sync(sqlite_store, profile)
    assert result.summary.orders_new == 1
    (order,) = orders(sqlite_store)
    assert order.source_ref == "4500012345" and order.partner_id == "acme_mail"
    assert [(line.sku, line.quantity, line.unit_price) for line in order.lines] == [
        ("WID-100", Decimal("10"), Decimal("8.99")), ("WID-200", Decimal("6"), Decimal("7.25"))]
    assert [line.references["from"] for line in order.lines] == ["body line 4", "body line 5"]
    assert order.total == Decimal("133.40")
    assert folders(dovecot_server, user) == {"INBOX": 0, "Processed": 1, "Rejected": 0}

    # Exactly once: the sync again, and the message put back into the INBOX (a new UID, same bytes).
    sync(sqlite_store, profile)
    dovecot_server.append(user, message(BODY))
    again = sync(sqlite_store, profile)
    assert again.summary.orders_new == 0 and len(orders(sqlite_store)) == 1
    assert [outcome for outcome, _ in receipts(sqlite_store)] == ["accepted", "duplicate"]
    assert "same bytes" in (receipts(sqlite_store)[1][1] or "")
    assert folders(dovecot_server, user) == {"INBOX": 0, "Processed": 2, "Rejected": 0}


def test_a_run_stopped_between_commit_and_move_resumes_without_a_second_order(dovecot_server, mailbox, sqlite_store,
                                                                              monkeypatch):
    user, profile = mailbox
    for n in (1, 2, 3):
        dovecot_server.append(user, message(f"{n} x WID-10{n} @ 1.50\n", subject=f"PO 70{n}",
                                            message_id=f"<po70{n}@acme-retail.test>"))
    real_move, moves = ImapMailbox.move, list[int]()

    def move_then_die(self, uid, folder):
        if len(moves) == 1:
            raise ConnectionResetError("the connection dropped")  # message 2 is committed, not moved
        moves.append(uid)
        real_move(self, uid, folder)

    monkeypatch.setattr(ImapMailbox, "move", move_then_die)
    with pytest.raises(ConnectionResetError):
        sync(sqlite_store, profile)
    assert [o.source_ref for o in orders(sqlite_store)] == ["701", "702"]
    monkeypatch.setattr(ImapMailbox, "move", real_move)
    result = sync(sqlite_store, profile)
    assert [o.source_ref for o in orders(sqlite_store)] == ["701", "702", "703"]
    assert result.summary.orders_new == 1
    assert [outcome for outcome, _ in receipts(sqlite_store)] == ["accepted"] * 3
    assert folders(dovecot_server, user) == {"INBOX": 0, "Processed": 3, "Rejected": 0}


def _reset_uidvalidity(server, user, uidvalidity: int) -> None:
    """What a restored or rebuilt mailbox does: its UIDs forgotten, a new UIDVALIDITY, messages numbered anew."""
    maildir: Path = server.maildir(user)
    owner = maildir.stat()
    for path in maildir.glob("dovecot*"):
        path.unlink()
    uidlist = maildir / "dovecot-uidlist"
    uidlist.write_text(f"3 V{uidvalidity} N1\n")
    os.chown(uidlist, owner.st_uid, owner.st_gid)


def test_a_changed_uidvalidity_reads_the_mailbox_again_and_dedups_by_content(dovecot_server, mailbox, store,
                                                                              monkeypatch):
    sqlite_store = store  # both backends
    user, profile = mailbox
    dovecot_server.append(user, message(BODY))
    with ImapMailbox(EMAIL_CONFIG(profile)) as box:
        before = box.state().uidvalidity
    # Committed, but the move never happened (the server refused it): the message stays in the INBOX.
    monkeypatch.setattr(ImapMailbox, "move", lambda self, uid, folder: None)
    sync(sqlite_store, profile)
    monkeypatch.undo()
    monkeypatch.setenv("HUB_TEST_IMAP_PASSWORD", PASSWORD)
    _reset_uidvalidity(dovecot_server, user, before + 1000)
    dovecot_server.append(user, message("2 x WID-900 @ 3.00\n", subject="PO 800",
                                        message_id="<po800@acme-retail.test>"))
    with ImapMailbox(EMAIL_CONFIG(profile)) as box:
        assert box.state().uidvalidity != before
    result = sync(sqlite_store, profile)
    assert [o.source_ref for o in orders(sqlite_store)] == ["4500012345", "800"]
    assert result.summary.orders_new == 1
    # The rebuilt mailbox numbers its messages anew, in an order of its own.
    outcomes = receipts(sqlite_store)
    assert sorted(outcome for outcome, _ in outcomes) == ["accepted", "accepted", "duplicate"]
    assert "same bytes" in next(reason or "" for outcome, reason in outcomes if outcome == "duplicate")
    assert folders(dovecot_server, user) == {"INBOX": 0, "Processed": 2, "Rejected": 0}


def EMAIL_CONFIG(profile: PartnerProfile):
    return email_resource(profile.channel("email_imap")).model_copy(  # type: ignore[arg-type]
        update={"password": PASSWORD}).imap_config()


def test_a_resend_with_the_same_message_id_is_a_duplicate(dovecot_server, mailbox, store):
    """On SQLite and PostgreSQL: the ledger's queries (same bytes, a Message-ID suffix) on both."""
    sqlite_store = store
    user, profile = mailbox
    dovecot_server.append(user, message(BODY))
    sync(sqlite_store, profile)
    # The customer's client sends it again: same Message-ID, a new Date and relay header.
    resent = message(BODY, date=dt.datetime(2026, 12, 4, 8, 0, tzinfo=dt.UTC),
                     headers={"Received": "from relay.acme-retail.test by mx"})
    dovecot_server.append(user, resent)
    sync(sqlite_store, profile)
    assert len(orders(sqlite_store)) == 1
    outcomes = receipts(sqlite_store)
    assert [o for o, _ in outcomes] == ["accepted", "duplicate"]
    assert "same Message-ID" in (outcomes[1][1] or "")
    assert folders(dovecot_server, user) == {"INBOX": 0, "Processed": 2, "Rejected": 0}
    assert open_exceptions(sqlite_store) == []


@pytest.mark.parametrize("header", [{"Auto-Submitted": "auto-replied"}, {"List-Id": "<news.acme-retail.test>"},
                                    {"Precedence": "bulk"}])
def test_newsletters_and_auto_replies_are_ignored_and_recorded(dovecot_server, mailbox, sqlite_store, header):
    user, profile = mailbox
    dovecot_server.append(user, message("Out of office until Monday.\n10 x WID-100 @ 8.99\n", headers=header,
                                        message_id="<auto@acme-retail.test>"))
    sync(sqlite_store, profile)
    assert orders(sqlite_store) == []
    ((outcome, reason),) = receipts(sqlite_store)
    assert outcome == "ignored" and reason and reason.startswith("ignored: ")
    assert open_exceptions(sqlite_store) == []
    assert folders(dovecot_server, user) == {"INBOX": 0, "Processed": 1, "Rejected": 0}


def test_a_decimal_comma_csv_in_windows_1252_is_read_with_its_rows(dovecot_server, mailbox, sqlite_store):
    user, profile = mailbox
    csv = ("Artikelnummer;Bezeichnung;Menge;Einzelpreis\r\n"
           "WID-100;\"Schraube; verzinkt\";12;1,25\r\n"
           "WID-200;Türgriff groß;2;1.234,50\r\n").encode("windows-1252")
    dovecot_server.append(user, message("Bestellung anbei.\n", subject="Bestellung PO 5100",
                                        attachments=(("bestellung.csv", csv, "text/csv"),)))
    sync(sqlite_store, profile)
    (order,) = orders(sqlite_store)
    assert [(line.sku, line.quantity, line.unit_price, line.description) for line in order.lines] == [
        ("WID-100", Decimal(12), Decimal("1.25"), "Schraube; verzinkt"),
        ("WID-200", Decimal(2), Decimal("1234.50"), "Türgriff groß")]
    assert [line.references["from"] for line in order.lines] == ["attachment bestellung.csv row 2",
                                                           "attachment bestellung.csv row 3"]
    assert order.source_ref == "5100"


def test_quoted_history_is_not_read_and_the_ship_to_is(dovecot_server, mailbox, sqlite_store):
    user, profile = mailbox
    body = ("Please send\n4 x WID-300 $7.25 ea\n\nShip to:\nAcme Store 12\n1 Main St\nSpringfield, IL 62701\n\n"
            "On Tue, Dec 1, 2026 at 9:00 AM Sales <sales@example.test> wrote:\n> 99 x WID-999 @ 1.00\n"
            "> Ship to: nowhere\n")
    dovecot_server.append(user, message(body, subject="Re: PO 900"))
    sync(sqlite_store, profile)
    (order,) = orders(sqlite_store)
    assert [(line.sku, line.quantity) for line in order.lines] == [("WID-300", Decimal(4))]
    ship = order.party(PartyRole.SHIP_TO)
    assert ship is not None
    assert (ship.name, ship.address_lines, ship.city, ship.region, ship.postal_code) == (
        "Acme Store 12", ["1 Main St"], "Springfield", "IL", "62701")
    assert order.references["ship_to_from"] == "body lines 4-7"


def test_mail_without_an_order_is_rejected_with_its_reason(dovecot_server, mailbox, sqlite_store):
    user, profile = mailbox
    dovecot_server.append(user, message("Can you call me about prices?\n", message_id="<q@acme-retail.test>"))
    dovecot_server.append(user, message("Hi", sender="someone@elsewhere.test", message_id="<x@elsewhere.test>"))
    bad_row = b"SKU,Qty,Price\r\nWID-1,2,3.00\r\nWID-2,two,3.00\r\n"
    dovecot_server.append(user, message("Attached", message_id="<csv@acme-retail.test>",
                                        attachments=(("po.csv", bad_row, "text/csv"),)))
    sync(sqlite_store, profile)
    assert orders(sqlite_store) == []
    assert [o for o, _ in receipts(sqlite_store)] == ["rejected", "rejected", "rejected"]
    reasons = sorted(e.reason for e in open_exceptions(sqlite_store))
    assert reasons[0].startswith("no order lines found") and reasons[1].startswith("no order lines found")
    assert reasons[2] == ("order 4500012345 cannot be read: attachment po.csv row 3: quantity 'two' is not a "
                          "number above 0")
    assert folders(dovecot_server, user) == {"INBOX": 0, "Processed": 0, "Rejected": 3}


def test_an_order_from_a_sender_the_profile_does_not_list_is_a_draft_not_a_rejection(dovecot_server, mailbox,
                                                                                      sqlite_store, monkeypatch,
                                                                                      capsys):
    from hub.cli import main
    from hub.validation import approve

    user, profile = mailbox
    dovecot_server.append(user, message(BODY, sender="Pat <pat@elsewhere.test>", message_id="<x@elsewhere.test>"))
    result = sync(sqlite_store, profile)
    assert result.summary.orders_new == 1 and open_exceptions(sqlite_store) == []
    (order,) = orders(sqlite_store)
    assert order.references["sender"] == "pat@elsewhere.test", "the evidence of who sent it is kept on the order"
    assert order.references["sender_unknown"].startswith("not among acme_mail's sender_addresses")
    with sqlite_store.transaction() as conn:
        (approval,) = st.list_approvals(conn)
        assert conn.execute(select(st.tables.outbox)).all() == [], "a draft is not delivered"
    assert {"rule": "unknown_sender", "line": None, "expected": "a sender the customer's profile lists",
            "found": "a sender at elsewhere.test"} in approval.findings, "the domain: findings reach the Dagster UI"
    monkeypatch.setenv("HUB_DATABASE_URL", str(sqlite_store.engine.url))
    assert main(["approvals", "show", str(approval.id)]) == 0
    assert "sent by pat@elsewhere.test" in capsys.readouterr().out, "the reviewer sees who sent it"
    assert folders(dovecot_server, user) == {"INBOX": 0, "Processed": 1, "Rejected": 0}
    approve(sqlite_store, approval.id, by="reviewer", note="Pat is their new buyer")
    with sqlite_store.transaction() as conn:
        assert len(conn.execute(select(st.tables.outbox)).all()) == 1, "approved: delivered"


def test_a_message_over_the_size_limit_is_not_downloaded_and_queued(dovecot_server, mailbox, sqlite_store,
                                                                     monkeypatch):
    user, profile = mailbox
    dovecot_server.append(user, message(BODY + "x" * 300_000))
    fetched = list[int]()
    real_fetch = ImapMailbox.fetch_raw

    def fetch(self, uid):
        fetched.append(uid)
        return real_fetch(self, uid)

    monkeypatch.setattr(ImapMailbox, "fetch_raw", fetch)
    sync(sqlite_store, profile)
    assert fetched == [] and orders(sqlite_store) == [] and receipts(sqlite_store) == []
    (exception,) = open_exceptions(sqlite_store)
    assert "over the mailbox's limit of 200000" in exception.reason
    assert folders(dovecot_server, user) == {"INBOX": 0, "Processed": 0, "Rejected": 1}


def test_a_rejected_message_replays_from_the_archive_once_the_profile_is_fixed(dovecot_server, mailbox, sqlite_store,
                                                                              tmp_path):
    user, _ = mailbox
    text = PROFILE.format(port=dovecot_server.port, user=user, limit=200_000)
    strict = tmp_path / "strict"
    strict.mkdir()
    (strict / "acme_mail.yaml").write_text(text + "amount_limits: {max_order_total: '100'}\n")
    dovecot_server.append(user, message(BODY, message_id="<e1@acme-retail.test>"))  # 133.40 in total
    sync(sqlite_store, PartnerDirectory.load(strict).get("acme_mail"))
    (exception,) = open_exceptions(sqlite_store)
    assert "100" in exception.reason and orders(sqlite_store) == []

    fixed = tmp_path / "fixed"
    fixed.mkdir()
    (fixed / "acme_mail.yaml").write_text(text)
    outcome = replay_exception(sqlite_store, PartnerDirectory.load(fixed), exception.id, now=st.utcnow())
    assert outcome.done, outcome.message
    assert [o.source_ref for o in orders(sqlite_store)] == ["4500012345"]
    assert open_exceptions(sqlite_store) == []


def _html_only() -> bytes:
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = "buyer@acme-retail.test", "PO 4100", "<html@acme-retail.test>"
    msg["Date"] = "Thu, 03 Dec 2026 09:30:00 +0000"
    msg.set_content("<p>Order:</p><table><tr><th>SKU</th><th>Qty</th><th>Unit price</th></tr>"
                    "<tr><td>WID-100</td><td>1,000</td><td>$1,234.50</td></tr></table>", subtype="html")
    return msg.as_bytes()


def _forwarded() -> bytes:
    inner = message("2 x WID-200 @ 7.25\n", subject="PO 4200", message_id="<orig@acme-retail.test>")
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = "buyer@acme-retail.test", "Fwd: PO 4200", "<fwd@acme-retail.test>"
    msg["Date"] = "Thu, 03 Dec 2026 09:30:00 +0000"
    msg.set_content("Forwarding our PO.\n")
    msg.add_attachment(message_from_bytes(inner, policy=policy.default))
    return msg.as_bytes()


@pytest.mark.parametrize("raw, expected", [
    (lambda: message("Order attached", subject="PO 4000", attachments=(
        ("po.xlsx", xlsx([["Item number", "Quantity", "Price"], ["WID-300", 5, 2.5]]),
         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),)),
     ("4000", "WID-300", Decimal(5), Decimal("2.5"), "attachment po.xlsx row 2")),
    (_html_only, ("4100", "WID-100", Decimal(1000), Decimal("1234.50"), "HTML table 1 row 2")),
    (_forwarded, ("4200", "WID-200", Decimal(2), Decimal("7.25"), "forwarded message 1 body line 1")),
], ids=["xlsx", "html-only table", "forwarded message/rfc822"])
def test_each_form_customers_send_through_the_mailbox(dovecot_server, mailbox, sqlite_store, raw, expected):
    user, profile = mailbox
    dovecot_server.append(user, raw())
    sync(sqlite_store, profile)
    (order,) = orders(sqlite_store)
    (line,) = order.lines
    assert (order.source_ref, line.sku, line.quantity, line.unit_price, line.references["from"]) == expected
    assert folders(dovecot_server, user) == {"INBOX": 0, "Processed": 1, "Rejected": 0}


def test_the_receipt_key_names_account_mailbox_uidvalidity_uid_and_the_message_id():
    from hub.sources.email import header_message_id, message_id_hash, message_key

    folded = b"Subject: PO 1\r\nMessage-ID:\r\n <po1@acme-retail.test>\r\n\r\nbody"
    assert header_message_id(folded) == "<po1@acme-retail.test>"
    assert header_message_id(b"Subject: no id\r\n\r\nbody") is None
    key = message_key("orders@imap.example.test", "INBOX", 1700000000, 42, "<po1@acme-retail.test>")
    mid = message_id_hash("<po1@acme-retail.test>")
    assert key == f"orders@imap.example.test/INBOX;UIDVALIDITY=1700000000;UID=42;MID={mid}"
    assert message_key("a@h", "INBOX", 1, 2, None).endswith(";MID=-"), "no Message-ID: no resend guard"
