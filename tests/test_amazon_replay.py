"""A marketplace page that failed to map is replayed from the archive alone: its items were archived with it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

import mappings.amazon
from hub import store as st
from hub.intake import sync_orders
from hub.replay import replay_exception
from hub.sources import AMAZON
from mappings.profiles import PartnerDirectory
from tests.present import present
from tests.test_amazon_sandbox import PROFILE, client_for, sandbox

BROKEN = "113-1000005-0000005"  # the demo order that carries a purchase order number
NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


def stored_refs(store) -> list[str]:
    with store.transaction() as conn:
        return sorted(conn.execute(select(st.tables.orders.c.source_ref)).scalars())


def test_a_rejected_marketplace_order_replays_from_the_archived_page_and_items(store, monkeypatch):
    partners = PartnerDirectory([PROFILE])
    real_mapper = mappings.amazon.map_amazon_order

    def buggy(order, items, **kw):  # the mapping bug of the day: one order cannot be mapped
        if order.get("AmazonOrderId") == BROKEN:
            return real_mapper({**order, "PurchaseDate": "not a date"}, items, **kw)
        return real_mapper(order, items, **kw)

    with sandbox() as market:
        demo = market.seed_demo_orders(at=NOW - dt.timedelta(hours=2))
        monkeypatch.setattr(mappings.amazon, "map_amazon_order", buggy)
        with client_for(market) as client:
            first = sync_orders(store, AMAZON, client, PROFILE, now=NOW)
        asked_before_replay = len(market.calls)
        assert first.summary.exceptions, "the broken order went to the exception queue"
        (exception_id,) = first.summary.exceptions
        with store.transaction() as conn:
            queued = st.get_exception(conn, exception_id)
            attached = st.receipt_raw_attachments(conn, present(queued.receipt_id))
        assert queued.channel == "amazon" and BROKEN not in stored_refs(store)
        assert len(attached) >= len(demo), "every order's getOrderItems answer is linked to the page's receipt"

        # Still broken: the replay says so and keeps it open (nothing doubled).
        before = stored_refs(store)
        outcome = replay_exception(store, partners, exception_id, now=NOW)
        assert not outcome.done and outcome.message.startswith("still failing")
        assert stored_refs(store) == before

        monkeypatch.setattr(mappings.amazon, "map_amazon_order", real_mapper)  # the fix is deployed
        outcome = replay_exception(store, partners, exception_id, now=NOW)
        assert outcome.done, outcome.message
        assert len(market.calls) == asked_before_replay, "the replay read the archive, not the marketplace"

    assert stored_refs(store) == sorted({*before, BROKEN})
    with store.transaction() as conn:
        assert st.get_exception(conn, exception_id).state == st.REPLAYED
        (order_id,) = conn.execute(select(st.tables.orders.c.id).where(st.tables.orders.c.source_ref == BROKEN)).one()
        order = st.load_order(conn, order_id)
    assert order.references["purchase_order_number"] == "PO-77881" and order.lines, "items came from the archive"
    assert replay_exception(store, partners, exception_id, now=NOW).message == "already replayed"


def test_a_page_archived_without_its_items_says_how_to_replay_it(store):
    with store.transaction() as conn:
        sha = st.archive_raw(conn, b'{"payload": {"Orders": []}}', now=NOW)
        receipt = st.record_receipt(conn, channel="amazon", partner_id=PROFILE.id, source_name="getOrders old",
                                    raw_sha256=sha, now=NOW)
        exception_id = st.open_exception(conn, channel="amazon", kind="rejected_document", reason="old",
                                         receipt_id=receipt.id, partner_id=PROFILE.id, now=NOW)
    outcome = replay_exception(store, PartnerDirectory([PROFILE]), exception_id, now=NOW)
    assert not outcome.done and "sync cursor back" in outcome.message
