"""The hub store keeps its promises on SQLite and PostgreSQL alike."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from canonical.model import Charge, Order, OrderLine, Party, PartyRole, Purpose
from hub import store as st
from tests.present import present

NOW = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)
RAW = b"ISA..."
SHA = __import__("hashlib").sha256(RAW).hexdigest()


def make_order(ref="PO-1", purpose=Purpose.ORIGINAL, qty="2", price="10.25", doc="ISA 1/GS 1/ST 0001", raw=SHA):
    lines = [OrderLine(line_no="1", sku="SKU-1", quantity=Decimal(qty), unit_price=Decimal(price),
                       amount=Decimal(qty) * Decimal(price))]
    return Order(source="x12", source_ref=ref, partner_id="acme", purpose=purpose, order_date=dt.date(2026, 11, 1),
                 parties=[Party(role=PartyRole.SHIP_TO, name="Store 12", address_lines=["1 Main St"])],
                 lines=lines, charges=[Charge(kind="charge", code="D240", amount=Decimal("5.00"))],
                 total=present(lines[0].amount) + 5, raw_document_id=raw, document_ref=doc)


def receipt(conn, data=b"ISA...", name="po.x12"):
    sha = st.archive_raw(conn, data, now=NOW)
    return st.record_receipt(conn, channel="sftp", partner_id="acme", source_name=name, raw_sha256=sha, now=NOW)


def test_raw_documents_are_content_addressed_and_immutable(store):
    with store.transaction() as conn:
        first = st.archive_raw(conn, b"hello", now=NOW)
        second = st.archive_raw(conn, b"hello", now=NOW)
        assert first == second == st.sha256_hex(b"hello")
        assert st.raw_content(conn, first) == b"hello"
        assert conn.execute(select(st.tables.raw_documents)).rowcount in (-1, 1)
    for statement in ("UPDATE raw_documents SET content = :c", "DELETE FROM raw_documents"):
        with pytest.raises(DBAPIError, match="immutable"), store.transaction() as conn:
            conn.execute(text(statement), {"c": b"changed"})
    with store.transaction() as conn:
        assert st.raw_content(conn, first) == b"hello"


def test_receipt_is_recorded_once_per_name_and_content(store):
    with store.transaction() as conn:
        a = receipt(conn)
        b = receipt(conn)
        c = receipt(conn, name="resent.x12")
    assert a.id == b.id
    assert c.id != a.id and c.raw_sha256 == a.raw_sha256
    assert a.state == "received"


def test_control_numbers_are_gap_free_and_a_rollback_gives_its_number_back(store):
    with store.transaction() as conn:
        assert [st.next_control_number(conn, "acme", "interchange") for _ in range(3)] == [1, 2, 3]
        assert st.next_control_number(conn, "northwind", "interchange") == 1
    with pytest.raises(RuntimeError), store.transaction() as conn:
        assert st.next_control_number(conn, "acme", "interchange") == 4
        raise RuntimeError("run died")
    with store.transaction() as conn:
        assert st.next_control_number(conn, "acme", "interchange") == 4


def test_ledger_blocks_resend_of_an_accepted_interchange_only(store):
    with store.transaction() as conn:
        r = receipt(conn)
        ids: dict[str, Any] = dict(sender_qualifier="ZZ", sender_id="ACMERETAIL     ", control_number="000000101")
        assert not st.interchange_seen(conn, **ids)
        st.record_interchange(conn, receipt_id=r.id, partner_id="acme", receiver_qualifier="ZZ", receiver_id="ORDERHUB",
                              is_test=False, outcome="rejected", now=NOW, **ids)
        assert not st.interchange_seen(conn, **ids), "a rejected interchange may be corrected and resent"
        st.record_interchange(conn, receipt_id=r.id, partner_id="acme", receiver_qualifier="ZZ", receiver_id="ORDERHUB",
                              is_test=False, outcome="accepted", now=NOW, **{**ids, "control_number": "000000102"})
        assert st.interchange_seen(conn, **{**ids, "control_number": "000000102"})
        assert not st.interchange_seen(conn, exclude_receipt_id=r.id, **{**ids, "control_number": "000000102"})
    with pytest.raises(IntegrityError), store.transaction() as conn:
        r2 = receipt(conn, name="other.x12")
        conn.execute(st.tables.interchanges.insert().values(
            receipt_id=r2.id, partner_id="acme", sender_qualifier="ZZ", sender_id="ACMERETAIL",
            receiver_qualifier="ZZ", receiver_id="ORDERHUB", control_number="000000102", is_test=False,
            outcome="accepted", blocks_resend=True, received_at=NOW))


def test_save_order_applies_purpose_and_logs_events(store):
    with store.transaction() as conn:
        r = receipt(conn)
        created = st.save_order(conn, make_order(), receipt_id=r.id, now=NOW)
        assert created.action == "created"
        assert st.save_order(conn, make_order(), receipt_id=r.id, now=NOW).action == "already_stored"
        assert st.save_order(conn, make_order(doc="ISA 2/GS 1/ST 0001"), receipt_id=r.id, now=NOW).action == "duplicate"
        replaced = st.save_order(conn, make_order(purpose=Purpose.REPLACEMENT, qty="3", doc="ISA 3/GS 1/ST 0001"),
                                 receipt_id=r.id, now=NOW)
        assert replaced == st.SavedOrder("replaced", created.order_id)
        stored = st.load_order(conn, present(created.order_id))
        assert stored.lines[0].quantity == Decimal("3") and stored.total == Decimal("35.75")
        order_lines = st.tables.order_lines
        lines = conn.execute(select(order_lines).where(order_lines.c.order_id == created.order_id)).all()
        assert len(lines) == 1 and lines[0].unit_price == Decimal("10.25")
        cancelled = st.save_order(conn, make_order(purpose=Purpose.CANCELLATION, doc="ISA 4/GS 1/ST 0001"),
                                  receipt_id=r.id, now=NOW)
        assert cancelled.action == "cancelled"
        assert st.save_order(conn, make_order(ref="PO-404", purpose=Purpose.CANCELLATION), receipt_id=r.id,
                             now=NOW).action == "unknown_order"
        events = st.order_events_of(conn, present(created.order_id))
    assert [e["kind"] for e in events] == ["received", "replaced", "cancelled"]
    assert events[1]["detail"]["changes"] == {"total": ["25.50", "35.75"], "lines_changed": ["1"]}


def test_money_survives_the_round_trip_exactly(store):
    order = make_order(qty="0.333", price="1234567.8912")
    with store.transaction() as conn:
        receipt(conn)
        order_id = st.save_order(conn, order, receipt_id=None, now=NOW).order_id
        row = conn.execute(select(st.tables.orders.c.total).where(st.tables.orders.c.id == order_id)).one()
    assert row.total == order.total == Decimal("411111.1077696") + 5


def test_exception_queue_is_idempotent_and_closable(store):
    with store.transaction() as conn:
        r = receipt(conn)
        first = st.open_exception(conn, channel="sftp", kind="rejected_document", reason="bad BEG", now=NOW,
                                  receipt_id=r.id, document_ref="ISA 1/GS 1/ST 0002", location="segment 2 (BEG)")
        again = st.open_exception(conn, channel="sftp", kind="rejected_document", reason="bad BEG", now=NOW,
                                  receipt_id=r.id, document_ref="ISA 1/GS 1/ST 0002", location="segment 2 (BEG)")
        assert first == again
        assert [e.id for e in st.list_exceptions(conn)] == [first]
        st.close_exception(conn, first, state=st.REPLAYED, now=NOW)
        assert st.list_exceptions(conn) == []
        assert st.get_exception(conn, first).replays == 1


def test_outbox_claims_each_delivery_once_and_retries_when_due(store):
    with store.transaction() as conn:
        receipt(conn)
        order_id = present(st.save_order(conn, make_order(), receipt_id=None, now=NOW).order_id)
        st.enqueue_delivery(conn, order_id=order_id, target="erp", now=NOW)
        st.enqueue_delivery(conn, order_id=order_id, target="erp", now=NOW)
        claimed = st.claim_due_deliveries(conn, target="erp", now=NOW)
        assert [(d.order_id, d.attempts) for d in claimed] == [(order_id, 1)]
        assert st.claim_due_deliveries(conn, target="erp", now=NOW) == []
        later = NOW + dt.timedelta(minutes=1)
        st.finish_delivery(conn, claimed[0].id, state=st.FAILED, now=NOW, error="503", next_attempt_at=later)
        assert st.claim_due_deliveries(conn, target="erp", now=NOW) == []
        assert [d.attempts for d in st.claim_due_deliveries(conn, target="erp", now=later)] == [2]
        assert st.deliveries_by_state(conn, "erp") == {"in_flight": 1}


def test_a_large_raw_document_is_stored_in_chunks_and_read_back_a_chunk_at_a_time(store, tmp_path):
    path = tmp_path / "big.x12"
    data = bytes(range(256)) * 10_000  # 2.56 MB, three 1 MiB chunks
    path.write_bytes(data)
    with store.transaction() as conn:
        sha = st.archive_raw_file(conn, path, now=NOW)
        assert st.archive_raw_file(conn, path, now=NOW) == sha == st.sha256_hex(data)
        pieces = list(st.iter_raw_content(conn, sha))
        assert [len(p) for p in pieces] == [1024 * 1024, 1024 * 1024, len(data) - 2 * 1024 * 1024]
        assert b"".join(pieces) == data == st.raw_content(conn, sha)
    with pytest.raises(DBAPIError, match="immutable"), store.transaction() as conn:
        conn.execute(text("UPDATE raw_document_chunks SET data = :d"), {"d": b"x"})


def test_channel_orders_keep_only_newer_versions_and_log_revisions(store):
    later = NOW + dt.timedelta(minutes=5)
    with store.transaction() as conn:
        receipt(conn)
        order = make_order(ref="5001")
        first = st.save_channel_order(conn, order, source_updated_at=NOW, receipt_id=None, now=NOW)
        assert first.action == "created"
        same = st.save_channel_order(conn, order, source_updated_at=NOW, receipt_id=None, now=NOW)
        older = st.save_channel_order(conn, make_order(ref="5001", qty="9"), source_updated_at=NOW - dt.timedelta(1),
                                      receipt_id=None, now=NOW)
        assert same.action == older.action == "unchanged"
        edited = st.save_channel_order(conn, make_order(ref="5001", qty="1"), source_updated_at=later,
                                       receipt_id=None, now=later)
        assert edited == st.SavedOrder("updated", first.order_id)
        cancelled = st.save_channel_order(conn, make_order(ref="5001", qty="1", purpose=Purpose.CANCELLATION),
                                          source_updated_at=later + dt.timedelta(seconds=1), receipt_id=None, now=later)
        assert cancelled.action == "cancelled"
        row = conn.execute(select(st.tables.orders)).one()
        events = [e["kind"] for e in st.order_events_of(conn, present(first.order_id))]
    assert row.revision == 3 and row.status == "cancelled"
    assert events == ["received", "updated", "cancelled"]


def test_sync_cursors_move_forward_per_partner_and_channel(store):
    with store.transaction() as conn:
        assert st.get_cursor(conn, "shop", "shopify") is None
        st.set_cursor(conn, "shop", "shopify", "2026-11-01T00:00:00+00:00", now=NOW)
        st.set_cursor(conn, "shop", "shopify", "2026-11-02T00:00:00+00:00", now=NOW)
        st.set_cursor(conn, "shop", "amazon", "x", now=NOW)
        assert st.get_cursor(conn, "shop", "shopify") == "2026-11-02T00:00:00+00:00"
        assert st.get_cursor(conn, "shop", "amazon") == "x"


def test_migrations_build_exactly_the_schema_the_code_declares(store):
    """Alembic's own comparison: no table, column, index or type in ``_tables`` that the migrations miss."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with store.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), st.tables.metadata) == []


