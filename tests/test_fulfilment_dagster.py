"""The fulfilment asset and its check "every shipped order has a channel fulfilment", in the code location and run."""

from __future__ import annotations

import dagster as dg
import yaml

from hub.defs import build_definitions
from hub.defs.fulfilment.component import CHECK, fulfilment_defs
from hub.defs.resources import HubStoreResource
from hub.defs.shopify.resources import ShopifyStoreResource
from mappings.profiles import PartnerProfile
from sandbox import _shopify_fulfilment as shop_side
from sandbox.shopify_server import SandboxShopify
from tests.test_fulfilment_target import TOKEN, ship, shopify_order

ROUTING = {"ship_from": {"company": "Hub Warehouse", "street1": "1 Dock Rd", "city": "Reno", "state": "NV",
                         "zip": "89501"}}
TRAILHEAD = PartnerProfile.model_validate({"id": "shop", "name": "Trailhead", "channels": [
    {"kind": "shopify", "shop_domain": "trailhead.myshopify.com", "access_token_env": "HUB_TEST_SHOP_TOKEN",
     "webhook_secret_env": "HUB_TEST_SHOP_SECRET"}], "targets": [
    {"kind": "odoo", "name": "erp"}, {"kind": "easypost", "name": "carrier", "carrier": ROUTING}]})


def test_the_code_location_has_a_fulfilment_asset_per_shipping_channel_account(tmp_path):
    (tmp_path / "shop.yaml").write_text(yaml.safe_dump(TRAILHEAD.model_dump(mode="json")))
    without_carrier = TRAILHEAD.model_copy(update={"id": "other", "targets": TRAILHEAD.targets[:1]})
    (tmp_path / "other.yaml").write_text(yaml.safe_dump(without_carrier.model_dump(mode="json")))
    defs = build_definitions(tmp_path)
    assets = {key.to_user_string() for key in defs.resolve_all_asset_keys()}
    assert "shopify_fulfilments_shop" in assets
    assert "shopify_fulfilments_other" not in assets  # it ships nothing through the hub
    assert defs.resolve_job_def("shopify_fulfilments_shop_job") is not None
    assert defs.resolve_schedule_def("shopify_fulfilments_shop_every_10_minutes").cron_schedule == "*/10 * * * *"
    checks = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert CHECK in checks


def test_the_asset_fulfils_shipped_orders_and_its_check_names_the_ones_without(tmp_path, sqlite_store):
    with SandboxShopify(access_token=TOKEN, restore_rate=1000) as shop:
        order_id = shop.seed_orders(1)[0]
        ship(sqlite_store, shopify_order(shop, order_id))
        gone = shopify_order(shop, order_id).model_copy(update={"source_ref": "5599999999999"})
        ship(sqlite_store, gone)  # shipped, but the shop has no such order
        resources = {"hub_store": HubStoreResource(database_url=str(sqlite_store.engine.url),
                                                   partners_dir=str(tmp_path)),
                     "shopify_shop": ShopifyStoreResource(shop_domain=shop.shop_domain, api_version="2026-10",
                                                          access_token=TOKEN, base_url=shop.base_url)}
        [asset] = [a for a in fulfilment_defs("shopify", "shop").assets or () if isinstance(a, dg.AssetsDefinition)]

        result = dg.materialize([asset], resources=resources)

        assert result.success
        [materialization] = result.asset_materializations_for_node("shopify_fulfilments_shop")
        assert materialization.metadata["fulfilled"].value == 1
        assert materialization.metadata["rejected"].value == 1
        [evaluation] = result.get_asset_check_evaluations()
        assert evaluation.check_name == CHECK and not evaluation.passed
        assert evaluation.severity == dg.AssetCheckSeverity.ERROR
        assert evaluation.metadata["rejected"].value == "5599999999999"
        assert len(shop_side.fulfillments_of(shop, order_id)) == 1

        again = dg.materialize([asset], resources=resources)  # the shop's order is not fulfilled twice
        assert again.success and len(shop_side.fulfillments_of(shop, order_id)) == 1
        [materialization] = again.asset_materializations_for_node("shopify_fulfilments_shop")
        assert materialization.metadata["rejected"].value == 0  # the refused one waits for a person
        assert shop_side.fulfilments(shop).creates == 1
