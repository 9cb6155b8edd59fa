"""Shipped orders back to their channel, against the sandbox shop and marketplace: each part sent once, never twice."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from canonical.model import Order, OrderLine, Source
from connectors.amazon import AmazonConfig, AmazonSellerClient
from connectors.shopify import ShopifyClient, ShopifyConfig, ShopifyFulfilments
from hub import store as st
from hub.replay import replay_exception
from hub.store._fulfilment import FulfilmentState, fulfilments_of, mark_fulfilment_sending, shipped_orders
from hub.targets.channel_fulfilment import (
    ChannelFulfilmentTarget,
    MarketplaceChannel,
    ShopifyChannel,
    check_fulfilments,
    fulfil_shipped_orders,
)
from mappings.profiles import PartnerDirectory
from sandbox import _amazon_fulfilment as market_side
from sandbox import _shopify_fulfilment as shop_side
from sandbox.amazon_server import MARKETPLACE_US, SandboxAmazon, SandboxItem
from sandbox.shopify_server import SandboxShopify

TOKEN = "shpat_fulfil"
TRACKING = "1Z999AA10123456784"
NOW = dt.datetime(2026, 12, 4, 15, 0, tzinfo=dt.UTC)


class Clock:
    """The target's wall clock, moved by the test (the settle time of a write in doubt)."""

    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


def ship(store: st.HubStore, order: Order, *, carrier: str = "UPS") -> int:
    """Store the order and a bought label with a tracking number for it; the label row's id."""
    with store.transaction() as conn:
        st.save_order(conn, order, receipt_id=None, now=NOW)
        row = st.record_shipment_created(conn, target="carrier", reference=f"{order.partner_id}:{order.source_ref}",
                                         partner_id=order.partner_id, po_number=order.source_ref, mode="test",
                                         shipment_id=f"shp_{order.source_ref}")
        st.mark_shipment_bought(conn, row.id, rate_id="rate_1", carrier=carrier, service="Ground",
                                rate=Decimal("9.50"), tracking_code=TRACKING, label_url=None, tracker_id=None,
                                tracking_status="pre_transit")
    return row.id


def rows(store: st.HubStore, source: str, partner: str, ref: str):
    with store.transaction() as conn:
        return fulfilments_of(conn, source, partner, ref)


# -- Shopify ----------------------------------------------------------------------------------------

@pytest.fixture
def shop():
    with SandboxShopify(access_token=TOKEN, restore_rate=1000) as sandbox:
        yield sandbox


def shopify_order(shop: SandboxShopify, order_id: int) -> Order:
    items = shop.order(order_id)["line_items"]
    lines = [OrderLine(line_no=str(item["id"]), sku=item["sku"], quantity=Decimal(item["quantity"]))
             for item in items]
    return Order(source=Source.SHOPIFY, source_ref=str(order_id), partner_id="shop", order_date=NOW.date(),
                 lines=lines, total=Decimal(0))


def shopify_target(shop: SandboxShopify, store: st.HubStore, clock: Clock, *, settle: float = 0,
                   timeout: float = 5) -> ChannelFulfilmentTarget:
    config = ShopifyConfig(shop_domain=shop.shop_domain, access_token=TOKEN,
                           http={"base_url": shop.base_url, "timeout_seconds": timeout, "max_retries": 1})
    channel = ShopifyChannel(ShopifyFulfilments(ShopifyClient(config)))
    return ChannelFulfilmentTarget(channel, store, partner_id="shop", write_settle=dt.timedelta(seconds=settle),
                                   now=clock)


def two_line_order(shop: SandboxShopify) -> int:
    for order_id in shop.seed_orders(12, seed=7):
        if len(shop.order(order_id)["line_items"]) >= 2:
            return order_id
    raise AssertionError("no seeded order with two lines")