def test_a_receipt_is_claimed_by_one_processor_and_a_dead_or_stale_claim_is_taken_over(store):
    clock = dt.datetime.now(dt.UTC)
    with store.transaction() as conn:
        receipt_id = receipt(conn).id
    mine, theirs = st.new_claim_token(), st.new_claim_token()
    with store.transaction() as conn:
        assert st.claim_receipt(conn, receipt_id, token=mine, clock=clock).claim_token == mine
    with store.transaction() as conn:  # held by a live process (this one): nobody else gets it
        assert st.claim_receipt(conn, receipt_id, token=theirs, clock=clock) is None
        st.renew_receipt_claim(conn, receipt_id, token=mine, clock=clock, interchanges_done=3)
    with store.transaction() as conn, pytest.raises(st.ClaimLost):
        st.renew_receipt_claim(conn, receipt_id, token=theirs, clock=clock, interchanges_done=9)

    # A holder on another machine cannot be asked: its claim is free once not renewed for the bound.
    elsewhere = "0123456789abcdef:4242:cafe"
    with store.transaction() as conn:
        conn.execute(st.tables.receipts.update().values(claim_token=elsewhere))
        assert st.claim_receipt(conn, receipt_id, token=theirs, clock=clock + dt.timedelta(minutes=1)) is None
        later = clock + st.RECEIPT_CLAIM_STALE_AFTER + dt.timedelta(seconds=1)
        taken = st.claim_receipt(conn, receipt_id, token=theirs, clock=later)
        assert taken.claim_token == theirs and taken.interchanges_done == 3  # resumes where it stopped
    # The old holder comes back: it learns it lost the receipt.
    with store.transaction() as conn, pytest.raises(st.ClaimLost):
        st.finish_receipt(conn, receipt_id, outcome="accepted", reason=None, now=NOW, token=elsewhere)
    with store.transaction() as conn:
        st.finish_receipt(conn, receipt_id, outcome="accepted", reason=None, now=NOW, token=theirs)
        assert st.claim_receipt(conn, receipt_id, token=mine, clock=later) is None  # processed: never again
        assert st.get_receipt(conn, receipt_id).claim_token is None
