"""Shopify bulk operations on the wire (respx): the exact documents sent, polling with backoff, failures, the file."""

from __future__ import annotations

import datetime as dt
import json
import random

import httpx
import pytest
import respx

from canonical.errors import ConfigurationError, FatalError, RejectedDocument, RetriableError
from connectors.shopify import (
    BulkFileTooLarge,
    BulkOperationFailed,
    ShopifyBulk,
    ShopifyClient,
    ShopifyConfig,
    assemble_orders,
    bulk_orders_query,
)
from connectors.shopify._bulk import (
    BULK_OPERATION_QUERY,
    CURRENT_BULK_OPERATION_QUERY,
    RUN_QUERY_MUTATION,
    SHOP_TIMEZONE_QUERY,
)
from tests.fixtures.clock import FakeClock

SHOP = "acme-store.myshopify.com"
GRAPHQL = f"https://{SHOP}/admin/api/2026-10/graphql.json"
TOKEN = "shpat_0123456789abcdef"
FILE_URL = "https://storage.googleapis.com/shopify-tiers-assets-prod-us-east1/bulk-op/orders.jsonl?X-Goog-Signature=abc"
OP = "gid://shopify/BulkOperation/720918"
SINCE = dt.datetime(2026, 11, 1, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
COST = {"cost": {"requestedQueryCost": 10, "actualQueryCost": 10, "throttleStatus": {
    "maximumAvailable": 2000.0, "currentlyAvailable": 1990, "restoreRate": 100.0}}}


def bulk(clock: FakeClock, version: str = "2026-10") -> ShopifyBulk:
    api = ShopifyClient(ShopifyConfig(shop_domain=SHOP, access_token=TOKEN, api_version=version, http={}),
                        sleep=clock.sleep, clock=clock, rng=random.Random(1))
    return ShopifyBulk(api, sleep=clock.sleep, clock=clock)


def answer(data: dict) -> httpx.Response:
    return httpx.Response(200, json={"data": data, "extensions": COST})


def started(status: str = "CREATED") -> httpx.Response:
    return answer({"bulkOperationRunQuery": {"bulkOperation": {"id": OP, "status": status}, "userErrors": []}})


def operation(status: str, **fields) -> httpx.Response:
    node = {"id": OP, "status": status, "errorCode": None, "objectCount": "0", "rootObjectCount": "0",
            "fileSize": None, "url": None, "partialDataUrl": None, "createdAt": "2026-12-04T10:00:00Z",
            "completedAt": None, **fields}
    return answer({"bulkOperation": node})


def sent(call) -> dict:
    return json.loads(call.request.content)


@respx.mock
def test_the_bulk_query_is_started_with_the_documented_mutation_and_polled_with_backoff(clock):
    route = respx.post(GRAPHQL).mock(side_effect=[
        started(), operation("CREATED"), operation("RUNNING", objectCount="120"), operation("RUNNING"),
        operation("COMPLETED", objectCount="412", url=FILE_URL, fileSize="80213"),
    ])
    client = bulk(clock)
    op = client.wait(client.start_orders(SINCE).id)
    assert (op.status, op.object_count, op.url) == ("COMPLETED", 412, FILE_URL)
    start = sent(route.calls[0])
    assert start == {"query": RUN_QUERY_MUTATION, "variables": {"query": bulk_orders_query(SINCE)}}
    assert "bulkOperationRunQuery(query: $query, groupObjects: false)" in start["query"]
    assert "userErrors { field message code }" in start["query"]
    inner = start["variables"]["query"]
    # One top-level connection, the window inlined (bulk queries take no variables), no pageInfo.
    assert inner.startswith('{\n  orders(query: "updated_at:>=\'2026-11-01T00:00:00Z\'", sortKey: UPDATED_AT) {')
    assert "$" not in inner and "pageInfo" not in inner and "first:" not in inner
    assert "lineItems {\n        nodes { __typename" in inner and "shippingLines {\n        nodes { __typename" in inner
    polls = [sent(call) for call in route.calls[1:]]
    assert polls == [{"query": BULK_OPERATION_QUERY, "variables": {"id": OP}}] * 4
    assert "bulkOperation(id: $id) { id status errorCode objectCount" in BULK_OPERATION_QUERY
    assert "url partialDataUrl" in BULK_OPERATION_QUERY
    assert clock.sleeps == [1.0, 2.0, 4.0]  # doubling between polls, none after the final status
    assert all(call.request.headers["X-Shopify-Access-Token"] == TOKEN for call in route.calls)


@respx.mock
def test_polls_are_capped_and_a_never_ending_operation_gives_up(clock):
    respx.post(GRAPHQL).mock(side_effect=[operation("RUNNING")] * 50)
    client = bulk(clock)
    client.max_poll_seconds, client.timeout_seconds = 8, 60
    with pytest.raises(RetriableError, match="still RUNNING after 60s"):
        client.wait(OP)
    assert clock.sleeps[:5] == [1.0, 2.0, 4.0, 8.0, 8.0] and sum(clock.sleeps) <= 60


@respx.mock
def test_a_failed_operation_is_raised_with_its_error_code(clock):
    respx.post(GRAPHQL).mock(side_effect=[
        operation("RUNNING"),
        operation("FAILED", errorCode="ACCESS_DENIED", partialDataUrl=FILE_URL),
    ])
    with pytest.raises(BulkOperationFailed, match=r"720918 ended FAILED with errorCode ACCESS_DENIED \(a partial "
                                                  r"file exists; it is not read\)") as failed:
        bulk(clock).wait(OP)
    assert failed.value.operation.error_code == "ACCESS_DENIED"
    assert not respx.get(FILE_URL).called


@pytest.mark.parametrize("status", ["CANCELED", "EXPIRED"])
@respx.mock
def test_canceled_and_expired_operations_are_failures_too(clock, status):
    respx.post(GRAPHQL).mock(return_value=operation(status))
    with pytest.raises(BulkOperationFailed, match=f"ended {status}$"):
        bulk(clock).wait(OP)


def refused(code: str, message: str) -> httpx.Response:
    return answer({"bulkOperationRunQuery": {"bulkOperation": None, "userErrors": [
        {"field": None, "code": code, "message": message}]}})


@respx.mock
def test_an_operation_already_running_is_a_clear_user_error(clock):
    respx.post(f"https://{SHOP}/admin/api/2025-10/graphql.json").mock(return_value=refused(
        "OPERATION_IN_PROGRESS", f"A bulk query operation for this app and shop is already in progress: {OP}."))
    with pytest.raises(RetriableError, match=r"already in progress: .*720918\. \(OPERATION_IN_PROGRESS: this app "
                                             r"already runs one bulk query on the shop, the most API 2025-10"):
        bulk(clock, "2025-10").start_orders(SINCE)


@respx.mock
def test_from_2026_01_the_limit_is_five_bulk_queries(clock):
    route = respx.post(GRAPHQL).mock(return_value=refused("LIMIT_REACHED", "Bulk operations limit reached."))
    with pytest.raises(RetriableError, match=r"LIMIT_REACHED: this app already runs five bulk queries"):
        bulk(clock).start_orders(SINCE)
    assert route.call_count == 1  # a mutation: never sent twice by the client


@respx.mock
def test_an_invalid_bulk_query_is_a_bug_not_a_retry(clock):
    respx.post(GRAPHQL).mock(return_value=answer({"bulkOperationRunQuery": {"bulkOperation": None, "userErrors": [
        {"field": ["query"], "code": "INVALID", "message": "Invalid bulk query: pageInfo field is not supported"}]}}))
    with pytest.raises(FatalError, match="pageInfo field is not supported \\(INVALID; API 2026-10\\)"):
        bulk(clock).start_orders(SINCE)


@respx.mock
def test_versions_before_2026_01_poll_current_bulk_operation(clock):
    old = f"https://{SHOP}/admin/api/2025-10/graphql.json"
    route = respx.post(old).mock(side_effect=[
        answer({"currentBulkOperation": {"id": OP, "status": "COMPLETED", "url": None, "objectCount": "0"}})])
    op = bulk(clock, "2025-10").wait(OP)
    assert op.url is None and sent(route.calls[0]) == {"query": CURRENT_BULK_OPERATION_QUERY, "variables": {}}
    assert "currentBulkOperation(type: QUERY)" in CURRENT_BULK_OPERATION_QUERY


@respx.mock
def test_the_shop_time_zone_answer_is_kept_raw(clock):
    body = b'{"data":{"shop":{"ianaTimezone":"Europe/Berlin"}}}'
    route = respx.post(GRAPHQL).mock(return_value=httpx.Response(200, content=body))
    assert bulk(clock).shop_timezone_answer() == body
    assert sent(route.calls[0]) == {"query": SHOP_TIMEZONE_QUERY, "variables": {}}


@respx.mock
def test_the_file_is_streamed_to_disk_without_the_access_token(clock, tmp_path):
    content = b"".join(b'{"id":"gid://shopify/Order/%d"}\n' % n for n in range(500))
    route = respx.get(FILE_URL).mock(return_value=httpx.Response(200, stream=httpx.ByteStream(content)))
    path = tmp_path / "orders.jsonl"
    assert bulk(clock).download(FILE_URL, path, max_bytes=len(content)) == len(content)
    assert path.read_bytes() == content
    assert "X-Shopify-Access-Token" not in route.calls[0].request.headers


@respx.mock
def test_a_file_over_the_limit_is_refused_while_streaming(clock, tmp_path):
    sent_blocks = []

    def chunks():  # no Content-Length: only counting what arrives finds the size
        for n in range(100):
            sent_blocks.append(n)
            yield b"x" * 1000

    response = httpx.Response(200, content=chunks())
    assert "Content-Length" not in response.headers
    respx.get(FILE_URL).mock(return_value=response)
    path = tmp_path / "orders.jsonl"
    with pytest.raises(BulkFileTooLarge, match="over the limit of 5000 bytes: raise --max-bytes"):
        bulk(clock).download(FILE_URL, path, max_bytes=5000)
    assert not path.exists() and len(sent_blocks) < 100  # reading stopped at the limit


@respx.mock
def test_a_declared_length_over_the_limit_is_refused_before_reading(clock, tmp_path):
    respx.get(FILE_URL).mock(return_value=httpx.Response(200, content=b"x" * 9000))
    with pytest.raises(BulkFileTooLarge, match=r"over the limit of 5000 bytes \(Content-Length 9000\)"):
        bulk(clock).download(FILE_URL, tmp_path / "f.jsonl", max_bytes=5000)


def test_a_file_url_that_is_not_https_is_refused(clock, tmp_path):
    with pytest.raises(ConfigurationError, match="not HTTPS"):
        bulk(clock).download("http://storage.example.com/f.jsonl", tmp_path / "f.jsonl", max_bytes=10)


def test_orders_are_reassembled_from_ungrouped_lines():
    lines = [
        b'{"id":"gid://shopify/Order/1","name":"#1001"}\n',
        b'{"__typename":"LineItem","id":"gid://shopify/LineItem/12","sku":"B","__parentId":"gid://shopify/Order/2"}\n',
        b'{"id":"gid://shopify/Order/2","name":"#1002"}\n',
        b'{"__typename":"LineItem","id":"gid://shopify/LineItem/11","sku":"A","__parentId":"gid://shopify/Order/1"}\n',
        b'\n',
        b'{"__typename":"ShippingLine","title":"Standard","__parentId":"gid://shopify/Order/1"}\n',
        b'{"__typename":"LineItem","id":"gid://shopify/LineItem/13","sku":"C","__parentId":"gid://shopify/Order/2"}\n',
    ]
    assembled = list(assemble_orders(lines))
    assert [n for n, _ in assembled] == [1, 3]
    first, second = (node for _, node in assembled)
    assert first["lineItems"] == {"nodes": [{"id": "gid://shopify/LineItem/11", "sku": "A"}],
                                  "pageInfo": {"hasNextPage": False}}
    assert first["shippingLines"]["nodes"] == [{"title": "Standard"}]
    assert [i["sku"] for i in second["lineItems"]["nodes"]] == ["B", "C"] and second["shippingLines"]["nodes"] == []


def test_an_orphan_child_or_a_broken_line_rejects_the_file_naming_the_line():
    with pytest.raises(RejectedDocument, match="line 2: __parentId gid://shopify/Order/9 is no order"):
        list(assemble_orders([b'{"id":"gid://shopify/Order/1"}',
                              b'{"__typename":"LineItem","__parentId":"gid://shopify/Order/9"}']))
    with pytest.raises(RejectedDocument, match="line 2 is not JSON"):
        list(assemble_orders([b'{"id":"gid://shopify/Order/1"}', b'{"id": ']))
