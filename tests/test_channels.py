"""API-channel intake: raw pages archived, newest versions win, webhooks and polls never double an order."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from canonical.model import Order, OrderLine, Purpose
from hub import store as st
from hub.intake import (
    ChannelSummary,
    advance_cursor,
    process_queued_receipt,
    receive_document,
    store_channel_document,
    sync_window_start,
    waiting_receipts,
)

T0 = dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)


@dataclass
class Mapped:
    channel_order_id: str
    updated_at: dt.datetime
    order: Order | None
    state: str = "ok"
    problems: list[str] = field(default_factory=list)
    push: bool = True
    reason_not_pushed: str | None = None


def page(*orders: dict) -> bytes:
    return json.dumps({"orders": list(orders)}).encode()


def mapper(raw: bytes, sha: str) -> list[Mapped]:
    """A stand-in for a channel mapper: {"id", "qty", "updated", "cancelled", "test", "held"}."""
    result = []
    for i, o in enumerate(json.loads(raw)["orders"]):
        updated = T0 + dt.timedelta(minutes=o["updated"])
        if o.get("held"):
            result.append(Mapped(str(o["id"]), updated, None, state="held"))
            continue
        if o.get("broken"):
            result.append(Mapped(str(o["id"]), updated, None, state="rejected",
                                 problems=["orders[0].line_items: empty"]))
            continue
        qty = Decimal(o["qty"])
        order = Order(source="shopify", source_ref=str(o["id"]), partner_id="shop", order_date=T0.date(),
                      purpose=Purpose.CANCELLATION if o.get("cancelled") else Purpose.ORIGINAL,
                      lines=[OrderLine(line_no="1", sku="WID-100", quantity=qty, unit_price=Decimal("2.50"),
                                       amount=qty * Decimal("2.50"))],
                      total=qty * Decimal("2.50"), raw_document_id=sha, document_ref=f"orders[{i}]",
                      is_test=bool(o.get("test")))
        result.append(Mapped(str(o["id"]), updated, order, push=not o.get("test"),
                             reason_not_pushed="test order" if o.get("test") else None))
    return result


def sync(store, raw: bytes, name: str) -> ChannelSummary:
    summary = ChannelSummary()
    store_channel_document(store, channel="shopify", partner_id="shop", source_name=name, raw=raw,
                           map_orders=lambda sha: mapper(raw, sha), summary=summary)
    return summary


def test_overlapping_pages_and_webhooks_store_each_order_version_once(store):
    first = sync(store, page({"id": 1, "qty": "2", "updated": 0}, {"id": 2, "qty": "1", "updated": 0}), "p1")
    assert (first.orders_new, first.orders_unchanged) == (2, 0)
    # The lookback window re-reads order 1 (unchanged) and sees order 2 edited in the same second later.
    again = sync(store, page({"id": 1, "qty": "2", "updated": 0}, {"id": 2, "qty": "3", "updated": 1}), "p2")
    assert (again.orders_new, again.orders_updated, again.orders_unchanged) == (0, 1, 1)
    # A webhook for the older version of order 2 arrives late: ignored.
    receipt = receive_document(store, channel="shopify_webhook", partner_id="shop", source_name="orders/updated:w1",
                               data=page({"id": 2, "qty": "1", "updated": 0}), max_bytes=10_000)
    assert waiting_receipts(store, "shopify_webhook") == [receipt.id]
    late = ChannelSummary()
    process_queued_receipt(store, receipt.id, lambda raw, sha, _r: mapper(raw, sha), late)
    process_queued_receipt(store, receipt.id, lambda raw, sha, _r: mapper(raw, sha), late)
    assert late.orders_unchanged == 1 and waiting_receipts(store, "shopify_webhook") == []
    with store.transaction() as conn:
        rows = conn.execute(select(st.tables.orders.c.source_ref, st.tables.orders.c.revision)
                            .order_by(st.tables.orders.c.source_ref)).all()
        deliveries = conn.execute(select(st.tables.outbox)).all()
        lines = conn.execute(select(st.tables.order_lines.c.quantity)).scalars().all()
    assert [tuple(r) for r in rows] == [("1", 1), ("2", 2)]
    assert len(deliveries) == 2 and sorted(lines) == [Decimal("2"), Decimal("3")]


def test_the_same_page_twice_is_not_applied_twice(store):
    raw = page({"id": 7, "qty": "1", "updated": 0})
    sync(store, raw, "p")
    second = sync(store, raw, "p")
    assert second.orders_new == second.orders_unchanged == 0, "the processed receipt is recognised"
    with store.transaction() as conn:
        assert conn.execute(select(st.tables.raw_documents)).all().__len__() == 1


def test_test_held_cancelled_and_broken_orders(store):
    summary = sync(store, page({"id": 1, "qty": "1", "updated": 0, "test": True},
                               {"id": 2, "qty": "1", "updated": 0, "held": True},
                               {"id": 3, "qty": "1", "updated": 0},
                               {"id": 4, "qty": "1", "updated": 0, "broken": True}), "p1")
    assert (summary.orders_new, summary.orders_not_pushed, summary.orders_held, len(summary.exceptions)) == (2, 1, 1, 1)
    cancelled = sync(store, page({"id": 3, "qty": "1", "updated": 2, "cancelled": True}), "p2")
    assert cancelled.orders_cancelled == 1
    with store.transaction() as conn:
        outbox = conn.execute(select(st.tables.outbox.c.state)).scalars().all()
        (queued,) = st.list_exceptions(conn)
        test_row = conn.execute(select(st.tables.orders).where(st.tables.orders.c.source_ref == "1")).one()
    assert outbox == [st.SKIPPED], "only order 3 was queued, and its cancellation stopped it"
    assert queued.document_ref == "order 4" and "line_items" in queued.reason
    assert test_row.not_pushed_reason == "test order"


def test_the_cursor_starts_from_the_high_water_mark_minus_lookback_and_never_goes_back(store):
    lookback = dt.timedelta(minutes=10)
    assert sync_window_start(store, partner_id="shop", channel="shopify", lookback=lookback, initial=T0) == T0
    assert advance_cursor(store, partner_id="shop", channel="shopify", newest=T0 + dt.timedelta(hours=1))
    advance_cursor(store, partner_id="shop", channel="shopify", newest=T0)
    start = sync_window_start(store, partner_id="shop", channel="shopify", lookback=lookback, initial=T0)
    assert start == T0 + dt.timedelta(minutes=50)


def test_an_order_updated_in_the_same_second_as_the_cursor_is_not_lost(sqlite_store):
    """Shopify can commit an order with updated_at == the newest one we saw, after our read."""
    from pathlib import Path

    from hub.intake import sync_orders
    from hub.sources import SHOPIFY
    from mappings.profiles import PartnerDirectory

    profile = PartnerDirectory.load(Path(__file__).resolve().parent.parent / "mappings" / "partners").get("trailhead")
    stamp = "2026-11-20T10:00:00-05:00"

    def shopify_order(order_id: int) -> dict:
        return {"id": order_id, "name": f"#{order_id}", "created_at": stamp, "updated_at": stamp, "currency": "USD",
                "taxes_included": False, "current_total_price": "5.00", "total_price": "5.00",
                "line_items": [{"id": order_id * 10, "sku": "WID-100", "title": "Widget", "quantity": 1,
                                "current_quantity": 1, "price": "5.00",
                                "price_set": {"shop_money": {"amount": "5.00", "currency_code": "USD"}}}]}

    class Page:
        def __init__(self, orders):
            self.orders = orders
            self.raw = json.dumps({"orders": orders}).encode()
            self.url_path = f"/admin/api/2024-10/orders.json?ids={','.join(str(o['id']) for o in orders)}"

    class FakeShop:
        def __init__(self):
            self.visible = [shopify_order(1)]
            self.windows = []

        def iter_order_pages(self, updated_at_min, *, updated_at_max=None):
            self.windows.append(updated_at_min)
            yield Page([o for o in self.visible
                        if dt.datetime.fromisoformat(o["updated_at"]) >= updated_at_min])

    shop = FakeShop()
    now = dt.datetime(2026, 11, 20, 16, 0, tzinfo=dt.UTC)
    first = sync_orders(sqlite_store, SHOPIFY, shop, profile, now=now)
    assert first.summary.orders_new == 1
    assert first.cursor == dt.datetime.fromisoformat(stamp).isoformat()
    # Order 2 was committed with the very same updated_at, after the first read.
    shop.visible.append(shopify_order(2))
    second = sync_orders(sqlite_store, SHOPIFY, shop, profile, now=now + dt.timedelta(minutes=5))
    assert shop.windows[1] < dt.datetime.fromisoformat(stamp), "the next window starts before the cursor"
    assert (second.summary.orders_new, second.summary.orders_unchanged) == (1, 1), second.summary
    with sqlite_store.transaction() as conn:
        assert sorted(conn.execute(select(st.tables.orders.c.source_ref)).scalars()) == ["1", "2"]


def test_a_queued_body_replays_after_the_mapping_is_fixed(store):
    receipt = receive_document(store, channel="shopify_webhook", partner_id="shop", source_name="orders/create:w9",
                               data=page({"id": 9, "qty": "1", "updated": 0, "broken": True}), max_bytes=10_000)
    first = ChannelSummary()
    process_queued_receipt(store, receipt.id, lambda raw, sha, _r: mapper(raw, sha), first)
    with store.transaction() as conn:
        (queued,) = st.list_exceptions(conn)

    # Still broken: the replay keeps it open and counts the attempt.
    process_queued_receipt(store, receipt.id, lambda raw, sha, _r: mapper(raw, sha), ChannelSummary(), replay=True)
    with store.transaction() as conn:
        assert st.get_exception(conn, queued.id).replays == 1 and st.get_exception(conn, queued.id).state == st.OPEN

    def fixed(raw: bytes, sha: str, _receipt) -> list[Mapped]:
        body = json.loads(raw)
        for order in body["orders"]:
            order.pop("broken", None)
        return mapper(json.dumps(body).encode(), sha)

    again = ChannelSummary()
    process_queued_receipt(store, receipt.id, fixed, again, replay=True)
    assert again.orders_new == 1 and again.exceptions == []
    with store.transaction() as conn:
        assert st.get_exception(conn, queued.id).state == st.REPLAYED
        assert conn.execute(select(st.tables.orders.c.source_ref)).scalars().all() == ["9"]


def test_replay_of_a_shopify_body_maps_the_archived_bytes_again(sqlite_store):
    from pathlib import Path

    from hub.replay import replay_exception
    from mappings.profiles import PartnerDirectory

    repo = Path(__file__).resolve().parent.parent
    partners = PartnerDirectory.load(repo / "mappings" / "partners")
    body = (repo / "tests" / "data" / "shopify" / "orders_page_partly_broken.json").read_bytes()
    receipt = receive_document(sqlite_store, channel="shopify_webhook", partner_id="trailhead",
                               source_name="orders/create:w1", data=body, max_bytes=1_000_000)
    from mappings.shopify import map_shopify_orders

    summary = ChannelSummary()
    process_queued_receipt(sqlite_store, receipt.id, lambda raw, sha, r: map_shopify_orders(
        raw, profile=partners.get(r.partner_id), raw_document_id=sha), summary)
    assert summary.orders_new >= 1 and len(summary.exceptions) == 2
    outcome = replay_exception(sqlite_store, partners, summary.exceptions[0])
    assert not outcome.done and outcome.message.startswith("still failing")
    with sqlite_store.transaction() as conn:
        assert len(conn.execute(select(st.tables.orders)).all()) == summary.orders_new, "nothing doubled"