def test_one_fulfillment_create_per_location_with_our_tracking_then_nothing_twice(shop, sqlite_store):
    order_id = two_line_order(shop)
    second_line = shop.order(order_id)["line_items"][1]["id"]
    shop_side.assign_location(shop, order_id, second_line, 2)  # two fulfillment orders, two locations
    ship(sqlite_store, shopify_order(shop, order_id))
    target = shopify_target(shop, sqlite_store, Clock())

    result = fulfil_shipped_orders(target)

    assert (result.fulfilled, result.rejected, result.waiting) == (1, [], [])
    made = shop_side.fulfillments_of(shop, order_id)
    assert sorted(f["location"]["id"] for f in made) == ["gid://shopify/Location/1", "gid://shopify/Location/2"]
    assert all(f["trackingInfo"][0]["number"] == TRACKING and f["trackingInfo"][0]["company"] == "UPS"
               and f["notifyCustomer"] for f in made)
    assert shop_side.fulfilments(shop).creates == 2  # one request per location
    assert shop.order(order_id)["fulfillment_status"] == "fulfilled"
    assert check_fulfilments(sqlite_store, "shopify", "shop").passed
    # Asked at the shop: the two locations' fulfillments are the order's one fulfilment.
    other = next(i for i in shop.order_ids() if i != order_id)
    held = target.reconcile({"shop": {str(order_id): True, str(other): True}})
    assert (held.missing, held.doubled) == ([str(other)], {})

    again = fulfil_shipped_orders(target)  # nothing left to do: nothing sent
    assert (again.fulfilled, again.unchanged) == (0, 0)
    assert shop_side.fulfilments(shop).creates == 2
    assert sorted(o["fulfillment_status"] or "" for o in map(shop.order, shop.order_ids()))[-1] == "fulfilled"
    # The other seeded orders have no label: untouched.
    assert sum(len(shop_side.fulfillments_of(shop, i)) for i in shop.order_ids()) == 2


def test_a_timed_out_fulfillment_is_looked_up_after_the_settle_time_and_never_sent_twice(shop, sqlite_store):
    order_id = shop.seed_orders(1)[0]
    ship(sqlite_store, shopify_order(shop, order_id))
    clock = Clock()
    target = shopify_target(shop, sqlite_store, clock, settle=120, timeout=0.5)
    shop_side.hold_next_create(shop, 1.5)  # the shop creates it, the answer comes too late

    first = fulfil_shipped_orders(target)
    assert first.waiting == [str(order_id)]
    assert [r.state for r in rows(sqlite_store, "shopify", "shop", str(order_id))] == [FulfilmentState.SENDING]
    check = check_fulfilments(sqlite_store, "shopify", "shop")
    assert check.in_doubt == [str(order_id)] and not check.passed

    clock.now += dt.timedelta(seconds=60)  # within the settle time: neither a lookup nor a send
    assert fulfil_shipped_orders(target).waiting == [str(order_id)]
    clock.now += dt.timedelta(seconds=61)
    settled = fulfil_shipped_orders(target)

    assert (settled.fulfilled, settled.unchanged) == (0, 1)  # found at the shop, not created again
    assert shop_side.fulfilments(shop).creates == 1
    assert len(shop_side.fulfillments_of(shop, order_id)) == 1
    [row] = rows(sqlite_store, "shopify", "shop", str(order_id))
    assert row.state is FulfilmentState.SENT
    assert row.channel_record == shop_side.fulfillments_of(shop, order_id)[0]["id"]
    assert check_fulfilments(sqlite_store, "shopify", "shop").passed


def test_a_part_in_doubt_that_the_shop_does_not_hold_is_sent_once(shop, sqlite_store):
    order_id = shop.seed_orders(1)[0]
    order = shopify_order(shop, order_id)
    ship(sqlite_store, order)
    target = shopify_target(shop, sqlite_store, Clock())
    with sqlite_store.transaction() as conn:
        [shipped] = shipped_orders(conn, "shopify", "shop")
    [row] = target._plan(order, shipped)
    with sqlite_store.transaction() as conn:  # a run died right after marking it: the call never left
        mark_fulfilment_sending(conn, row.id, clock=NOW)

    result = fulfil_shipped_orders(target)

    assert result.fulfilled == 1 and shop_side.fulfilments(shop).creates == 1


def test_user_errors_are_recorded_as_a_refusal_and_fail_the_check(shop, sqlite_store):
    order_id = shop.seed_orders(1)[0]
    order = shopify_order(shop, order_id)
    ship(sqlite_store, order)
    target = shopify_target(shop, sqlite_store, Clock())
    with sqlite_store.transaction() as conn:
        [shipped] = shipped_orders(conn, "shopify", "shop")
    target._plan(order, shipped)  # planned with every line; then the shop refunds part of the first line
    shop.refund_line(order_id, 0, 1)

    result = fulfil_shipped_orders(target)

    assert result.rejected == [str(order_id)] and shop_side.fulfilments(shop).creates == 0
    [row] = rows(sqlite_store, "shopify", "shop", str(order_id))
    assert row.state is FulfilmentState.REJECTED
    # The shop's userError, field path and message, as the reason a person reads.
    assert (row.error or "").startswith("shopify fulfillmentCreate: fulfillment.lineItemsByFulfillmentOrder.0")
    assert "is CLOSED" in (row.error or "") or "Invalid fulfillment order line item quantity" in (row.error or "")
    check = check_fulfilments(sqlite_store, "shopify", "shop")
    assert check.rejected == [str(order_id)] and not check.passed
    assert fulfil_shipped_orders(target).rejected == []  # left to a person: not sent again every pass


