"""Shopify Admin REST client on the wire (respx): paths, headers, Link cursors, call limit, 429s, errors."""

from __future__ import annotations

import datetime as dt
import json
import random

import httpx
import pytest
import respx

from canonical.errors import ConfigurationError, RejectedDocument, RetriableError
from connectors.shopify import (
    ShopifyCallLimiter,
    ShopifyClient,
    ShopifyConfig,
    parse_call_limit,
)
from mappings.connections import shopify_config
from mappings.profiles import ShopifyProfile
from tests.fixtures.clock import FakeClock

SHOP = "acme-store.myshopify.com"
BASE = f"https://{SHOP}"
ORDERS = f"{BASE}/admin/api/2024-10/orders.json"
TOKEN = "shpat_0123456789abcdef"
SINCE = dt.datetime(2024, 10, 1, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=-4)))


def client(clock: FakeClock, **kw) -> ShopifyClient:
    config = ShopifyConfig(shop_domain=SHOP, access_token=TOKEN, **kw)
    return ShopifyClient(config, sleep=clock.sleep, clock=clock, rng=random.Random(1))


def body(*ids: int) -> bytes:
    # Shopify's own spacing and key order: the raw bytes must come back untouched.
    return json.dumps({"orders": [{"id": i, "total_price": "10.00"} for i in ids]}, indent=1).encode()


def link(page_info: str, rel: str = "next", limit: int = 250) -> str:
    return f'<{ORDERS}?limit={limit}&page_info={page_info}>; rel="{rel}"'


@respx.mock
def test_orders_are_read_with_status_any_updated_at_min_and_followed_to_the_last_page(clock):
    route = respx.get(ORDERS).mock(side_effect=[
        httpx.Response(200, content=body(1, 2), headers={"Link": link("p2"), "X-Shopify-Shop-Api-Call-Limit": "1/40"}),
        httpx.Response(200, content=body(3), headers={
            "Link": f'{link("p1", "previous")}, {link("p3")}', "X-Shopify-Shop-Api-Call-Limit": "2/40"}),
        httpx.Response(200, content=body(4), headers={"Link": link("p2", "previous"),
                                                      "X-Shopify-Shop-Api-Call-Limit": "3/40"}),
    ])
    with client(clock) as shop:
        pages = list(shop.iter_order_pages(SINCE))
    assert [[o["id"] for o in p.orders] for p in pages] == [[1, 2], [3], [4]]
    assert pages[0].raw == body(1, 2)
    calls = [c.request for c in route.calls]
    assert dict(calls[0].url.params) == {"status": "any", "updated_at_min": "2024-10-01T08:00:00-04:00", "limit": "250"}
    # With page_info only limit (and fields) may be sent: exactly the link's query.
    assert dict(calls[1].url.params) == {"limit": "250", "page_info": "p2"}
    assert dict(calls[2].url.params) == {"limit": "250", "page_info": "p3"}
    assert pages[1].url_path == "/admin/api/2024-10/orders.json?limit=250&page_info=p2"
    for request in calls:
        assert request.headers["X-Shopify-Access-Token"] == TOKEN
        assert request.url.path == "/admin/api/2024-10/orders.json"
    assert clock.sleeps == []


