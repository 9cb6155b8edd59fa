"""Shopify GraphQL Admin client on the wire (respx): the orders query, cursors, cost pacing, THROTTLED, errors."""

from __future__ import annotations

import datetime as dt
import json
import random

import httpx
import pytest
import respx

from canonical.errors import ConfigurationError, FatalError, RejectedDocument, RetriableError
from connectors.shopify import (
    ShopifyClient,
    ShopifyConfig,
    ShopifyCostLimiter,
    query_cost,
    raise_for_user_errors,
)
from mappings.connections import shopify_config
from mappings.profiles import ShopifyProfile
from tests.fixtures.clock import FakeClock

SHOP = "acme-store.myshopify.com"
BASE = f"https://{SHOP}"
GRAPHQL = f"{BASE}/admin/api/2026-10/graphql.json"
TOKEN = "shpat_0123456789abcdef"
SINCE = dt.datetime(2024, 10, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=-4)))


def client(clock: FakeClock, **kw) -> ShopifyClient:
    config = ShopifyConfig(shop_domain=SHOP, access_token=TOKEN, **kw)
    return ShopifyClient(config, sleep=clock.sleep, clock=clock, rng=random.Random(1))


def cost(available: float = 1900, requested: float = 100, actual: float | None = 40) -> dict:
    return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                     "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": available,
                                        "restoreRate": 100.0}}}


def page(*ids: int, after: str | None = None, available: float = 1900, requested: float = 100) -> bytes:
    # Shopify's own spacing and key order: the raw bytes must come back untouched.
    nodes = [{"id": f"gid://shopify/Order/{i}", "legacyResourceId": str(i)} for i in ids]
    info = {"hasNextPage": after is not None, "endCursor": after}
    return json.dumps({"data": {"shop": {"ianaTimezone": "America/New_York"},
                                "orders": {"nodes": nodes, "pageInfo": info}},
                       "extensions": cost(available, requested)}, indent=1).encode()


