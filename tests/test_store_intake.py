"""The intake's queries in hub/store/_intake.py, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from canonical.model import Order, OrderLine, Source
from hub import store as st

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)


def receipt(conn, name: str, *, channel: str = "sftp", partner_id: str = "acme") -> int:
    sha = st.archive_raw(conn, name.encode(), now=NOW)
    return st.record_receipt(conn, channel=channel, partner_id=partner_id, source_name=name, raw_sha256=sha,
                             now=NOW).id


def test_waiting_processed_and_unexplained_receipts(store):
    with store.transaction() as conn:
        waiting, clean, dirty, explained, later = (receipt(conn, n) for n in ("w", "c", "d", "e", "l"))
        webhook = receipt(conn, "hook", channel="shopify_webhook")
        st.finish_receipt(conn, clean, outcome="accepted", reason=None, now=NOW)
        st.finish_receipt(conn, dirty, outcome="rejected", reason="bad", now=NOW)
        st.finish_receipt(conn, explained, outcome="rejected", reason="bad", now=NOW)
        st.open_exception(conn, channel="sftp", kind="rejected_document", reason="bad", receipt_id=explained, now=NOW)
    with store.transaction() as conn:
        assert st.waiting_receipt_ids(conn, "sftp") == [waiting, later]
        assert st.waiting_receipt_ids(conn, "shopify_webhook") == [webhook]
        assert sorted(st.unprocessed_receipt_ids(conn)) == [waiting, later, webhook]
        assert st.processed_receipt_ids(conn, [waiting, clean, dirty, 999]) == {clean, dirty}
        assert st.processed_receipt_ids(conn, []) == set()
        assert st.unexplained_receipts(conn, {"accepted"}) == [{"receipt": dirty, "outcome": "rejected"}]
        assert st.unexplained_receipts(conn, {"accepted", "rejected"}) == []


def test_ledger_rows_open_exceptions_and_stored_versions(store):
    with store.transaction() as conn:
        first = receipt(conn, "f")
        for control in ("000000001", "000000002", "000000003"):
            st.record_interchange(conn, receipt_id=first, partner_id="acme", sender_qualifier="ZZ", sender_id="ACME",
                                  receiver_qualifier="ZZ", receiver_id="US", control_number=control, is_test=False,
                                  outcome="accepted", now=NOW)
        page = receipt(conn, "page", channel="shopify", partner_id="shop")
        opened = st.open_exception(conn, channel="shopify", kind="unreadable_page", reason="x", partner_id="shop",
                                   receipt_id=page, now=NOW)
        st.open_exception(conn, channel="amazon", kind="unreadable_page", reason="x", partner_id="shop", now=NOW)
        order = Order(source=Source.SHOPIFY, source_ref="1001", partner_id="shop", order_date=NOW.date(),
                      lines=[OrderLine(line_no="1", sku="S", quantity=Decimal(1), unit_price=Decimal(2),
                                       amount=Decimal(2))], total=Decimal(2))
        st.save_channel_order(conn, order, source_updated_at=NOW, receipt_id=page, not_pushed_reason=None, now=NOW)
    with store.transaction() as conn:
        assert [row.control_number for row in st.committed_interchange_rows(conn, first, 2)] == ["000000001",
                                                                                                "000000002"]
        assert st.open_exception_ids(conn, kind="unreadable_page", channel="shopify", partner_id="shop") == [opened]
        assert st.open_exception_ids(conn, kind="unreadable_page", channel="shopify", partner_id="other") == []
        assert st.stored_version_time(conn, source="shopify", partner_id="shop", source_ref="1001") == NOW
        assert st.stored_version_time(conn, source="shopify", partner_id="shop", source_ref="1002") is None
