"""Shopify backfill end to end against the sandbox shop: a bulk query stores exactly the orders the sync stores."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from canonical.errors import RetriableError
from connectors.shopify import (
    BulkFileTooLarge,
    BulkOperation,
    BulkOperationFailed,
    ShopifyBulk,
    ShopifyClient,
    ShopifyConfig,
)
from hub import store as st
from hub.intake import sync_orders
from hub.settings import sqlite_url
from hub.sources._shopify_bulk import backfill_orders
from hub.sources.shopify import SHOPIFY
from hub.store._tables import orders, raw_document_chunks, raw_documents, receipts
from mappings.profiles import PartnerDirectory, PartnerProfile
from sandbox import _shopify_bulk
from sandbox.shopify_server import SandboxShopify

TOKEN = "shpat_sandbox_token"
NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
SINCE = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
PROFILE = PartnerProfile(id="sandbox-shop", name="Sandbox", channels=[{"kind": "shopify",
    "shop_domain": "sandbox-shop.myshopify.com", "access_token_env": "T", "webhook_secret_env": "W"}])


class Partners(PartnerDirectory):
    def __init__(self) -> None:
        pass

    def get(self, partner_id: str) -> PartnerProfile:
        assert partner_id == PROFILE.id
        return PROFILE


@pytest.fixture
def shop():
    # West of UTC: the bulk path must give timestamps the shop's zone exactly as the sync does.
    with SandboxShopify(access_token=TOKEN, timezone="America/New_York", now=lambda: NOW) as sandbox:
        sandbox.seed_orders(23, start=NOW - dt.timedelta(days=2), spacing=dt.timedelta(minutes=41))
        yield sandbox


def client(shop: SandboxShopify) -> ShopifyClient:
    return ShopifyClient(ShopifyConfig(shop_domain=shop.shop_domain, access_token=TOKEN,
                                       http={"base_url": shop.base_url}))


def backfill(store: st.HubStore, shop: SandboxShopify, *, max_bytes: int = 10_000_000, work_dir: Path | None = None):
    with client(shop) as api:
        bulk = ShopifyBulk(api, sleep=lambda _s: None)
        return backfill_orders(store, api, PROFILE, since=SINCE, max_bytes=max_bytes, bulk=bulk, now=NOW,
                               work_dir=work_dir)


def stored(store: st.HubStore) -> dict[str, dict]:
    """Every stored order by source_ref, without where it was read from (page or file, and where in it)."""
    with store.transaction() as conn:
        ids = conn.execute(select(orders.c.id)).scalars().all()
        loaded = [st.load_order(conn, order_id) for order_id in ids]
    return {o.source_ref: o.model_dump(exclude={"raw_document_id", "document_ref"}) for o in loaded}


def count(store: st.HubStore, table) -> int:
    with store.transaction() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.fixture
def other_store(tmp_path):
    hub_store = st.HubStore(sqlite_url(tmp_path / "other.sqlite3")).migrate()
    yield hub_store
    hub_store.dispose()


def test_backfill_stores_the_orders_the_sync_stores(shop, sqlite_store, other_store):
    with client(shop) as api:
        synced = sync_orders(sqlite_store, SHOPIFY, api, PROFILE, now=NOW)
    assert synced.summary.orders_new == 23
    result = backfill(other_store, shop)
    assert result.operation.status == "COMPLETED" and result.operation.object_count is not None
    assert result.summary.orders_new == 23 and not result.summary.exceptions
    by_sync, by_backfill = stored(sqlite_store), stored(other_store)
    assert len(by_backfill) == 23
    assert by_backfill == by_sync
    # Line items came from the file's child lines: every order has them, in the sync's order.
    assert all(order["lines"] for order in by_backfill.values())


def test_a_backfill_after_the_sync_and_a_second_backfill_double_nothing(shop, store):
    with client(shop) as api:
        sync_orders(store, SHOPIFY, api, PROFILE, now=NOW)
    first = backfill(store, shop)
    assert (first.summary.orders_new, first.summary.orders_updated, first.summary.orders_unchanged) == (0, 0, 23)
    shop.update_order(shop.order_ids()[3], note="edited after the sync")
    second = backfill(store, shop)
    assert (second.summary.orders_new, second.summary.orders_updated, second.summary.orders_unchanged) == (0, 1, 22)
    assert count(store, orders) == 23
    assert _shopify_bulk.bulk(shop).downloads == 2


def test_the_file_is_archived_raw_and_a_replay_maps_it_again_from_the_archive(shop, sqlite_store):
    result = backfill(sqlite_store, shop)
    with sqlite_store.transaction() as conn:
        receipt = st.get_receipt(conn, result.receipt_id)
        raw = st.raw_content(conn, receipt.raw_sha256)
        attached = st.receipt_raw_attachments(conn, receipt.id)
    assert raw == _shopify_bulk.bulk(shop).files[int(result.operation.id.rsplit("/", 1)[-1])]
    assert b'"__parentId"' in raw and len(attached) == 1  # the shop's time zone answer goes with it
    assert receipt.channel == "shopify" and receipt.outcome == "accepted"
    assert SHOPIFY.map_again(sqlite_store, Partners(), receipt.id, now=NOW) == "mapped again: 0 new, 0 updated"


def test_a_large_file_is_archived_in_chunks(shop, sqlite_store, monkeypatch):
    monkeypatch.setattr("hub.store._archive.CHUNK_SIZE", 4096)
    result = backfill(sqlite_store, shop)
    assert result.bytes > 3 * 4096 and result.summary.orders_new == 23
    assert count(sqlite_store, raw_document_chunks) == -(-result.bytes // 4096)
    assert SHOPIFY.map_again(sqlite_store, Partners(), result.receipt_id, now=NOW) == \
        "mapped again: 0 new, 0 updated"


def test_a_file_over_the_limit_is_refused_and_nothing_is_stored(shop, sqlite_store, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    with pytest.raises(BulkFileTooLarge, match="over the limit of 2000 bytes"):
        backfill(sqlite_store, shop, max_bytes=2000, work_dir=work)
    assert count(sqlite_store, orders) == count(sqlite_store, receipts) == count(sqlite_store, raw_documents) == 0
    assert list(work.iterdir()) == []  # the partial download is gone


def test_a_failed_operation_names_its_error_code_and_stores_nothing(shop, sqlite_store):
    _shopify_bulk.fail_next(shop, "TIMEOUT")
    with pytest.raises(BulkOperationFailed, match="ended FAILED with errorCode TIMEOUT") as failed:
        backfill(sqlite_store, shop)
    assert failed.value.operation.error_code == "TIMEOUT" and failed.value.operation.partial_data_url
    assert count(sqlite_store, orders) == 0


def test_more_bulk_queries_than_the_version_allows_are_refused_clearly(shop):
    with client(shop) as api:
        bulk = ShopifyBulk(api)
        started = [bulk.start_orders(SINCE) for _ in range(5)]  # 2026-01 and later: five at a time
        assert len({op.id for op in started}) == 5
        with pytest.raises(RetriableError, match=r"LIMIT_REACHED.*five bulk queries"):
            bulk.start_orders(SINCE)


def test_hub_backfill_shopify_command(shop, sqlite_store, tmp_path, monkeypatch, capsys):
    from hub.cli import main

    monkeypatch.setenv("HUB_DATABASE_URL", sqlite_url(tmp_path / "hub.sqlite3"))
    monkeypatch.setenv("HUB_SHOPIFY_TRAILHEAD_TOKEN", TOKEN)
    monkeypatch.setenv("HUB_SHOPIFY_TRAILHEAD_URL", shop.base_url)
    _shopify_bulk.bulk(shop).polls = 1  # one real one-second wait before COMPLETED
    st.HubStore(sqlite_url(tmp_path / "hub.sqlite3")).migrate().dispose()
    assert main(["backfill", "shopify", "--partner", "trailhead", "--since", "2026-11-01"]) == 0
    assert "COMPLETED" in (out := capsys.readouterr().out) and "orders 23 new" in out
    assert main(["backfill", "shopify", "--partner", "trailhead", "--since", "2026-11-01"]) == 0
    assert "orders 0 new, 0 updated, 23 unchanged, 0 exceptions" in capsys.readouterr().out
    _shopify_bulk.fail_next(shop, "INTERNAL_SERVER_ERROR")
    assert main(["backfill", "shopify", "--partner", "trailhead", "--since", "2026-11-01"]) == 1
    assert "BulkOperationFailed: shopify bulk operation gid://shopify/BulkOperation/" in capsys.readouterr().err
    assert main(["backfill", "shopify", "--partner", "acme", "--since", "2026-11-01"]) == 2
    assert "is not a partner with a shopify channel (known: trailhead)" in capsys.readouterr().err
    assert main(["backfill", "shopify", "--partner", "trailhead", "--since", "last week"]) == 2


class CraftedFile(ShopifyBulk):
    """A finished operation whose file is ``content`` (what no sandbox order produces)."""

    def __init__(self, api: ShopifyClient, content: bytes) -> None:
        super().__init__(api)
        self.content = content

    def shop_timezone_answer(self) -> bytes:
        return b'{"data":{"shop":{"ianaTimezone":"UTC"}}}'

    def start_orders(self, since: dt.datetime) -> BulkOperation:
        return BulkOperation("gid://shopify/BulkOperation/1", "CREATED")

    def wait(self, operation_id: str) -> BulkOperation:
        return BulkOperation(operation_id, "COMPLETED", object_count=2, url="https://files.example/f.jsonl")

    def download(self, url: str, path: Path, *, max_bytes: int) -> int:
        path.write_bytes(self.content)
        return len(self.content)


def test_a_file_with_a_child_without_its_order_is_queued_whole_and_replayable(shop, sqlite_store):
    from hub.replay import replay_exception

    content = (b'{"id":"gid://shopify/Order/1","legacyResourceId":"1"}\n'
               b'{"__typename":"LineItem","id":"gid://shopify/LineItem/2","__parentId":"gid://shopify/Order/7"}\n')
    with client(shop) as api:
        result = backfill_orders(sqlite_store, api, PROFILE, since=SINCE, max_bytes=10_000,
                                 bulk=CraftedFile(api, content), now=NOW)
    assert result.summary.orders_new == 0 and len(result.summary.exceptions) == 1
    assert result.receipt_id is not None
    with sqlite_store.transaction() as conn:
        (queued,) = st.list_exceptions(conn, limit=10)
        receipt = st.get_receipt(conn, result.receipt_id)
        assert st.raw_content(conn, receipt.raw_sha256) == content  # archived before it was refused
    assert (queued.kind, queued.location, receipt.outcome) == ("rejected_document", "line 2", "rejected")
    assert "__parentId gid://shopify/Order/7 is no order of the file" in queued.reason
    assert count(sqlite_store, orders) == 0
    outcome = replay_exception(sqlite_store, Partners(), queued.id, now=NOW)
    assert not outcome.done and "still failing" in outcome.message


def test_the_sandbox_refuses_what_shopify_refuses_in_bulk_queries(shop):
    from connectors.shopify._bulk import RUN_QUERY_MUTATION

    with client(shop) as api:
        for inner in ("{ orders(first: $n, sortKey: UPDATED_AT) { nodes { id } } }",
                      '{ orders(query: "updated_at:>=\'2026-11-01\'", sortKey: UPDATED_AT) { nodes { id } '
                      "pageInfo { hasNextPage } } }"):
            _, body = api.execute(RUN_QUERY_MUTATION, {"query": inner}, idempotent=False)
            payload = body["data"]["bulkOperationRunQuery"]
            assert payload["bulkOperation"] is None and payload["userErrors"][0]["code"] == "INVALID"
    old = ShopifyClient(ShopifyConfig(shop_domain=shop.shop_domain, access_token=TOKEN, api_version="2025-10",
                                      http={"base_url": shop.base_url}))
    with old as api:
        bulk = ShopifyBulk(api, sleep=lambda _s: None)
        first = bulk.start_orders(SINCE)  # before 2026-01: one bulk query at a time
        with pytest.raises(RetriableError, match=r"OPERATION_IN_PROGRESS: this app already runs one bulk query"):
            bulk.start_orders(SINCE)
        assert bulk.wait(first.id).status == "COMPLETED"  # polled through currentBulkOperation
        bulk.start_orders(SINCE)  # the shop takes the next one once the first is done