@respx.mock
def test_api_version_comes_from_the_profile_and_updated_at_max_pins_the_window(clock):
    route = respx.get(f"{BASE}/admin/api/2025-01/orders.json").mock(return_value=httpx.Response(200, content=body()))
    profile = ShopifyProfile(shop_domain=SHOP, api_version="2025-01", access_token_env="T", webhook_secret_env="W")
    config = shopify_config(profile, env={"T": TOKEN}, page_limit=50)
    until = dt.datetime(2024, 10, 2, tzinfo=dt.UTC)
    with ShopifyClient(config, sleep=clock.sleep, clock=clock) as shop:
        (page,) = shop.iter_order_pages(SINCE, updated_at_max=until)
    assert page.orders == []
    params = dict(route.calls[0].request.url.params)
    assert params["limit"] == "50" and params["updated_at_max"] == "2024-10-02T00:00:00+00:00"


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
def test_429_with_retry_after_is_waited_and_the_same_page_asked_again(clock):
    route = respx.get(ORDERS).mock(side_effect=[
        httpx.Response(200, content=body(1), headers={"Link": link("p2"), "X-Shopify-Shop-Api-Call-Limit": "1/40"}),
        httpx.Response(429, json={"errors": "Exceeded 2 calls per second for api client. Reduce request rates to "
                                            "resume uninterrupted service."}, headers={"Retry-After": "2.0"}),
        httpx.Response(200, content=body(2), headers={"X-Shopify-Shop-Api-Call-Limit": "40/40"}),
    ])
    with client(clock) as shop:
        ids = [o["id"] for p in shop.iter_order_pages(SINCE) for o in p.orders]
        assert shop.stats.responses_429 == 1
    assert ids == [1, 2]
    assert clock.sleeps == [2.0]
    assert dict(route.calls[2].request.url.params) == {"limit": "250", "page_info": "p2"}


@respx.mock
def test_client_slows_down_before_the_bucket_is_full(clock):
    """A shop at 38/40 with other apps busy: our next call waits for the bucket to leak, not for a 429."""
    pages = [httpx.Response(200, content=body(n), headers={"Link": link(f"p{n + 1}"),
                                                           "X-Shopify-Shop-Api-Call-Limit": "39/40"})
             for n in range(3)]
    pages.append(httpx.Response(200, content=body(9), headers={"X-Shopify-Shop-Api-Call-Limit": "39/40"}))
    respx.get(ORDERS).mock(side_effect=pages)
    with client(clock) as shop:
        assert len(list(shop.iter_order_pages(SINCE))) == 4
        # 39/40 with one call kept free: each next call waits for one unit to leak at 2/s.
        assert clock.sleeps == [pytest.approx(0.5)] * 3
        assert shop.stats.throttle_waits == 3 and shop.stats.responses_429 == 0


def test_bucket_size_from_the_header_sets_the_leak_rate(clock):
    limiter = ShopifyCallLimiter(clock=clock)
    limiter.after_response(httpx.Response(200, headers={"X-Shopify-Shop-Api-Call-Limit": "399/400"}))
    assert limiter.capacity == 400 and limiter.leak_rate == 20
    assert limiter.before_request() == pytest.approx(1 / 20)
    assert parse_call_limit("32/40") == (32, 40)
    assert parse_call_limit("garbage") is None and parse_call_limit("1/0") is None


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
        (400, {"errors": {"updated_at_min": ["is not a valid date"]}}, RejectedDocument, "updated_at_min"),
    ],
)
@respx.mock
def test_error_bodies_become_hub_errors(clock, status, payload, error, text):
    respx.get(ORDERS).mock(return_value=httpx.Response(status, json=payload))
    with client(clock) as shop, pytest.raises(error, match=text) as info:
        list(shop.iter_order_pages(SINCE))
    assert TOKEN not in str(info.value)


@respx.mock
def test_a_storm_of_503s_gives_up_as_retriable(clock):
    respx.get(ORDERS).mock(return_value=httpx.Response(503, json={"errors": "Service Unavailable"}))
    with client(clock, max_retries=3) as shop, pytest.raises(RetriableError, match="503"):
        list(shop.iter_order_pages(SINCE))


@respx.mock
def test_get_order_by_id(clock):
    raw = b'{"order":{"id":450789469,"name":"#1001"}}'
    respx.get(f"{BASE}/admin/api/2024-10/orders/450789469.json").mock(return_value=httpx.Response(200, content=raw))
    with client(clock) as shop:
        page = shop.get_order(450789469)
    assert page.raw == raw and page.orders[0]["name"] == "#1001"
