"""Stock published from ATP (hub/inventory/_publish.py): only changed SKUs sent, recorded, a stale CAS retried once,
and the check "published stock never above ATP". Tests taking ``store`` run on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import httpx
import pytest
import respx

from connectors.shopify import ShopifyInventory
from hub import store as st
from hub.inventory import allocate_orders
from hub.inventory._publish import publish_stock, stock_above_atp
from hub.store._published_stock import published_stock_of
from hub.targets.channel_fulfilment import ListingStock, ShopifyStock
from sandbox import _shopify_fulfilment as shop_side
from sandbox.amazon_server import MARKETPLACE_US
from sandbox.shopify_server import SandboxShopify
from tests.test_inventory import save_order, stock, with_policy
from tests.test_inventory_publish import TOKEN, available, seller_client, shop_inventory

D = Decimal
NOW = dt.datetime(2026, 12, 4, 15, 0, tzinfo=dt.UTC)


class Recording:
    """A stock channel that passes every call on and remembers what it was asked."""

    def __init__(self, channel) -> None:
        self.channel = channel
        self.calls: list[tuple[str, int]] = []
        self.label = channel.label

    def publish(self, sku: str, quantity: int) -> str:
        self.calls.append((sku, quantity))
        return self.channel.publish(sku, quantity)


@pytest.fixture
def shop():
    with SandboxShopify(access_token=TOKEN, restore_rate=1000) as sandbox:
        for sku in ("WID-100", "GAD-300", "BOX-9"):
            shop_side.stock(sandbox, sku, 50)
        yield sandbox


def publish(store: st.HubStore, channel, safety_stock: int = 0, **kwargs):
    return publish_stock(store, channel, channel_kind="shopify", partner_id="shop", safety_stock=safety_stock,
                         now=NOW, **kwargs)


def test_publish_once_then_a_rerun_sends_nothing_then_only_the_changed_sku(sqlite_store, shop):
    stock(sqlite_store, {("WID-100", "EAST"): ("12", "0"), ("WID-100", "WEST"): ("5", "3"),
                         ("GAD-300", "EAST"): ("7", "0")})
    channel = Recording(ShopifyStock(shop_inventory(shop)))

    first = publish(sqlite_store, channel, safety_stock=2)
    assert first.sent == {"GAD-300": 5, "WID-100": 18} and first.published.set == ["GAD-300", "WID-100"]
    assert (available(shop, "WID-100"), available(shop, "GAD-300"), available(shop, "BOX-9")) == (18, 5, 50)
    with sqlite_store.transaction() as conn:
        row = published_stock_of(conn, "shopify", "shop")["WID-100"]
    assert (row.quantity, row.atp, row.safety_stock, row.outcome, row.published_at) == (18, D(20), 2, "set", NOW)

    channel.calls.clear()
    again = publish(sqlite_store, channel, safety_stock=2)
    assert channel.calls == [] and again.sent == {} and again.skus == 2  # nothing changed: nothing sent, not even read

    stock(sqlite_store, {("WID-100", "EAST"): ("12", "0"), ("WID-100", "WEST"): ("5", "3"),
                         ("GAD-300", "EAST"): ("4", "0")})  # GAD-300 down by 3
    changed = publish(sqlite_store, channel, safety_stock=2)
    assert channel.calls == [("GAD-300", 2)] and changed.sent == {"GAD-300": 2}
    assert available(shop, "GAD-300") == 2


def test_safety_stock_is_held_back_and_never_goes_negative(sqlite_store, shop):
    stock(sqlite_store, {("WID-100", "EAST"): ("10", "0"), ("GAD-300", "EAST"): ("1", "0"),
                         ("BOX-9", "EAST"): ("-4", "0")})  # the ERP counted below zero
    result = publish(sqlite_store, ShopifyStock(shop_inventory(shop)), safety_stock=3)
    assert result.sent == {"BOX-9": 0, "GAD-300": 0, "WID-100": 7}
    assert (available(shop, "WID-100"), available(shop, "GAD-300"), available(shop, "BOX-9")) == (7, 0, 0)
    assert stock_above_atp(sqlite_store, "shopify", "shop", 3) == []  # 0 published against an ATP of 1 - 3 is fine
    changed = publish(sqlite_store, ShopifyStock(shop_inventory(shop)), safety_stock=5)  # the profile holds back more
    assert changed.sent == {"WID-100": 5}


def test_a_sku_gone_from_atp_is_published_as_zero_and_unknown_skus_are_not_asked_again(sqlite_store, shop):
    stock(sqlite_store, {("WID-100", "EAST"): ("10", "0"), ("NOT-SOLD", "EAST"): ("4", "0")})
    channel = Recording(ShopifyStock(shop_inventory(shop)))
    first = publish(sqlite_store, channel)
    assert first.published.unknown == ["NOT-SOLD"] and first.published.set == ["WID-100"]
    stock(sqlite_store, {("NOT-SOLD", "EAST"): ("4", "0"), ("GAD-300", "EAST"): ("9", "0")})  # WID-100 dropped
    channel.calls.clear()
    publish(sqlite_store, channel)
    assert channel.calls == [("GAD-300", 9), ("WID-100", 0)]  # NOT-SOLD unchanged: the shop is not asked again
    assert available(shop, "WID-100") == 0


def test_no_atp_snapshot_publishes_nothing(sqlite_store, shop):
    channel = Recording(ShopifyStock(shop_inventory(shop)))
    result = publish(sqlite_store, channel)
    assert result.no_snapshot and channel.calls == [] and available(shop, "WID-100") == 50


def test_a_stale_compare_and_swap_is_retried_once_from_the_quantity_read_back(sqlite_store, shop):
    stock(sqlite_store, {("WID-100", "EAST"): ("20", "0")})
    inventory = shop_inventory(shop)
    sales = iter([3])

    class SomeoneSellsOnceInBetween(ShopifyInventory):
        def level(self, sku):
            found = inventory.level(sku)
            sold = next(sales, None)
            if sold is not None:
                shop_side.stock(shop, sku, sold)  # a sale at the till after our first read only
            return found

    result = publish(sqlite_store, ShopifyStock(SomeoneSellsOnceInBetween(inventory.client, "1")))
    assert result.retried == ["WID-100"] and result.published.set == ["WID-100"] and result.published.ok
    assert available(shop, "WID-100") == 20
    with sqlite_store.transaction() as conn:
        assert published_stock_of(conn, "shopify", "shop")["WID-100"].quantity == 20


def test_stale_twice_is_reported_and_not_recorded(sqlite_store, shop):
    stock(sqlite_store, {("WID-100", "EAST"): ("20", "0")})
    inventory = shop_inventory(shop)

    class TheTillKeepsSelling(ShopifyInventory):
        def level(self, sku):
            found = inventory.level(sku)
            assert found is not None and found.available is not None
            shop_side.stock(shop, sku, found.available - 1)
            return found

    result = publish(sqlite_store, ShopifyStock(TheTillKeepsSelling(inventory.client, "1")))
    assert result.retried == ["WID-100"] and list(result.published.stale) == ["WID-100"]
    assert result.metadata()["stale"] == "WID-100" and not result.published.ok
    assert available(shop, "WID-100") == 48  # both sales stand, nothing overwritten
    with sqlite_store.transaction() as conn:
        assert published_stock_of(conn, "shopify", "shop") == {}  # so the next run sends it again


def test_the_check_fails_when_later_allocations_take_atp_below_what_was_published(store):
    stock(store, {("SKU-1", "EAST"): ("10", "0"), ("SKU-2", "EAST"): ("50", "0")})
    channel = Recording(_Accepting())
    publish_stock(store, channel, channel_kind="shopify", partner_id="shop", safety_stock=1, now=NOW)
    assert stock_above_atp(store, "shopify", "shop", 1) == []

    save_order(store, "PO-7", [("1", "SKU-1", "6")])
    allocate_orders(store, with_policy("backorder"), now=NOW)  # SKU-1's ATP 10 -> 4, 9 published

    [above] = stock_above_atp(store, "shopify", "shop", 1)
    assert (above.sku, above.published, above.allowed, above.atp) == ("SKU-1", 9, 3, D(4))
    channel.calls.clear()
    publish_stock(store, channel, channel_kind="shopify", partner_id="shop", safety_stock=1, now=NOW)
    assert channel.calls == [("SKU-1", 3)] and stock_above_atp(store, "shopify", "shop", 1) == []


class _Accepting:
    """A channel that takes every quantity."""

    label = "a channel"

    def publish(self, sku: str, quantity: int) -> str:
        return "set"


@respx.mock
def test_marketplace_listings_get_only_the_changed_skus(sqlite_store):
    api = "https://sellingpartnerapi-na.amazon.com"
    respx.post("https://api.amazon.com/auth/o2/token").mock(return_value=httpx.Response(
        200, json={"access_token": "Atza|t", "token_type": "bearer", "expires_in": 3600}))
    route = respx.patch(url__startswith=f"{api}/listings/2021-08-01/items/A1SELLER/").mock(
        side_effect=lambda request: httpx.Response(200, json={
            "sku": request.url.path.rsplit("/", 1)[-1], "status": "ACCEPTED", "submissionId": "s", "issues": []}))
    listings = ListingStock(seller_client(api, "https://api.amazon.com/auth/o2/token"), "A1SELLER", [MARKETPLACE_US])

    def run():
        return publish_stock(sqlite_store, listings, channel_kind="amazon", partner_id="seller", safety_stock=2,
                             now=NOW)

    stock(sqlite_store, {("WID-100", "EAST"): ("9", "0"), ("GAD-300", "EAST"): ("1", "0")})
    run()
    sent = {call.request.url.path.rsplit("/", 1)[-1]: json.loads(call.request.content)["patches"][0]["value"][0]
            ["quantity"] for call in route.calls}
    assert sent == {"WID-100": 7, "GAD-300": 0}
    run()
    assert route.call_count == 2  # nothing changed: no PATCH
    stock(sqlite_store, {("WID-100", "EAST"): ("12", "0"), ("GAD-300", "EAST"): ("1", "0")})
    run()
    assert route.call_count == 3 and route.calls.last.request.url.path.endswith("/WID-100")
    assert json.loads(route.calls.last.request.content)["patches"][0]["value"][0]["quantity"] == 10
