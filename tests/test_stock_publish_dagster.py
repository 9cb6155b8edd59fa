"""The stock publishing asset per channel account and its check ``published_stock_within_atp``, in the code location
and in a run against the sandbox shop."""

from __future__ import annotations

import dagster as dg
import pytest
import yaml

from hub.defs import build_definitions
from hub.defs.inventory.publish import CHECK, stock_defs
from hub.defs.resources import HubStoreResource
from hub.defs.shopify.resources import ShopifyStoreResource
from hub.inventory import allocate_orders
from mappings.profiles import PartnerProfile, ShopifyProfile
from sandbox import _shopify_fulfilment as shop_side
from sandbox.shopify_server import SandboxShopify
from tests.test_inventory import save_order, stock, with_policy
from tests.test_inventory_publish import TOKEN, available

SHOP = {"kind": "shopify", "shop_domain": "trailhead.myshopify.com", "access_token_env": "HUB_TEST_STOCK_TOKEN",
        "webhook_secret_env": "HUB_TEST_STOCK_SECRET", "publish_stock": True, "stock_location_id": "1",
        "safety_stock": 2}
SELLER = {"kind": "amazon", "seller_id": "A1SELLER", "marketplace_ids": ["ATVPDKIKX0DER"],
          "lwa_client_id_env": "HUB_TEST_LWA_ID", "lwa_client_secret_env": "HUB_TEST_LWA_SECRET",
          "refresh_token_env": "HUB_TEST_LWA_REFRESH", "publish_stock": True}


def write(folder, profile_id: str, channels: list[dict]) -> None:
    profile = PartnerProfile.model_validate({"id": profile_id, "name": profile_id, "channels": channels})
    (folder / f"{profile_id}.yaml").write_text(yaml.safe_dump(profile.model_dump(mode="json")))


def test_the_code_location_has_a_publishing_asset_per_account_that_asks_for_it(tmp_path, monkeypatch):
    for name in ("HUB_TEST_STOCK_TOKEN", "HUB_TEST_STOCK_SECRET"):
        monkeypatch.setenv(name, "set")
    for name in ("HUB_TEST_LWA_ID", "HUB_TEST_LWA_SECRET", "HUB_TEST_LWA_REFRESH"):
        monkeypatch.delenv(name, raising=False)
    write(tmp_path, "shop", [SHOP])
    write(tmp_path, "seller", [SELLER])
    write(tmp_path, "quiet", [{**SHOP, "shop_domain": "quiet.myshopify.com", "publish_stock": False}])
    defs = build_definitions(tmp_path)
    assets = {key.to_user_string() for key in defs.resolve_all_asset_keys()}
    assert {"shopify_stock_shop", "amazon_stock_seller"} <= assets and "shopify_stock_quiet" not in assets
    graph = defs.resolve_asset_graph()
    assert dg.AssetKey("inventory_atp") in graph.get(dg.AssetKey("shopify_stock_shop")).parent_keys
    assert dg.AssetCheckKey(dg.AssetKey("shopify_stock_shop"), CHECK) in graph.asset_check_keys
    running = defs.resolve_schedule_def("shopify_stock_shop_every_15_minutes")
    stopped = defs.resolve_schedule_def("amazon_stock_seller_every_15_minutes")
    assert running.default_status == dg.DefaultScheduleStatus.RUNNING
    assert stopped.default_status == dg.DefaultScheduleStatus.STOPPED  # its LWA variables are unset
    assert "HUB_TEST_LWA_REFRESH" in (stopped.description or "")


def test_publishing_to_shopify_needs_a_location():
    with pytest.raises(ValueError, match="stock_location_id"):
        ShopifyProfile.model_validate({**SHOP, "stock_location_id": None})