def test_a_refused_part_opens_an_exception_and_its_replay_sends_it_once_after_the_fix(shop, sqlite_store):
    order_id = next(i for i in shop.seed_orders(12, seed=7)
                    if len(shop.order(i)["line_items"]) >= 2 and shop.order(i)["line_items"][1]["quantity"] >= 2)
    second = shop.order(order_id)["line_items"][1]
    shop_side.assign_location(shop, order_id, second["id"], 2)  # two parts: location 1, location 2
    order = shopify_order(shop, order_id)
    ship(sqlite_store, order)
    target = shopify_target(shop, sqlite_store, Clock())
    with sqlite_store.transaction() as conn:
        [shipped] = shipped_orders(conn, "shopify", "shop")
    target._plan(order, shipped)  # planned with every line; then the shop refunds one unit of the second line
    shop.refund_line(order_id, 1, 1)

    assert fulfil_shipped_orders(target).rejected == [str(order_id)]
    assert shop_side.fulfilments(shop).creates == 1  # location 1 went, location 2 was refused
    with sqlite_store.transaction() as conn:
        [queued] = st.list_exceptions(conn, order_id=shipped.order_id)
    assert (queued.kind, queued.channel, queued.document_ref) == (
        "shopify_fulfilment_rejected", "shopify_fulfilment", str(order_id))
    assert "refused the fulfilment" in queued.reason and "shopify fulfillmentCreate" in queued.reason
    assert fulfil_shipped_orders(target).rejected == []  # waits for a person: not sent every pass

    # The refund was right (the operator checked); replayed, the rest of location 2 is planned and sent.
    outcome = replay_exception(sqlite_store, PartnerDirectory([]), queued.id, now=NOW)
    assert outcome.done and "released" in outcome.message
    result = fulfil_shipped_orders(target)

    assert result.rejected == [] and result.waiting == []
    parts = rows(sqlite_store, "shopify", "shop", str(order_id))
    assert all(row.state is FulfilmentState.SENT for row in parts)
    made = shop_side.fulfillments_of(shop, order_id)
    assert sorted(f["location"]["id"] for f in made) == ["gid://shopify/Location/1", "gid://shopify/Location/2"]
    assert shop.order(order_id)["fulfillment_status"] == "fulfilled"
    assert shop_side.fulfilments(shop).creates == len(made) == sum(1 for r in parts if r.channel_record)
    with sqlite_store.transaction() as conn:
        assert st.get_exception(conn, queued.id).state == st.REPLAYED
    assert check_fulfilments(sqlite_store, "shopify", "shop").passed
    assert fulfil_shipped_orders(target).fulfilled == 0 and shop_side.fulfilments(shop).creates == len(made)


# -- marketplace ------------------------------------------------------------------------------------

@pytest.fixture
def market():
    with SandboxAmazon(client_id="id", client_secret="secret", refresh_token="Atzr|r",
                       limits={"confirmShipment": (20.0, 2), "getOrder": (20.0, 5)}) as sandbox:
        yield sandbox


def marketplace_order(market: SandboxAmazon, order_id: str) -> Order:
    items = market._state.items[order_id]
    lines = [OrderLine(line_no=item["OrderItemId"], sku=item["SellerSKU"], quantity=Decimal(item["QuantityOrdered"]))
             for item in items]
    return Order(source=Source.AMAZON, source_ref=order_id, partner_id="seller", order_date=NOW.date(),
                 lines=lines, total=Decimal(0), references={"marketplace_id": MARKETPLACE_US})


def marketplace_target(market: SandboxAmazon, store: st.HubStore, clock: Clock, *, settle: float = 0,
                       timeout: float = 5) -> ChannelFulfilmentTarget:
    config = AmazonConfig(http={"base_url": market.base_url, "timeout_seconds": timeout,
                                "backoff_base_seconds": 0.05},
                          token_url=market.token_url, client_id="id", client_secret="secret",
                          refresh_token="Atzr|r", marketplace_ids=(MARKETPLACE_US,))
    return ChannelFulfilmentTarget(MarketplaceChannel(AmazonSellerClient(config)), store, partner_id="seller",
                                   write_settle=dt.timedelta(seconds=settle), now=clock)