def throttled(available: float, requested: float = 935) -> httpx.Response:
    return httpx.Response(200, json={"errors": [{"message": "Throttled", "extensions": {
        "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
        "extensions": cost(available, requested, None)})


def sent(call) -> dict:
    return json.loads(call.request.content)


@respx.mock
def test_orders_are_queried_by_updated_at_and_followed_over_three_pages(clock):
    route = respx.post(GRAPHQL).mock(side_effect=[
        httpx.Response(200, content=page(1, 2, after="c2")),
        httpx.Response(200, content=page(3, after="c3")),
        httpx.Response(200, content=page(4)),
    ])
    with client(clock) as shop:
        pages = list(shop.iter_order_pages(SINCE))
    assert [[o["legacyResourceId"] for o in p.orders] for p in pages] == [["1", "2"], ["3"], ["4"]]
    assert pages[0].raw == page(1, 2, after="c2") and [p.end_cursor for p in pages] == ["c2", "c3", None]
    bodies = [sent(call) for call in route.calls]
    assert [b["variables"]["after"] for b in bodies] == [None, "c2", "c3"]
    first = bodies[0]["variables"]
    assert first == {"first": 4, "after": None, "query": "updated_at:>='2024-10-01T12:00:00Z'", "lineItems": 20,
                     "shippingLines": 5}
    query = bodies[0]["query"]
    assert "orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT)" in query
    for field in ("pageInfo { hasNextPage endCursor }", "legacyResourceId", "currentQuantity", "sku",
                  "originalUnitPriceSet { shopMoney { amount currencyCode } }", "cancelledAt", "ianaTimezone"):
        assert field in query, field
    assert pages[1].url_path == "/admin/api/2026-10/graphql.json orders after c2"
    for call in route.calls:
        assert call.request.method == "POST" and call.request.headers["X-Shopify-Access-Token"] == TOKEN
        assert call.request.url.path == "/admin/api/2026-10/graphql.json"
        assert call.request.headers["Content-Type"] == "application/json"
    assert clock.sleeps == []


@respx.mock
def test_api_version_comes_from_the_profile_and_updated_at_max_pins_the_window(clock):
    route = respx.post(f"{BASE}/admin/api/2026-07/graphql.json").mock(return_value=httpx.Response(200, content=page()))
    profile = ShopifyProfile(shop_domain=SHOP, api_version="2026-07", access_token_env="T", webhook_secret_env="W")
    config = shopify_config(profile, env={"T": TOKEN}, page_limit=2)
    until = dt.datetime(2024, 10, 2, tzinfo=dt.UTC)
    with ShopifyClient(config, sleep=clock.sleep, clock=clock) as shop:
        (only,) = shop.iter_order_pages(SINCE, updated_at_max=until)
    assert only.orders == [] and only.end_cursor is None
    variables = sent(route.calls[0])["variables"]
    assert variables["first"] == 2
    assert variables["query"] == "updated_at:>='2024-10-01T12:00:00Z' AND updated_at:<='2024-10-02T00:00:00Z'"


def test_the_default_version_is_the_current_stable_graphql_release():
    profile = ShopifyProfile(shop_domain=SHOP, access_token_env="T", webhook_secret_env="W")
    assert profile.api_version == "2026-10" == shopify_config(profile, env={"T": TOKEN}).api_version


def test_profile_without_the_token_in_the_environment_is_a_configuration_error():
    profile = ShopifyProfile(shop_domain=SHOP, access_token_env="SHOP_TOKEN", webhook_secret_env="W",
                             base_url_env="SHOP_URL")
    with pytest.raises(ConfigurationError, match="SHOP_TOKEN"):
        shopify_config(profile, env={})
    config = shopify_config(profile, env={"SHOP_TOKEN": TOKEN, "SHOP_URL": "http://127.0.0.1:9"})
    assert config.http_config().base_url == "http://127.0.0.1:9"
    assert config.access_token.get_secret_value() == TOKEN and TOKEN not in repr(config)


def test_naive_timestamps_are_refused(clock):
    with client(clock) as shop, pytest.raises(ValueError, match="timezone"):
        next(shop.iter_order_pages(dt.datetime(2024, 10, 1)))


@respx.mock
def test_throttled_waits_what_the_bucket_needs_then_asks_the_same_page_again(clock):
    route = respx.post(GRAPHQL).mock(side_effect=[
        httpx.Response(200, content=page(1, after="c2", available=1500, requested=935)),
        throttled(available=435),  # another app drained the bucket meanwhile
        httpx.Response(200, content=page(2, available=60, requested=935)),
    ])
    with client(clock) as shop:
        ids = [o["legacyResourceId"] for p in shop.iter_order_pages(SINCE) for o in p.orders]
        assert shop.stats.responses_429 == 1 and shop.stats.retries == 1
    assert ids == ["1", "2"]
    # 935 points requested, 435 available, 100 restored per second: 5 seconds.
    assert clock.sleeps == [pytest.approx(5.0)]
    assert sent(route.calls[1]) == sent(route.calls[2]) and sent(route.calls[2])["variables"]["after"] == "c2"


@respx.mock
def test_a_throttle_longer_than_the_backoff_cap_is_handed_back_with_its_wait(clock):
    respx.post(GRAPHQL).mock(return_value=throttled(available=0, requested=935))
    with client(clock, backoff_cap_seconds=5) as shop, pytest.raises(RetriableError, match="throttled") as info:
        list(shop.iter_order_pages(SINCE))
    assert info.value.retry_after == pytest.approx(9.35) and clock.sleeps == []


@respx.mock
def test_endless_throttling_gives_up_as_retriable_after_max_retries(clock):
    respx.post(GRAPHQL).mock(return_value=throttled(available=900, requested=935))
    with client(clock, max_retries=3) as shop, pytest.raises(RetriableError):
        list(shop.iter_order_pages(SINCE))
    assert clock.sleeps == [pytest.approx(0.35)] * 3


@respx.mock
def test_the_client_waits_for_the_cost_it_will_need_before_shopify_would_throttle(clock):
    """The bucket is low after a page: the next query waits until its requested cost is back, no THROTTLED."""
    respx.post(GRAPHQL).mock(side_effect=[
        httpx.Response(200, content=page(1, after="c2", available=200, requested=935)),
        httpx.Response(200, content=page(2, after="c3", available=1000, requested=935)),
        httpx.Response(200, content=page(3, available=1000, requested=935)),
    ])
    with client(clock) as shop:
        assert len(list(shop.iter_order_pages(SINCE))) == 3
        assert shop.stats.responses_429 == 0
    # 200 of 2000 available, 935 needed at 100/s: 7.35 s; then 1000 available, no wait.
    assert clock.sleeps == [pytest.approx(7.35)]


def test_the_cost_limiter_learns_the_plan_from_the_answers(clock):
    limiter = ShopifyCostLimiter(clock=clock)
    report = query_cost({"extensions": {"cost": {"requestedQueryCost": 300, "actualQueryCost": 12, "throttleStatus": {
        "maximumAvailable": 20000.0, "currentlyAvailable": 100, "restoreRate": 1000.0}}}})
    limiter.observe_cost(report)
    assert limiter.capacity == 20000 and limiter.leak_rate == 1000 and limiter.expected_cost == 300
    # 100 of 20,000 points left, 300 needed, 1,000 restored per second: 0.2 s, as the report says.
    assert report is not None and report.wait_for(300) == pytest.approx(0.2)
    assert limiter.before_request() == pytest.approx(0.2)
    clock.sleep(10)
    assert limiter.before_request() == 0
    assert query_cost({"extensions": {"cost": {"throttleStatus": {"maximumAvailable": "x"}}}}) is None
    assert query_cost({"data": {}}) is None


@pytest.mark.parametrize(
    ("errors", "error", "text"),
    [
        ([{"message": "Field 'bogus' doesn't exist on type 'Order'",
           "extensions": {"code": "undefinedField", "typeName": "Order", "fieldName": "bogus"}}],
         FatalError, "bogus.*API version 2026-10"),
        ([{"message": "Access denied for orders field. Required access: `read_orders` access scope.",
           "extensions": {"code": "ACCESS_DENIED"}}], ConfigurationError, "read_orders"),
        ([{"message": "Query cost is 5002, which exceeds the single query max cost limit (1000).",
           "extensions": {"code": "MAX_COST_EXCEEDED", "cost": 5002, "maxCost": 1000}}],
         ConfigurationError, "line_items_limit"),
        ([{"message": "Shop is inactive", "extensions": {"code": "SHOP_INACTIVE"}}], ConfigurationError, "inactive"),
    ],
)
@respx.mock
def test_graphql_errors_in_a_200_answer_become_hub_errors(clock, errors, error, text):
    respx.post(GRAPHQL).mock(return_value=httpx.Response(200, json={"errors": errors, "extensions": cost()}))
    with client(clock) as shop, pytest.raises(error, match=text) as info:
        list(shop.iter_order_pages(SINCE))
    assert TOKEN not in str(info.value) and clock.sleeps == []


@pytest.mark.parametrize(
    ("status", "payload", "error", "text"),
    [
        (401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"},
         ConfigurationError, "Invalid API key"),
        (403, {"errors": "[API] This action requires merchant approval for read_orders scope."},
         ConfigurationError, "read_orders"),
        (404, {"errors": "Not Found"}, ConfigurationError, "Not Found"),
        (402, {"errors": "Unavailable Shop"}, ConfigurationError, "frozen"),
        (423, {"errors": "Locked"}, ConfigurationError, "locked"),
        (400, {"errors": "Bad Request"}, RejectedDocument, "Bad Request"),
    ],
)
@respx.mock
def test_http_error_statuses_become_hub_errors(clock, status, payload, error, text):
    route = respx.post(GRAPHQL).mock(return_value=httpx.Response(status, json=payload))
    with client(clock) as shop, pytest.raises(error, match=text) as info:
        list(shop.iter_order_pages(SINCE))
    assert TOKEN not in str(info.value) and route.call_count == 1


@respx.mock
def test_a_storm_of_503s_gives_up_as_retriable(clock):
    route = respx.post(GRAPHQL).mock(return_value=httpx.Response(503, json={"errors": "Service Unavailable"}))
    with client(clock, max_retries=3) as shop, pytest.raises(RetriableError, match="503"):
        list(shop.iter_order_pages(SINCE))
    assert route.call_count == 4


@respx.mock
def test_an_unreadable_answer_is_handed_on_and_the_same_page_asked_once_more(clock):
    route = respx.post(GRAPHQL).mock(side_effect=[
        httpx.Response(200, content=page(1, after="c2")),
        httpx.Response(200, content=b"<html>502 Bad Gateway</html>"),
        httpx.Response(200, content=page(2)),
    ])
    with client(clock) as shop:
        pages = list(shop.iter_order_pages(SINCE))
    assert [p.unreadable is not None for p in pages] == [False, True, False]
    assert pages[1].raw == b"<html>502 Bad Gateway</html>" and "not JSON" in (pages[1].unreadable or "")
    assert [sent(c)["variables"]["after"] for c in route.calls] == [None, "c2", "c2"]


@respx.mock
def test_two_unreadable_answers_in_a_row_end_the_read(clock):
    respx.post(GRAPHQL).mock(return_value=httpx.Response(200, json={"data": {"orders": None}}))
    with client(clock) as shop:
        pages = list(shop.iter_order_pages(SINCE))
    assert len(pages) == 2 and all("data.orders.nodes" in (p.unreadable or "") for p in pages)


@respx.mock
def test_shopifys_internal_errors_are_asked_again_then_given_up_as_retriable(clock):
    internal = httpx.Response(200, json={"errors": [{"message": "Internal error. Looks like something went wrong.",
                                                     "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]})
    route = respx.post(GRAPHQL).mock(side_effect=[internal, httpx.Response(200, content=page(1))])
    with client(clock) as shop:
        assert [o["legacyResourceId"] for p in shop.iter_order_pages(SINCE) for o in p.orders] == ["1"]
    assert route.call_count == 2 and len(clock.sleeps) == 1
    respx.post(GRAPHQL).mock(return_value=internal)
    with client(clock, max_retries=2) as shop, pytest.raises(RetriableError, match="Internal error"):
        list(shop.iter_order_pages(SINCE))


@respx.mock
def test_more_pages_without_a_cursor_is_unreadable_not_the_end(clock):
    broken = json.dumps({"data": {"orders": {"nodes": [{"id": "gid://shopify/Order/1"}],
                                             "pageInfo": {"hasNextPage": True, "endCursor": None}}}}).encode()
    respx.post(GRAPHQL).mock(return_value=httpx.Response(200, content=broken))
    with client(clock) as shop:
        pages = list(shop.iter_order_pages(SINCE))
    assert len(pages) == 2 and all("hasNextPage without endCursor" in (p.unreadable or "") for p in pages)


@respx.mock
def test_get_order_by_numeric_id(clock):
    raw = json.dumps({"data": {"shop": {"ianaTimezone": "UTC"}, "order": {
        "id": "gid://shopify/Order/450789469", "legacyResourceId": "450789469", "name": "#1001"}},
        "extensions": cost()}).encode()
    route = respx.post(GRAPHQL).mock(return_value=httpx.Response(200, content=raw))
    with client(clock) as shop:
        found = shop.get_order(450789469)
    assert found.raw == raw and found.orders[0]["name"] == "#1001"
    assert sent(route.calls[0])["variables"]["id"] == "gid://shopify/Order/450789469"
    respx.post(GRAPHQL).mock(return_value=httpx.Response(200, json={"data": {"order": None}}))
    with client(clock) as shop, pytest.raises(ConfigurationError, match="no order 1"):
        shop.get_order(1)


def test_user_errors_of_a_mutation_are_a_rejected_document():
    raise_for_user_errors({"order": {"id": "gid://shopify/Order/1"}, "userErrors": []}, mutation="orderUpdate")
    with pytest.raises(RejectedDocument, match=r"orderUpdate: input\.tags: Tags is invalid"):
        raise_for_user_errors({"order": None, "userErrors": [{"field": ["input", "tags"],
                                                               "message": "Tags is invalid"}]}, mutation="orderUpdate")


# -- a mutation (idempotent=False) is never sent twice once it may have reached Shopify -------------

MUTATION = "mutation { fulfillmentCreate(fulfillment: {}) { fulfillment { id } userErrors { field message } } }"


def internal_error(code: str = "INTERNAL_SERVER_ERROR") -> httpx.Response:
    return httpx.Response(200, json={"errors": [{"message": "Internal error.", "extensions": {"code": code}}]})


@pytest.mark.parametrize("answer", [
    internal_error(), internal_error("TIMEOUT"),
    httpx.Response(503, json={"errors": "Service Unavailable"}),
    httpx.Response(500, json={"errors": "Internal Server Error"}),
    httpx.ReadTimeout("read timed out"),
], ids=["internal", "timeout-code", "503", "500", "read-timeout"])
@respx.mock
def test_a_mutation_is_not_sent_again_after_it_may_have_reached_shopify(clock, answer):
    route = respx.post(GRAPHQL).mock(side_effect=[answer, httpx.Response(200, json={"data": {}})])
    with client(clock, max_retries=3) as shop, pytest.raises(RetriableError) as info:
        shop.execute(MUTATION, {}, idempotent=False)
    assert route.call_count == 1 and info.value.write_in_doubt is True and clock.sleeps == []


@pytest.mark.parametrize("answer", [
    lambda: throttled(available=900, requested=935),
    lambda: httpx.Response(429, headers={"Retry-After": "2"}, json={"errors": "Exceeded 2 calls per second"}),
    lambda: httpx.ConnectError("connection refused"),
], ids=["THROTTLED", "429", "connect-error"])
@respx.mock
def test_a_mutation_refused_before_it_ran_is_sent_again(clock, answer):
    done = httpx.Response(200, json={"data": {"fulfillmentCreate": {"fulfillment": {"id": "gid://x/1"}}}})
    route = respx.post(GRAPHQL).mock(side_effect=[answer(), done])
    with client(clock, max_retries=3) as shop:
        _, body = shop.execute(MUTATION, {}, idempotent=False)
    assert route.call_count == 2 and body["data"]["fulfillmentCreate"]["fulfillment"]["id"] == "gid://x/1"


@respx.mock
def test_a_mutation_refused_before_it_ran_too_often_is_retriable_and_not_in_doubt(clock):
    route = respx.post(GRAPHQL).mock(return_value=httpx.Response(429, json={"errors": "Exceeded"}))
    with client(clock, max_retries=2) as shop, pytest.raises(RetriableError) as info:
        shop.execute(MUTATION, {}, idempotent=False)
    assert route.call_count == 3 and info.value.write_in_doubt is False


@respx.mock
def test_a_query_is_still_asked_again_after_a_timeout_or_a_5xx(clock):
    route = respx.post(GRAPHQL).mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(503),
                                                  internal_error("TIMEOUT"), httpx.Response(200, content=page(1))])
    with client(clock, max_retries=3) as shop:
        assert [o["legacyResourceId"] for p in shop.iter_order_pages(SINCE) for o in p.orders] == ["1"]
    assert route.call_count == 4