def test_the_asset_publishes_and_its_check_fails_when_atp_drops_below_what_was_published(tmp_path, sqlite_store):
    settings = ShopifyProfile.model_validate(SHOP)
    [asset] = [a for a in stock_defs(settings, "shop").assets or () if isinstance(a, dg.AssetsDefinition)]
    [check] = stock_defs(settings, "shop").asset_checks or []
    stock(sqlite_store, {("SKU-1", "EAST"): ("10", "0")})
    with SandboxShopify(access_token=TOKEN, restore_rate=1000) as shop:
        shop_side.stock(shop, "SKU-1", 40)
        resources = {"hub_store": HubStoreResource(database_url=str(sqlite_store.engine.url),
                                                   partners_dir=str(tmp_path)),
                     "shopify_shop": ShopifyStoreResource(shop_domain=shop.shop_domain, api_version="2026-10",
                                                          access_token=TOKEN, base_url=shop.base_url)}

        def run() -> tuple[dict, dg.AssetCheckEvaluation]:
            result = dg.materialize([asset, check], resources=resources)
            assert result.success
            [materialization] = result.asset_materializations_for_node("shopify_stock_shop")
            [evaluation] = result.get_asset_check_evaluations()
            return {k: v.value for k, v in materialization.metadata.items()}, evaluation

        metadata, evaluation = run()
        assert (metadata["sent"], metadata["set"], available(shop, "SKU-1")) == (1, 1, 8)
        assert evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR

        save_order(sqlite_store, "PO-7", [("1", "SKU-1", "6")])
        allocate_orders(sqlite_store, with_policy("backorder"))  # ATP 10 -> 4: at most 2 may show
        checked = dg.materialize([check], resources=resources, selection=dg.AssetSelection.checks(check))
        [failed] = checked.get_asset_check_evaluations()
        assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
        assert failed.metadata["above_atp"].value == [{"sku": "SKU-1", "published": 8, "allowed": 2, "atp": "4"}]
        assert "SKU-1" in (failed.description or "")

        metadata, evaluation = run()  # the next publication corrects it
        assert (metadata["sent"], available(shop, "SKU-1"), evaluation.passed) == (1, 2, True)
        metadata, _ = run()
        assert metadata["sent"] == 0


def test_the_846_asset_and_its_check_exist_only_when_a_partner_asks(tmp_path, sqlite_store):
    from hub.defs.inventory.publish import EDI_846, edi_846_within_atp
    from hub.delivery._inventory846 import queue_inventory_846
    from tests.test_stock_publish_846 import acme_846

    [acme] = list(acme_846(safety_stock=1))
    (tmp_path / "acme.yaml").write_text(yaml.safe_dump(acme.model_dump(mode="json", exclude_none=True)))
    defs = build_definitions(tmp_path)
    assert dg.AssetCheckKey(dg.AssetKey(EDI_846), CHECK) in defs.resolve_asset_graph().asset_check_keys
    assert defs.resolve_schedule_def(f"{EDI_846}_every_15_minutes").cron_schedule == "5-59/15 * * * *"
    quiet = tmp_path / "quiet"
    quiet.mkdir()
    write(quiet, "shop", [{**SHOP, "publish_stock": False}])
    assert dg.AssetKey(EDI_846) not in build_definitions(quiet).resolve_all_asset_keys()

    stock(sqlite_store, {("SKU-1", "EAST"): ("10", "0")})
    queue_inventory_846(sqlite_store, acme_846(safety_stock=1))  # told 9
    resources = {"hub_store": HubStoreResource(database_url=str(sqlite_store.engine.url), partners_dir=str(tmp_path))}

    def evaluate() -> dg.AssetCheckEvaluation:
        result = dg.materialize([edi_846_within_atp], resources=resources,
                                selection=dg.AssetSelection.checks(edi_846_within_atp))
        [evaluation] = result.get_asset_check_evaluations()
        return evaluation

    assert evaluate().passed
    save_order(sqlite_store, "PO-8", [("1", "SKU-1", "6")])
    allocate_orders(sqlite_store, with_policy("backorder"))  # ATP 10 -> 4: at most 3 may be told
    failed = evaluate()
    assert not failed.passed and failed.severity == dg.AssetCheckSeverity.ERROR
    assert failed.metadata["above_atp"].value == [
        {"partner": "acme", "sku": "SKU-1", "published": 9, "allowed": 3, "atp": "4"}]
