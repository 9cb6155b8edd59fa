"""Stock published to the channels: safety stock, Shopify compare-and-swap and idempotency key, listing quantities."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest
import respx

from canonical.errors import ConfigurationError
from connectors.amazon import AmazonConfig, AmazonSellerClient
from connectors.shopify import InventoryLevel, ShopifyClient, ShopifyConfig, ShopifyInventory, StaleQuantity
from hub.targets.channel_fulfilment import (
    ListingStock,
    ShopifyStock,
    publish_channel_stock,
    publish_inventory,
    published_quantity,
)
from mappings.profiles import PartnerProfile
from sandbox import _amazon_fulfilment as market_side
from sandbox import _shopify_fulfilment as shop_side
from sandbox.amazon_server import MARKETPLACE_US, SandboxAmazon
from sandbox.shopify_server import SandboxShopify

TOKEN = "shpat_stock"
SHOP = "acme-store.myshopify.com"
GRAPHQL = f"https://{SHOP}/admin/api/2026-10/graphql.json"
COST = {"cost": {"requestedQueryCost": 10, "actualQueryCost": 10,
                 "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1990, "restoreRate": 100.0}}}


def test_the_published_quantity_is_whole_units_less_the_safety_stock_never_below_zero():
    assert published_quantity(Decimal("12"), 2) == 10
    assert published_quantity(Decimal("7.9"), 2) == 5
    assert published_quantity(1, 2) == 0
    assert published_quantity(Decimal("-3"), 0) == 0
    assert published_quantity(5, -4) == 5  # a negative safety stock is no safety stock, not extra stock


# -- Shopify on the wire ----------------------------------------------------------------------------

def wire_inventory() -> ShopifyInventory:
    return ShopifyInventory(ShopifyClient(ShopifyConfig.model_validate({"shop_domain": SHOP, "access_token": TOKEN})),
                            "7")


@respx.mock
def test_inventory_set_quantities_sends_change_from_quantity_and_an_idempotency_key():
    route = respx.post(GRAPHQL).mock(return_value=httpx.Response(200, json={"data": {"inventorySetQuantities": {
        "inventoryAdjustmentGroup": {"id": "gid://shopify/InventoryAdjustmentGroup/1", "reason": "correction",
                                     "changes": [{"name": "available", "delta": -2, "quantityAfterChange": 10}]},
        "userErrors": []}}, "extensions": COST}))
    inventory = wire_inventory()
    level = InventoryLevel("WID-100", "gid://shopify/InventoryItem/30", 12)
    inventory.set_available(level, 10, reference="orderhub://stock/WID-100")
    inventory.set_available(level, 10, reference="orderhub://stock/WID-100")
    first, second = (json.loads(call.request.content) for call in route.calls)
    assert "inventorySetQuantities(input: $input) @idempotent(key: $key)" in first["query"]
    assert first["variables"]["input"] == {
        "name": "available", "reason": "correction", "referenceDocumentUri": "orderhub://stock/WID-100",
        "quantities": [{"inventoryItemId": "gid://shopify/InventoryItem/30", "locationId": "gid://shopify/Location/7",
                        "quantity": 10, "changeFromQuantity": 12}]}
    assert "compareQuantity" not in first["query"] + json.dumps(first["variables"])  # the pre-2026-04 field
    assert first["variables"]["key"] == second["variables"]["key"]  # the same change, the same key
    other = InventoryLevel("WID-100", "gid://shopify/InventoryItem/30", 11)
    inventory.set_available(other, 10, reference="orderhub://stock/WID-100")
    assert json.loads(route.calls.last.request.content)["variables"]["key"] != first["variables"]["key"]


@respx.mock
def test_a_stale_change_from_quantity_is_surfaced_as_such():
    respx.post(GRAPHQL).mock(return_value=httpx.Response(200, json={"data": {"inventorySetQuantities": {
        "inventoryAdjustmentGroup": None, "userErrors": [{
            "code": "CHANGE_FROM_QUANTITY_STALE", "field": ["input", "quantities", "0", "changeFromQuantity"],
            "message": "The specified changeFromQuantity does not match the current quantity."}]}},
        "extensions": COST}))
    inventory = wire_inventory()
    with pytest.raises(StaleQuantity, match="WID-100 is no longer 12"):
        inventory.set_available(InventoryLevel("WID-100", "gid://shopify/InventoryItem/30", 12), 10,
                                reference="orderhub://stock/WID-100")


# -- against the sandbox shop ------------------------------------------------------------------------

@pytest.fixture
def shop():
    with SandboxShopify(access_token=TOKEN, restore_rate=1000) as sandbox:
        shop_side.stock(sandbox, "WID-100", 12)
        shop_side.stock(sandbox, "WID-1000", 40)  # a longer SKU the search also finds: never confused
        shop_side.stock(sandbox, "GAD-300", 1)
        yield sandbox


def shop_inventory(shop: SandboxShopify) -> ShopifyInventory:
    config = ShopifyConfig(shop_domain=shop.shop_domain, access_token=TOKEN, http={"base_url": shop.base_url})
    return ShopifyInventory(ShopifyClient(config), "1")


def available(shop: SandboxShopify, sku: str) -> int:
    return shop_side.fulfilments(shop).inventory[(sku, 1)]["available"]


def test_publishing_sets_available_less_the_safety_stock_then_changes_nothing(shop):
    stock = ShopifyStock(shop_inventory(shop))
    result = publish_inventory(stock, {"WID-100": Decimal("12"), "GAD-300": 1, "NOT-SOLD": 5}, safety_stock=2)
    assert (result.set, result.unchanged, result.unknown, result.ok) == (["GAD-300", "WID-100"], [], ["NOT-SOLD"],
                                                                          True)
    assert (available(shop, "WID-100"), available(shop, "GAD-300"), available(shop, "WID-1000")) == (10, 0, 40)
    again = publish_inventory(stock, {"WID-100": Decimal("12"), "GAD-300": 1}, safety_stock=2)
    assert again.unchanged == ["GAD-300", "WID-100"] and again.set == []


def test_a_quantity_changed_between_read_and_write_is_surfaced_not_overwritten(shop):
    inventory = shop_inventory(shop)

    class SomeoneSellsInBetween(ShopifyInventory):
        def level(self, sku):
            found = inventory.level(sku)
            shop_side.stock(shop, sku, 3)  # a sale at the till after our read
            return found

    result = publish_inventory(ShopifyStock(SomeoneSellsInBetween(inventory.client, "1")), {"WID-100": 20})
    assert "WID-100" in result.stale and not result.ok and result.set == []
    assert available(shop, "WID-100") == 3  # the till's sale stands


def test_the_same_idempotency_key_is_applied_once(shop):
    inventory = shop_inventory(shop)
    level = inventory.level("WID-100")
    assert level is not None and level.available == 12
    inventory.set_available(level, 10, reference="orderhub://stock/WID-100")
    shop_side.stock(shop, "WID-100", 15)  # changed by hand afterwards
    inventory.set_available(level, 10, reference="orderhub://stock/WID-100")  # a resend after a lost answer
    assert available(shop, "WID-100") == 15  # answered as the first time, not applied again


# -- marketplace listings -----------------------------------------------------------------------------

def seller_client(base_url: str, token_url: str) -> AmazonSellerClient:
    return AmazonSellerClient(AmazonConfig(http={"base_url": base_url}, token_url=token_url, client_id="id",
                                           client_secret="secret", refresh_token="Atzr|r",
                                           marketplace_ids=(MARKETPLACE_US,)))


@respx.mock
def test_the_listing_patch_is_a_json_patch_on_fulfillment_availability():
    api = "https://sellingpartnerapi-na.amazon.com"
    respx.post("https://api.amazon.com/auth/o2/token").mock(return_value=httpx.Response(
        200, json={"access_token": "Atza|t", "token_type": "bearer", "expires_in": 3600}))
    route = respx.patch(url__startswith=f"{api}/listings/2021-08-01/items/A1SELLER/").mock(
        return_value=httpx.Response(200, json={"sku": "BOX 500/10", "status": "ACCEPTED", "submissionId": "s1",
                                               "issues": []}))
    client = seller_client(api, "https://api.amazon.com/auth/o2/token")
    publish_inventory(ListingStock(client, "A1SELLER", [MARKETPLACE_US]), {"BOX 500/10": 9}, safety_stock=4)
    request = route.calls.last.request
    assert request.url.raw_path.decode() == \
        f"/listings/2021-08-01/items/A1SELLER/BOX%20500%2F10?marketplaceIds={MARKETPLACE_US}"
    assert json.loads(request.content) == {"productType": "PRODUCT", "patches": [
        {"op": "merge", "path": "/attributes/fulfillment_availability",
         "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 5}]}]}


def test_listing_quantities_reach_the_sandbox_marketplace():
    with SandboxAmazon(client_id="id", client_secret="secret", refresh_token="Atzr|r") as market:
        client = seller_client(market.base_url, market.token_url)
        result = publish_inventory(ListingStock(client, "A1SELLER", [MARKETPLACE_US]),
                                   {"WID-100": Decimal("7"), "GAD-300": 0}, safety_stock=1)
        assert result.set == ["GAD-300", "WID-100"] and result.ok
        assert market_side.fulfilments(market).listings == {"WID-100": 6, "GAD-300": 0}


def test_the_profiles_safety_stock_of_the_channel_is_held_back(shop):
    profile = PartnerProfile.model_validate({"id": "acme-shop", "name": "Acme shop", "channels": [
        {"kind": "shopify", "shop_domain": "acme.myshopify.com", "access_token_env": "T", "webhook_secret_env": "W",
         "safety_stock": 3}]})
    result = publish_channel_stock(profile, "shopify", ShopifyStock(shop_inventory(shop)), {"WID-100": 12})
    assert result.quantities == {"WID-100": 9} and available(shop, "WID-100") == 9
    with pytest.raises(ConfigurationError, match="no amazon channel"):
        publish_channel_stock(profile, "amazon", ShopifyStock(shop_inventory(shop)), {"WID-100": 12})
