"""Rejecting an email order: the reply goes to the sender only when an SMTP server is configured, and says so."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from canonical.model import Order, OrderLine, Party, PartyRole
from hub import store as st
from hub.validation import admit, gated, reject
from mappings.profiles import PartnerProfile
from tests.fixtures._integration import free_port
from tests.fixtures.alert_receivers import smtp_sink

NOW = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)
RAW = (b"From: Pat Buyer <Pat@Acme.test>\r\nTo: orders@hub.test\r\nSubject: PO 7788\r\n"
       b"Message-ID: <po-7788@acme.test>\r\n\r\n2 x BAN-1 @ 3.00\r\n")
PROFILE = PartnerProfile.model_validate({"id": "acme", "name": "Acme", "validation": {"restricted_skus": ["BAN-1"]}})
SMTP_ENV = ("HUB_ALERT_SMTP_HOST", "HUB_ALERT_SMTP_PORT", "HUB_ALERT_SMTP_FROM", "HUB_ALERT_SMTP_TO",
            "HUB_ALERT_SMTP_TLS")


@pytest.fixture(autouse=True)
def no_smtp(monkeypatch):
    for key in SMTP_ENV:
        monkeypatch.delenv(key, raising=False)


def held_email_order(store: st.HubStore) -> int:
    """An email order for a restricted product, stored and held by the gate; its approval id."""
    with store.transaction() as conn:
        sha = st.archive_raw(conn, RAW, now=NOW)
        order = Order(source="email", source_ref="7788", partner_id="acme", order_date=NOW.date(),
                      lines=[OrderLine(line_no="1", sku="BAN-1", quantity=D(2), unit_price=D(3), amount=D(6))],
                      total=D(6), raw_document_id=sha, parties=[Party(role=PartyRole.BUYER, name="Acme")])
        saved = st.save_order(conn, order, receipt_id=None, now=NOW)
        assert not admit(conn, order, saved.stored_id, gated(["erp"], PROFILE), now=NOW)
        (approval,) = st.list_approvals(conn)
        assert conn.execute(st.tables.outbox.select()).all() == []
    return approval.id


def use_smtp(monkeypatch, port: int) -> None:
    for key, value in {"HUB_ALERT_SMTP_HOST": "127.0.0.1", "HUB_ALERT_SMTP_PORT": str(port),
                       "HUB_ALERT_SMTP_FROM": "orders@hub.test", "HUB_ALERT_SMTP_TO": "ops@hub.test",
                       "HUB_ALERT_SMTP_TLS": "none"}.items():
        monkeypatch.setenv(key, value)


def test_the_rejection_is_mailed_to_the_sender_when_smtp_is_configured(sqlite_store, monkeypatch):
    approval_id = held_email_order(sqlite_store)
    with smtp_sink() as sink:
        use_smtp(monkeypatch, sink.port)
        decision = reject(sqlite_store, approval_id, by="sam", note="BAN-1 is not sold to you", now=NOW)
    assert decision.reply is not None and decision.reply.startswith("sent: reply email to the sender")
    (mail,) = sink.received
    assert mail.rcpt_tos == ["pat@acme.test"] and mail.mail_from == "orders@hub.test"
    assert mail.message["Subject"] == "Your purchase order 7788 was not accepted"
    assert "Reason: BAN-1 is not sold to you" in mail.message.get_content()
    with sqlite_store.transaction() as conn:
        assert st.get_approval(conn, approval_id).reply == decision.reply


def test_without_smtp_the_rejection_is_recorded_as_not_sent(sqlite_store):
    approval_id = held_email_order(sqlite_store)
    decision = reject(sqlite_store, approval_id, by="sam", note="no", now=NOW)
    assert decision.done and decision.reply == \
        "not sent: no SMTP server configured (HUB_ALERT_SMTP_HOST, HUB_ALERT_SMTP_FROM)"
    with sqlite_store.transaction() as conn:
        approval = st.get_approval(conn, approval_id)
        history = st.approval_history(conn, approval_id)
    assert approval.state == st.ApprovalState.REJECTED and approval.reply == decision.reply
    assert [(h.action, h.note) for h in history][-1] == ("reply", decision.reply)


def test_an_smtp_server_down_is_recorded_not_raised(sqlite_store, monkeypatch):
    approval_id = held_email_order(sqlite_store)
    use_smtp(monkeypatch, free_port())  # nothing listens there
    decision = reject(sqlite_store, approval_id, by="sam", note="no", now=NOW)
    assert decision.done and decision.reply is not None and decision.reply.startswith("not sent: ")
    with sqlite_store.transaction() as conn:
        assert st.get_approval(conn, approval_id).state == st.ApprovalState.REJECTED


def test_the_gate_holds_orders_on_the_api_and_email_intake_path_too(sqlite_store):
    from canonical.outcomes import MappedOrderState
    from hub.intake import ChannelSummary, process_queued_receipt
    from mappings._channel import MappedOrder
    from mappings.profiles import PartnerDirectory

    def map_orders(raw: bytes, sha: str, receipt: st.Receipt) -> list[MappedOrder]:
        def one(po: str, sku: str) -> MappedOrder:
            order = Order(source="email", source_ref=po, partner_id="acme", order_date=NOW.date(),
                          lines=[OrderLine(line_no="1", sku=sku, quantity=D(1), unit_price=D(3), amount=D(3))],
                          total=D(3), raw_document_id=sha, parties=[Party(role=PartyRole.BUYER, name="Acme")])
            return MappedOrder(po, NOW, order, MappedOrderState.OK)
        return [one("E-1", "WID-100"), one("E-2", "BAN-1")]

    with sqlite_store.transaction() as conn:
        sha = st.archive_raw(conn, RAW, now=NOW)
        receipt = st.record_receipt(conn, channel="email", partner_id="acme", source_name="inbox;UID=1",
                                    raw_sha256=sha, now=NOW)
    summary = ChannelSummary()
    process_queued_receipt(sqlite_store, receipt.id, map_orders, summary, now=NOW,
                           partners=PartnerDirectory([PROFILE]))
    with sqlite_store.transaction() as conn:
        assert summary.orders_new == 2, [e.reason for e in st.list_exceptions(conn)]
    o, x = st.tables.orders, st.tables.outbox
    with sqlite_store.transaction() as conn:
        queued = conn.execute(o.select().with_only_columns(o.c.source_ref).join(x, x.c.order_id == o.c.id)).scalars()
        (held,) = st.list_approvals(conn)
        assert list(queued) == ["E-1"]
    assert held.source_ref == "E-2" and held.source == "email"
    assert held.findings == [{"rule": "restricted_product", "line": "1", "expected": "not a restricted product",
                              "found": "BAN-1"}]


@pytest.mark.parametrize("max_known", [50_000, 0], ids=["read-once", "query-each"])
def test_the_same_po_from_the_same_customer_through_another_channel_is_held(sqlite_store, monkeypatch, max_known):
    import hub.validation._gate as gate_module

    monkeypatch.setattr(gate_module, "_MAX_KNOWN", max_known)

    def order(source: str, po: str) -> Order:
        return Order(source=source, source_ref=po, partner_id="acme", order_date=NOW.date(),
                     lines=[OrderLine(line_no="1", sku="WID-100", quantity=D(1), unit_price=D(3), amount=D(3))],
                     total=D(3), parties=[Party(role=PartyRole.BUYER, name="Acme")])

    plain = PartnerProfile.model_validate({"id": "acme", "name": "Acme"})
    with sqlite_store.transaction() as conn:
        earlier = st.save_order(conn, order("x12", "PO-9"), receipt_id=None, now=NOW)
        st.save_order(conn, order("x12", "PO-10"), receipt_id=None, now=NOW)
        targets = gated(["erp"], plain)
        for po in ("PO-8", "PO-9"):
            saved = st.save_order(conn, order("email", po), receipt_id=None, now=NOW)
            assert admit(conn, order("email", po), saved.stored_id, targets, now=NOW) == (po == "PO-8")
        (held,) = st.list_approvals(conn)
    assert held.source_ref == "PO-9" and held.order_id != earlier.stored_id
    assert held.findings == [{"rule": "duplicate_po", "line": None, "expected": "a PO number new for this customer",
                              "found": "PO-9 already received through x12"}]


@pytest.mark.integration
def test_email_orders_from_a_real_mailbox_held_then_rejected_by_mail_or_approved_into_the_erp(
        dovecot_server, erp, tmp_path, monkeypatch, sqlite_store):
    """Dovecot -> email intake -> held (unknown SKU) -> one rejected with a reply mail, one approved into the ERP."""
    from connectors.erp import OdooConfig, OdooJson2Client
    from hub.delivery import push_due_orders
    from hub.validation import approve, sync_catalogue
    from mappings.odoo import OdooSalesGateway
    from tests.email_messages import message
    from tests.fixtures.erp import ERP_API_KEY
    from tests.test_email_intake import PROFILE, sync

    user = dovecot_server.new_mailbox()
    folder = tmp_path / "partners"
    folder.mkdir()
    (folder / "acme_mail.yaml").write_text(PROFILE.format(port=dovecot_server.port, user=user, limit=200_000))
    monkeypatch.setenv("HUB_TEST_IMAP_PASSWORD", "secret-imap-password")
    from tests.fixtures.dovecot import PASSWORD
    monkeypatch.setenv("HUB_TEST_IMAP_PASSWORD", PASSWORD)
    from mappings.profiles import PartnerDirectory
    profile = PartnerDirectory.load(folder).get("acme_mail")

    config = OdooConfig(database=erp.database, api_key=ERP_API_KEY, http={"base_url": erp.base_url})
    with OdooJson2Client(config) as client:
        sync_catalogue(sqlite_store, client, partner_ids=["acme_mail"])
        body = "Hello,\nplease ship:\n\n10 x WID-100 @ 4.50\n3 x MYSTERY-1 @ 2.00\n\nThanks\n"
        dovecot_server.append(user, message(body, subject="PO 4500077001",
                                            message_id="<po-4500077001@acme-retail.test>"))
        dovecot_server.append(user, message(body, subject="PO 4500077002",
                                            message_id="<po-4500077002@acme-retail.test>"))
        sync(sqlite_store, profile)
        with sqlite_store.transaction() as conn:
            first, second = st.list_approvals(conn)
        assert [first.source_ref, second.source_ref] == ["4500077001", "4500077002"]
        assert {f["rule"] for f in first.findings} == {"unknown_sku"}
        gateway = OdooSalesGateway(client)
        push_due_orders(sqlite_store, gateway)
        assert erp.sale_orders() == []

        with smtp_sink() as sink:
            use_smtp(monkeypatch, sink.port)
            rejected = reject(sqlite_store, first.id, by="sam", note="MYSTERY-1 is not ours")
        assert rejected.reply is not None and rejected.reply.startswith("sent:")
        (mail,) = sink.received
        assert mail.rcpt_tos == ["buyer@acme-retail.test"] and "4500077001" in mail.message["Subject"]

        erp.seed_products([("MYSTERY-1", "Mystery item", 2.0, None)])
        assert approve(sqlite_store, second.id, by="sam", note="added to the catalogue").done
        push_due_orders(sqlite_store, gateway)
        push_due_orders(sqlite_store, gateway)
    assert [order["client_order_ref"] for order in erp.sale_orders()] == ["4500077002"]