ORDER = "112-0000001-0000001"


def add_marketplace_order(market: SandboxAmazon) -> None:
    market.add_order(ORDER, [SandboxItem(sku="WID-100", quantity=2, unit_price=Decimal("4.50")),
                             SandboxItem(sku="GIZ-400", quantity=1, unit_price=Decimal("7.25"))])


def test_one_confirmation_per_package_with_the_reference_as_a_string_after_a_429(market, sqlite_store):
    add_marketplace_order(market)
    label = ship(sqlite_store, marketplace_order(market, ORDER), carrier="FedEx")
    market.inject_failures(429, code="QuotaExceeded")  # the first confirmation is throttled
    target = marketplace_target(market, sqlite_store, Clock())

    result = fulfil_shipped_orders(target)

    assert (result.fulfilled, result.waiting, result.rejected) == (1, [], [])
    packages = market_side.fulfilments(market).packages[ORDER]
    assert list(packages) == [str(label)]  # the sandbox refuses a packageReferenceId that is not a string
    package = packages[str(label)]
    assert package["carrierCode"] == "FedEx" and package["trackingNumber"] == TRACKING
    assert sorted((i["orderItemId"], i["quantity"]) for i in package["orderItems"]) == sorted(
        (item["OrderItemId"], item["QuantityOrdered"]) for item in market._state.items[ORDER])
    assert market.order(ORDER)["OrderStatus"] == "Shipped"
    assert [status for op, status in market.calls if op == "confirmShipment"] == [429, 200]
    assert market_side.fulfilments(market).confirmations == 1
    assert fulfil_shipped_orders(target).fulfilled == 0 and market_side.fulfilments(market).confirmations == 1
    assert check_fulfilments(sqlite_store, "amazon", "seller").passed


def test_a_timed_out_confirmation_is_found_by_get_order_and_not_sent_again(market, sqlite_store):
    add_marketplace_order(market)
    ship(sqlite_store, marketplace_order(market, ORDER), carrier="Acme Freight")
    clock = Clock()
    target = marketplace_target(market, sqlite_store, clock, settle=90, timeout=0.5)
    market_side.hold_next_confirmation(market, 1.5)

    assert fulfil_shipped_orders(target).waiting == [ORDER]
    clock.now += dt.timedelta(seconds=91)
    settled = fulfil_shipped_orders(target)

    assert (settled.fulfilled, settled.unchanged) == (0, 1)
    assert market_side.fulfilments(market).confirmations == 1
    [package] = market_side.fulfilments(market).packages[ORDER].values()
    assert (package["carrierCode"], package["carrierName"]) == ("Other", "Acme Freight")
    assert [op for op, _ in market.calls].count("getOrder") == 1
    assert check_fulfilments(sqlite_store, "amazon", "seller").passed


def test_a_refused_confirmation_is_queued_and_its_replay_confirms_it_once(market, sqlite_store):
    add_marketplace_order(market)
    ship(sqlite_store, marketplace_order(market, ORDER))
    target = marketplace_target(market, sqlite_store, Clock())
    market.inject_failures(400, code="InvalidInput")  # the marketplace refuses the first confirmation

    assert fulfil_shipped_orders(target).rejected == [ORDER]
    with sqlite_store.transaction() as conn:
        [queued] = st.list_exceptions(conn)
    assert (queued.kind, queued.document_ref) == ("amazon_fulfilment_rejected", ORDER)
    assert queued.reason.startswith("the marketplace refused the fulfilment of") and "400" in queued.reason
    assert market_side.fulfilments(market).confirmations == 0

    outcome = replay_exception(sqlite_store, PartnerDirectory([]), queued.id, now=NOW)
    assert outcome.done
    assert fulfil_shipped_orders(target).fulfilled == 1
    assert market_side.fulfilments(market).confirmations == 1 and market.order(ORDER)["OrderStatus"] == "Shipped"
    with sqlite_store.transaction() as conn:
        assert st.get_exception(conn, queued.id).state == st.REPLAYED
    again = replay_exception(sqlite_store, PartnerDirectory([]), queued.id, now=NOW)
    assert not again.done and market_side.fulfilments(market).confirmations == 1
