"""API channels end to end through Dagster: sandbox marketplace and store -> store -> sandbox ERP."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import dagster as dg
import pytest
from sqlalchemy import select

from hub import store as st
from hub.defs import build_definitions
from sandbox.amazon_server import SandboxAmazon
from sandbox.environment import ERP_API_KEY, ERP_DATABASE

AMAZON = {"HUB_AMAZON_US_CLIENT_ID": "amzn1.application-oa2-client.test", "HUB_AMAZON_US_CLIENT_SECRET": "s3cret",
          "HUB_AMAZON_US_REFRESH_TOKEN": "Atzr|refresh"}


@pytest.fixture
def hub_env(tmp_path, monkeypatch, erp):
    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    for key, value in {"HUB_DATABASE_URL": url, "HUB_ERP_URL": erp.base_url, "HUB_ERP_DATABASE": ERP_DATABASE,
                       "HUB_ERP_API_KEY": ERP_API_KEY, **AMAZON}.items():
        monkeypatch.setenv(key, value)
    store = st.HubStore(url).migrate()
    yield store
    store.dispose()


@pytest.fixture
def marketplace(monkeypatch) -> Iterator[SandboxAmazon]:
    server = SandboxAmazon(client_id=AMAZON["HUB_AMAZON_US_CLIENT_ID"],
                           client_secret=AMAZON["HUB_AMAZON_US_CLIENT_SECRET"],
                           refresh_token=AMAZON["HUB_AMAZON_US_REFRESH_TOKEN"],
                           # A faster restore rate than production's, announced in x-amzn-RateLimit-Limit,
                           # which the client follows: the tests never wait a real minute for a token.
                           limits={"getOrders": (5.0, 20), "getOrderItems": (10.0, 30)}).start()
    monkeypatch.setenv("HUB_AMAZON_US_URL", server.base_url)
    monkeypatch.setenv("HUB_AMAZON_US_TOKEN_URL", server.token_url)
    yield server
    server.stop()


def run(job: str) -> dg.ExecuteInProcessResult:
    instance = dg.DagsterInstance.ephemeral()
    return build_definitions().resolve_job_def(job).execute_in_process(instance=instance, raise_on_error=False)


def orders_by_ref(store):
    with store.transaction() as conn:
        rows = conn.execute(select(st.tables.orders)).all()
    return {row.source_ref: row for row in rows}


def test_marketplace_orders_sync_incrementally_and_reach_the_erp(hub_env, marketplace, erp):
    ids = marketplace.seed_demo_orders()
    result = run("amazon_marketplace_us_sync")
    assert result.success
    meta = result.asset_materializations_for_node("amazon_orders_marketplace_us")[0].metadata
    assert meta["orders_held"].value == 1, "the Pending order waits for prices and an address"
    assert meta["http_responses_429"].value == 0

    orders = orders_by_ref(hub_env)
    assert ids[2] not in orders  # Pending: held, not stored
    assert orders[ids[1]].not_pushed_reason, "fulfilled by the marketplace: recorded, not sent to our warehouse"
    assert ids[3] not in orders, "cancelled before we ever saw it: nothing to store or cancel"
    pushed = [ids[0], ids[4], ids[5]]
    assert all(orders[i].status == "open" and orders[i].not_pushed_reason is None for i in pushed)
    assert sorted(o["client_order_ref"] for o in erp.sale_orders()) == sorted(pushed)
    (check,) = [c for c in result.get_asset_check_evaluations() if c.check_name == "erp_sales_orders_exactly_once"]
    assert check.passed

    # Next sync: nothing new, nothing doubled; then the Pending order is completed and arrives.
    assert run("amazon_marketplace_us_sync").success
    assert len(erp.sale_orders()) == 3
    marketplace.update_order(ids[2], status="Unshipped", at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5))
    third = run("amazon_marketplace_us_sync")
    meta = third.asset_materializations_for_node("amazon_orders_marketplace_us")[0].metadata
    assert meta["orders_new"].value == 1 and meta["orders_held"].value == 0
    assert sorted(o["client_order_ref"] for o in erp.sale_orders()) == sorted([*pushed, ids[2]])


def test_a_quota_storm_still_stores_every_order_once(hub_env, marketplace, erp):
    ids = marketplace.seed_demo_orders()
    marketplace.inject_failures(429, times=3)
    result = run("amazon_marketplace_us_sync")
    assert result.success
    meta = result.asset_materializations_for_node("amazon_orders_marketplace_us")[0].metadata
    assert meta["http_responses_429"].value == 3
    orders = orders_by_ref(hub_env)
    assert set(orders) == set(ids) - {ids[2], ids[3]}
    with hub_env.transaction() as conn:
        revisions = conn.execute(select(st.tables.orders.c.revision)).scalars().all()
    assert set(revisions) == {1}


SHOPIFY = {"HUB_SHOPIFY_TRAILHEAD_TOKEN": "shpat_test_token", "HUB_SHOPIFY_TRAILHEAD_WEBHOOK_SECRET": "whsec_test"}


@pytest.fixture
def shop(monkeypatch) -> Iterator:
    from sandbox.shopify_server import SandboxShopify

    server = SandboxShopify(access_token=SHOPIFY["HUB_SHOPIFY_TRAILHEAD_TOKEN"],
                            webhook_secret=SHOPIFY["HUB_SHOPIFY_TRAILHEAD_WEBHOOK_SECRET"],
                            shop_domain="trailhead-outfitters.myshopify.com").start()
    for key, value in {**SHOPIFY, "HUB_SHOPIFY_TRAILHEAD_URL": server.base_url}.items():
        monkeypatch.setenv(key, value)
    yield server
    server.stop()


@pytest.fixture
def webhook_url(hub_env) -> Iterator[str]:
    from pathlib import Path

    from hub.webhooks import create_webhook_app
    from mappings.profiles import PartnerDirectory
    from sandbox._server import BackgroundServer

    partners = PartnerDirectory.load(Path(__file__).resolve().parent.parent / "mappings" / "partners")
    with BackgroundServer(create_webhook_app(lambda: hub_env, partners), name="webhooks") as server:
        yield f"{server.base_url}/webhooks/shopify/trailhead"


def test_shop_orders_by_sync_and_by_webhook_are_one_order_each(hub_env, shop, erp, webhook_url):
    ids = shop.seed_orders(12)
    first = run("shopify_trailhead_sync")
    assert first.success
    meta = first.asset_materializations_for_node("shopify_orders_trailhead")[0].metadata
    new, not_pushed = meta["orders_new"].value, meta["orders_not_pushed"].value
    assert isinstance(new, int) and isinstance(not_pushed, int)
    assert new + not_pushed >= 1
    stored = orders_by_ref(hub_env)
    assert set(stored) == {str(i) for i in ids}

    # The same order arrives again by webhook (create and a retry of it), then edited by webhook.
    assert shop.send_webhook(webhook_url, "orders/create", ids[0], webhook_id="w-1").status_code == 200
    assert shop.send_webhook(webhook_url, "orders/create", ids[0], webhook_id="w-1").status_code == 200
    shop.update_order(ids[1], note="leave at the back door")
    assert shop.send_webhook(webhook_url, "orders/updated", ids[1], webhook_id="w-2").status_code == 200
    forged = shop.send_webhook(webhook_url, "orders/updated", ids[2], webhook_id="w-3", secret="not-the-secret")
    assert forged.status_code == 401

    with hub_env.transaction() as conn:
        queued = conn.execute(select(st.tables.receipts.c.source_name).where(
            st.tables.receipts.c.channel == "shopify_webhook")).scalars().all()
    assert sorted(queued) == ["orders/create:w-1", "orders/updated:w-2"], "one receipt per webhook id, none forged"

    assert run("shopify_webhook_job").success
    after = orders_by_ref(hub_env)
    assert set(after) == set(stored), "webhooks and polling deliver the same orders: still one each"
    assert after[str(ids[0])].revision == 1
    assert after[str(ids[1])].revision == 2, "the edit replaced the earlier version"
    refs = [o["client_order_ref"] for o in erp.sale_orders()]
    assert len(refs) == len(set(refs))

    # A later sync re-reads the overlap window: nothing changes.
    again = run("shopify_trailhead_sync")
    meta = again.asset_materializations_for_node("shopify_orders_trailhead")[0].metadata
    assert meta["orders_new"].value == meta["orders_updated"].value == 0
