"""Saving orders in bulk stores exactly what saving them one by one stores, on every backend."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from decimal import Decimal

import pytest
from sqlalchemy import select

from canonical.model import Order, OrderLine, Party, PartyRole, Purpose
from hub import store as st
from tests.present import present

NOW = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)
RAW, OTHER_RAW = b"ISA...", b"ISA again..."
SHA, OTHER = hashlib.sha256(RAW).hexdigest(), hashlib.sha256(OTHER_RAW).hexdigest()


def order(ref, purpose=Purpose.ORIGINAL, doc="ISA 1/GS 1/ST 0001", raw=SHA, qty="2", test=False, lines=2):
    rows = [OrderLine(line_no=str(n), sku=f"SKU-{n}", description="Crème brûlée mould, 12\u202fcm",
                      quantity=Decimal(qty), unit_price=Decimal("1234567.8912"),
                      amount=Decimal(qty) * Decimal("1234567.8912")) for n in range(1, lines + 1)]
    return Order(source="x12", source_ref=ref, partner_id="acme", purpose=purpose, order_date=dt.date(2026, 11, 1),
                 parties=[Party(role=PartyRole.SHIP_TO, name="Kaufhaus Müller", address_lines=["1 Main St", "Dock 4"]),
                          Party(role=PartyRole.BILL_TO, id="0012", id_qualifier="92")],
                 lines=rows, total=sum((present(r.amount) for r in rows), Decimal(0)), raw_document_id=raw,
                 document_ref=doc,
                 is_test=test, warnings=["CTT01 says 3 line items, the order has 2"] if ref.endswith("7") else [])


SEQUENCE = [
    order("PO-1"),
    order("PO-2", doc="ISA 1/GS 1/ST 0002", test=True),
    order("PO-1"),  # the very same document again: already stored
    order("PO-1", doc="ISA 9/GS 1/ST 0001", raw=OTHER),  # another document, same number: duplicate
    order("PO-3", doc="ISA 1/GS 1/ST 0003", raw=None),
    order("PO-3", doc="ISA 1/GS 1/ST 0003", raw=None),  # no raw id: never "the same document"
    order("PO-2", purpose=Purpose.REPLACEMENT, doc="ISA 2/GS 1/ST 0001", qty="5", lines=3),
    order("PO-7", doc="ISA 2/GS 1/ST 0002"),
    order("PO-7", purpose=Purpose.CANCELLATION, doc="ISA 2/GS 1/ST 0003"),
    order("PO-404", purpose=Purpose.CANCELLATION, doc="ISA 2/GS 1/ST 0004"),
    order("PO-8", doc="ISA 2/GS 1/ST 0005"),
]


def snapshot(conn):
    """Every order-related row, with ids replaced by order numbers (sequences differ between runs)."""
    t = st.tables
    refs = dict(conn.execute(select(t.orders.c.id, t.orders.c.source_ref)).all())
    orders = [
        {k: (refs[v] if k == "id" else v) for k, v in row._mapping.items()}
        for row in conn.execute(select(t.orders).order_by(t.orders.c.id))
    ]

    def children(table):
        return [
            {k: (refs[v] if k == "order_id" else v) for k, v in row._mapping.items() if k != "id"}
            for row in conn.execute(select(table).order_by(table.c.order_id, table.c.id))
        ]

    return orders, children(t.order_lines), children(t.order_parties), children(t.order_events), children(t.outbox)


def run(store, save):
    with store.transaction() as conn:
        sha = st.archive_raw(conn, RAW, now=NOW)
        st.archive_raw(conn, OTHER_RAW, now=NOW)
        receipt = st.record_receipt(conn, channel="sftp", partner_id="acme", source_name="po.x12", raw_sha256=sha,
                                    now=NOW)
        results = save(conn, receipt.id)
        refs = dict(conn.execute(select(st.tables.orders.c.id, st.tables.orders.c.source_ref)).all())
        return [(r.action, refs.get(r.order_id)) for r in results], snapshot(conn)


def one_by_one(conn, receipt_id):
    results = [st.save_order(conn, o, receipt_id=receipt_id, now=NOW) for o in SEQUENCE]
    for result, o in zip(results, SEQUENCE, strict=True):
        if result.action == "created" and not o.is_test:
            order_id = present(result.order_id)
            st.enqueue_delivery(conn, order_id=order_id, target="erp", now=NOW)
            st.add_event(conn, order_id, "validated", {"outcome": "accepted"}, receipt_id=receipt_id, now=NOW)
    return results


def in_bulk(conn, receipt_id):
    # Originals as models or already as rows (what intake holds in its batches): the same outcome.
    mixed = [st.order_rows(conn, o) if o.purpose is Purpose.ORIGINAL and n % 2 else o for n, o in enumerate(SEQUENCE)]
    results = st.save_orders_bulk(conn, mixed, receipt_id=receipt_id, now=NOW)
    created = [present(r.order_id) for r, o in zip(results, SEQUENCE, strict=True)
               if r.action == "created" and not o.is_test]
    st.enqueue_deliveries_bulk(conn, created + created[:1], target="erp", now=NOW)
    st.add_events_bulk(conn, [(i, "validated", {"outcome": "accepted"}) for i in created], receipt_id=receipt_id,
                       now=NOW)
    return results


def test_bulk_save_matches_save_order_row_for_row(store_url, tmp_path, request):
    single = st.HubStore(store_url).migrate()
    try:
        expected_results, expected_rows = run(single, one_by_one)
    finally:
        single.dispose()
    if store_url.startswith("sqlite"):
        bulk_url = f"sqlite:///{tmp_path / 'bulk.sqlite3'}"
    else:
        server = request.getfixturevalue("postgres_server")
        bulk_url = server.url(server.create_database(f"bulk_{os.getpid()}_{id(request)}"))
    bulk = st.HubStore(bulk_url).migrate()
    try:
        results, rows = run(bulk, in_bulk)
    finally:
        bulk.dispose()
    assert results == expected_results
    assert [a for a, _ in results] == ["created", "created", "already_stored", "duplicate", "created", "duplicate",
                                       "replaced", "created", "cancelled", "unknown_order", "created"]
    for got, want in zip(rows, expected_rows, strict=True):
        assert got == want
    orders = rows[0]
    assert [o["source_ref"] for o in orders] == ["PO-1", "PO-2", "PO-3", "PO-7", "PO-8"]
    assert orders[0]["total"] == Decimal("4938271.5648")


def test_bulk_payload_reads_back_as_the_same_order(store):
    original = order("PO-9", lines=3)
    with store.transaction() as conn:
        st.archive_raw(conn, RAW, now=NOW)
        [saved] = st.save_orders_bulk(conn, [original], receipt_id=None, now=NOW)
        assert st.load_order(conn, present(saved.order_id)) == original
        payload = conn.execute(select(st.tables.orders.c.payload).where(st.tables.orders.c.id == saved.order_id))
        assert payload.scalar_one() == json.loads(original.model_dump_json()) == original.model_dump(mode="json")


@pytest.mark.parametrize("size", [0, 1, 1200])
def test_bulk_save_of_many_new_orders_returns_their_ids_in_order(store, size):
    batch = [order(f"PO-{n:05d}", doc=f"ISA 1/GS 1/ST {n:04d}", lines=1) for n in range(size)]
    with store.transaction() as conn:
        st.archive_raw(conn, RAW, now=NOW)
        results = st.save_orders_bulk(conn, batch, receipt_id=None, now=NOW)
        refs = dict(conn.execute(select(st.tables.orders.c.id, st.tables.orders.c.source_ref)).all())
    assert [refs[r.order_id] for r in results] == [o.source_ref for o in batch]
    assert {r.action for r in results} <= {"created"}


def test_a_second_batch_finds_what_is_stored_across_lookup_chunks(store):
    """More keys than one lookup takes (500): every stored order and queued delivery is found again."""
    first = [order(f"PO-{n:05d}", doc=f"ISA 1/GS 1/ST {n:04d}", lines=1) for n in range(1100)]
    again = first[::-1] + [order(f"PO-{n:05d}", doc=f"ISA 9/GS 1/ST {n:04d}", raw=OTHER, lines=1)
                           for n in range(0, 1100, 100)] + [order("PO-NEW", lines=1)]
    with store.transaction() as conn:
        st.archive_raw(conn, RAW, now=NOW)
        created = st.save_orders_bulk(conn, first, receipt_id=None, now=NOW)
        st.enqueue_deliveries_bulk(conn, [present(r.order_id) for r in created], target="erp", now=NOW)
    with store.transaction() as conn:
        results = st.save_orders_bulk(conn, again, receipt_id=None, now=NOW)
        ids = [present(r.order_id) for r in results]
        st.enqueue_deliveries_bulk(conn, ids, target="erp", now=NOW)
        st.enqueue_deliveries_bulk(conn, ids[:3], target="wms", now=NOW)  # another target is its own queue
        queued = conn.execute(select(st.tables.outbox.c.order_id, st.tables.outbox.c.target)).all()
    by_ref = {o.source_ref: r.order_id for o, r in zip(first, created, strict=True)}
    assert [r.action for r in results] == ["already_stored"] * 1100 + ["duplicate"] * 11 + ["created"]
    assert ids[:1100] == [by_ref[o.source_ref] for o in first[::-1]]
    assert ids[1100:1111] == [by_ref[f"PO-{n:05d}"] for n in range(0, 1100, 100)]
    assert sorted(queued) == sorted([(i, "erp") for i in {*by_ref.values(), ids[-1]}] + [(i, "wms") for i in ids[:3]])


def test_only_originals_are_turned_into_rows(sqlite_store):
    with sqlite_store.transaction() as conn, pytest.raises(ValueError, match="original"):
        st.order_rows(conn, order("PO-1", purpose=Purpose.CANCELLATION))
