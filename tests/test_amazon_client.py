"""The marketplace client on the wire (respx): exact requests, LWA token caching, NextToken paging, limits, errors."""

from __future__ import annotations

import datetime as dt
import json
import random
import urllib.parse
from pathlib import Path

import httpx
import pytest
import respx

from canonical.errors import ConfigurationError, FatalError, RejectedDocument, RetriableError
from connectors.amazon import AmazonClient, AmazonConfig, OperationLimit
from mappings.connections import amazon_config
from mappings.profiles import PartnerProfile
from tests.fixtures.clock import FakeClock
from tests.present import present

DATA = Path(__file__).parent / "data" / "amazon"
API = "https://sellingpartnerapi-na.amazon.com"
TOKEN_URL = "https://api.amazon.com/auth/o2/token"
ORDERS_URL = f"{API}/orders/v0/orders"
SINCE = dt.datetime(2024, 5, 2, 8, 0, tzinfo=dt.UTC)


@pytest.fixture
def time_(clock: FakeClock) -> FakeClock:
    return clock


def make_client(time_: FakeClock, **overrides) -> AmazonClient:
    config = AmazonConfig(
        client_id="amzn1.application-oa2-client.demo",
        client_secret="secret-value",
        refresh_token="Atzr|refresh-value",
        marketplace_ids=("ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"),
        **overrides,
    )
    return AmazonClient(config, sleep=time_.sleep, clock=time_, rng=random.Random(7))


def token_response(token: str = "Atza|token-1", expires_in: int = 3600) -> httpx.Response:
    return httpx.Response(200, json={"access_token": token, "refresh_token": "Atzr|refresh-value",
                                     "token_type": "bearer", "expires_in": expires_in})


def raw(name: str) -> bytes:
    return (DATA / name).read_bytes()


def sp_error(status: int, code: str, message: str, **headers: str) -> httpx.Response:
    body = {"errors": [{"code": code, "message": message, "details": ""}]}
    return httpx.Response(status, json=body, headers=headers)


def params(call) -> dict[str, str]:
    return dict(call.request.url.params.multi_items())


@respx.mock
def test_get_orders_follows_next_token_with_exact_requests_and_keeps_raw_bytes(time_):
    token = respx.post(TOKEN_URL).mock(return_value=token_response())
    orders = respx.get(ORDERS_URL).mock(side_effect=[
        httpx.Response(200, content=raw("get_orders_page1.json"), headers={"x-amzn-RateLimit-Limit": "0.0167"}),
        httpx.Response(200, content=raw("get_orders_page2.json")),
    ])
    with make_client(time_) as client:
        pages = list(client.iter_order_pages(SINCE))

    assert [len(p.orders) for p in pages] == [3, 3]
    assert pages[0].raw == raw("get_orders_page1.json") and pages[1].raw == raw("get_orders_page2.json")
    assert pages[0].next_token == "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4+/=" and pages[1].next_token is None
    first, second = orders.calls
    assert first.request.url.path == "/orders/v0/orders"
    assert params(first) == {"MarketplaceIds": "ATVPDKIKX0DER,A2EUQ1WTGCTBG2",
                             "LastUpdatedAfter": "2024-05-02T08:00:00Z", "MaxResultsPerPage": "100"}
    # With NextToken the API ignores every other criterion; MarketplaceIds is required on every call.
    assert params(second) == {"MarketplaceIds": "ATVPDKIKX0DER,A2EUQ1WTGCTBG2",
                              "NextToken": "2YgYW55IGNhcm5hbCBwbGVhc3VyZS4+/="}
    assert "NextToken=2YgYW55IGNhcm5hbCBwbGVhc3VyZS4%2B%2F%3D" in str(second.request.url)
    for call in orders.calls:
        assert call.request.headers["x-amz-access-token"] == "Atza|token-1"
        assert "authorization" not in call.request.headers
    # One token for both pages, asked for with the documented refresh-token grant.
    assert token.call_count == 1
    form = urllib.parse.parse_qs(token.calls[0].request.content.decode())
    assert form == {"grant_type": ["refresh_token"], "refresh_token": ["Atzr|refresh-value"],
                    "client_id": ["amzn1.application-oa2-client.demo"], "client_secret": ["secret-value"]}
    assert token.calls[0].request.headers["content-type"] == "application/x-www-form-urlencoded"


@respx.mock
def test_get_order_items_follows_its_own_next_token_alone(time_):
    respx.post(TOKEN_URL).mock(return_value=token_response())
    order_id = "113-0000001-0000001"
    route = respx.get(f"{ORDERS_URL}/{order_id}/orderItems").mock(side_effect=[
        httpx.Response(200, content=raw("order_items_113-0000001-0000001_page1.json")),
        httpx.Response(200, content=raw("order_items_113-0000001-0000001_page2.json")),
    ])
    with make_client(time_) as client:
        pages = client.order_item_pages(order_id)
    assert [p.amazon_order_id for p in pages] == [order_id, order_id]
    assert [i["SellerSKU"] for p in pages for i in p.items] == ["WID-100", "GAD-300"]
    assert pages[1].raw == raw("order_items_113-0000001-0000001_page2.json")
    assert params(route.calls[0]) == {}
    assert params(route.calls[1]) == {"NextToken": "MRgZW55IGNhcm5hbCBwbGVhc3VyZS6="}


@respx.mock
def test_access_token_is_cached_until_shortly_before_it_expires(time_):
    token = respx.post(TOKEN_URL).mock(side_effect=[token_response("Atza|one", 3600), token_response("Atza|two", 3600)])
    route = respx.get(f"{ORDERS_URL}/113-0000002-0000002/orderItems").mock(
        return_value=httpx.Response(200, content=raw("order_items_113-0000002-0000002.json")))
    with make_client(time_, token_margin_seconds=60) as client:
        client.order_items("113-0000002-0000002")
        time_.now += 3539  # still 61 s left: the cached token goes
        client.order_items("113-0000002-0000002")
        time_.now += 2  # within the margin: a new one is fetched first
        client.order_items("113-0000002-0000002")
    assert token.call_count == 2
    assert [c.request.headers["x-amz-access-token"] for c in route.calls] == ["Atza|one", "Atza|one", "Atza|two"]


@respx.mock
def test_expired_token_403_refreshes_once_and_retries(time_):
    token = respx.post(TOKEN_URL).mock(side_effect=[token_response("Atza|old"), token_response("Atza|new")])
    route = respx.get(f"{ORDERS_URL}/113-0000002-0000002/orderItems").mock(side_effect=[
        sp_error(403, "Unauthorized", "Access to requested resource is denied."),
        httpx.Response(200, content=raw("order_items_113-0000002-0000002.json")),
    ])
    with make_client(time_) as client:
        assert len(client.order_items("113-0000002-0000002")) == 1
    assert token.call_count == 2
    assert [c.request.headers["x-amz-access-token"] for c in route.calls] == ["Atza|old", "Atza|new"]


@respx.mock
def test_403_after_a_fresh_token_is_a_configuration_error(time_):
    token = respx.post(TOKEN_URL).mock(side_effect=[token_response("Atza|a"), token_response("Atza|b")])
    respx.get(f"{ORDERS_URL}/113-0000002-0000002/orderItems").mock(
        return_value=sp_error(403, "Unauthorized", "Access to requested resource is denied."))
    with make_client(time_) as client, pytest.raises(ConfigurationError, match="HTTP 403: Unauthorized"):
        client.order_items("113-0000002-0000002")
    assert token.call_count == 2  # one refresh, not a loop


@respx.mock
def test_quota_exceeded_429_backs_off_until_the_bucket_refills_then_succeeds(time_):
    respx.post(TOKEN_URL).mock(return_value=token_response())
    route = respx.get(f"{ORDERS_URL}/113-0000002-0000002/orderItems").mock(side_effect=[
        sp_error(429, "QuotaExceeded", "You exceeded your quota for the requested resource.",
                 **{"x-amzn-RateLimit-Limit": "0.5"}),
        httpx.Response(200, content=raw("order_items_113-0000002-0000002.json")),
    ])
    with make_client(time_) as client:
        assert client.order_items("113-0000002-0000002")[0]["SellerSKU"] == "GIZ-400"
        stats = client.stats
    assert route.call_count == 2
    assert (stats.requests, stats.responses_429, stats.retries) == (2, 1, 1)
    # The 429 emptied the bucket: the retry waited for one token at the applied rate (0.5/s -> 2 s).
    assert sum(time_.sleeps) == pytest.approx(2.0)


@respx.mock
def test_each_operation_has_its_own_bucket_and_follows_the_rate_limit_header(time_):
    respx.post(TOKEN_URL).mock(return_value=token_response())
    respx.get(f"{ORDERS_URL}/113-0000002-0000002/orderItems").mock(
        return_value=httpx.Response(200, content=raw("order_items_113-0000002-0000002.json"),
                                    headers={"x-amzn-RateLimit-Limit": "0.25"}))
    respx.get(ORDERS_URL).mock(return_value=httpx.Response(200, content=raw("get_orders_page2.json")))
    limits = {"get_orders_limit": OperationLimit(rate=1, burst=1),
              "get_order_items_limit": OperationLimit(rate=1, burst=2)}
    with make_client(time_, **limits) as client:
        client.order_items("113-0000002-0000002")
        client.order_items("113-0000002-0000002")
        assert time_.sleeps == []  # the burst of two went out at once
        list(client.iter_order_pages(SINCE))
        assert time_.sleeps == []  # getOrders has its own, still full, bucket
        client.order_items("113-0000002-0000002")
    # The third items call waited for one token at the rate the API announced (0.25/s), not the configured 1/s.
    assert time_.sleeps == [pytest.approx(4.0)]


@respx.mock
def test_server_errors_are_retried_then_surface_as_retriable(time_):
    respx.post(TOKEN_URL).mock(return_value=token_response())
    route = respx.get(ORDERS_URL).mock(return_value=sp_error(503, "ServiceUnavailable", "Try again"))
    with make_client(time_, max_retries=2) as client, pytest.raises(RetriableError, match="HTTP 503"):
        list(client.iter_order_pages(SINCE))
    assert route.call_count == 3


@respx.mock
def test_refused_queries_and_unknown_orders_map_to_hub_errors(time_):
    respx.post(TOKEN_URL).mock(return_value=token_response())
    respx.get(ORDERS_URL).mock(return_value=sp_error(400, "InvalidInput", "Invalid MarketplaceId"))
    respx.get(f"{ORDERS_URL}/113-9999999-9999999/orderItems").mock(
        return_value=sp_error(404, "NotFound", "Order not found"))
    with make_client(time_) as client:
        with pytest.raises(ConfigurationError, match="InvalidInput: Invalid MarketplaceId"):
            list(client.iter_order_pages(SINCE))
        with pytest.raises(RejectedDocument, match="NotFound: Order not found"):
            client.order_items("113-9999999-9999999")
        with pytest.raises(RejectedDocument, match="not an Amazon order id"):
            client.order_items("../../admin")


@respx.mock
def test_a_refused_refresh_token_is_a_configuration_error(time_):
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(
        400, json={"error_description": "The request has an invalid grant parameter : refresh_token",
                   "error": "invalid_grant"}))
    orders = respx.get(ORDERS_URL)
    with make_client(time_) as client, pytest.raises(ConfigurationError, match="invalid_grant"):
        list(client.iter_order_pages(SINCE))
    assert orders.call_count == 0


def test_naive_datetimes_are_refused(time_):
    with make_client(time_) as client, pytest.raises(ValueError, match="timezone-aware"):
        list(client.iter_order_pages(dt.datetime(2024, 5, 2)))


def test_secrets_do_not_show_in_the_config_repr():
    config = AmazonConfig(client_id="id", client_secret="s3cr3t", refresh_token="Atzr|r3fr3sh",
                          marketplace_ids=("ATVPDKIKX0DER",), http={})
    assert "s3cr3t" not in repr(config) and "r3fr3sh" not in repr(config)
    assert json.loads(config.model_dump_json())["client_secret"] == "**********"


# -- Restricted Data Tokens (Tokens API 2021-03-01) ----------------------------------------------------

TOKENS_URL = f"{API}/tokens/2021-03-01/restrictedDataToken"


def rdt_response(token: str = "Atz.sprdt|rdt-1", expires_in: int = 3600) -> httpx.Response:
    return httpx.Response(200, json={"restrictedDataToken": token, "expiresIn": expires_in},
                          headers={"x-amzn-RateLimit-Limit": "1.0"})


@respx.mock
def test_restricted_data_token_is_created_with_the_lwa_token_and_sent_on_get_orders_only(time_, caplog):
    caplog.set_level("DEBUG")
    lwa = respx.post(TOKEN_URL).mock(return_value=token_response("Atza|lwa-1"))
    rdt = respx.post(TOKENS_URL).mock(return_value=rdt_response("Atz.sprdt|rdt-1"))
    orders = respx.get(ORDERS_URL).mock(side_effect=[
        httpx.Response(200, content=raw("get_orders_page1.json")),
        httpx.Response(200, content=raw("get_orders_page2.json")),
    ])
    items = respx.get(f"{ORDERS_URL}/113-0000002-0000002/orderItems").mock(
        return_value=httpx.Response(200, content=raw("order_items_113-0000002-0000002.json")))
    with make_client(time_, restricted_data=("shippingAddress", "buyerInfo")) as client:
        pages = list(client.iter_order_pages(SINCE))
        client.order_items("113-0000002-0000002")

    assert [len(p.orders) for p in pages] == [3, 3]
    # One LWA token and one RDT for the whole sync.
    assert (lwa.call_count, rdt.call_count) == (1, 1)
    request = rdt.calls[0].request
    assert (request.method, request.url.path) == ("POST", "/tokens/2021-03-01/restrictedDataToken")
    assert request.url.params.multi_items() == []
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {"restrictedResources": [
        {"method": "GET", "path": "/orders/v0/orders", "dataElements": ["shippingAddress", "buyerInfo"]}]}
    # The Tokens API is called with the LWA token; getOrders with the RDT in its place; getOrderItems keeps LWA.
    assert request.headers["x-amz-access-token"] == "Atza|lwa-1"
    assert [c.request.headers["x-amz-access-token"] for c in orders.calls] == ["Atz.sprdt|rdt-1"] * 2
    assert items.calls[0].request.headers["x-amz-access-token"] == "Atza|lwa-1"
    # The Tokens API has its own usage plan (bucket), apart from getOrders'.
    assert client.limiter.buckets["createRestrictedDataToken"].capacity == 10
    assert time_.sleeps == []
    # Neither token reaches a log line.
    assert "restrictedDataToken" in caplog.text
    assert "rdt-1" not in caplog.text and "lwa-1" not in caplog.text


@respx.mock
def test_without_restricted_data_get_orders_carries_the_lwa_token_and_no_rdt_is_asked_for(time_):
    respx.post(TOKEN_URL).mock(return_value=token_response("Atza|lwa-1"))
    rdt = respx.post(TOKENS_URL).mock(return_value=rdt_response())
    orders = respx.get(ORDERS_URL).mock(return_value=httpx.Response(200, content=raw("get_orders_page2.json")))
    with make_client(time_) as client:
        list(client.iter_order_pages(SINCE))
    assert rdt.call_count == 0
    assert orders.calls[0].request.headers["x-amz-access-token"] == "Atza|lwa-1"


@respx.mock
def test_restricted_data_token_is_cached_until_shortly_before_expires_in(time_):
    respx.post(TOKEN_URL).mock(return_value=token_response("Atza|lwa", 7200))
    rdt = respx.post(TOKENS_URL).mock(side_effect=[rdt_response("Atz.sprdt|one", 3600),
                                                   rdt_response("Atz.sprdt|two", 3600)])
    orders = respx.get(ORDERS_URL).mock(return_value=httpx.Response(200, content=raw("get_orders_page2.json")))
    limits = {"get_orders_limit": OperationLimit(rate=1000, burst=1000)}
    with make_client(time_, restricted_data=("shippingAddress",), token_margin_seconds=60, **limits) as client:
        list(client.iter_order_pages(SINCE))
        time_.now += 3539  # 61 s left: the cached RDT goes
        list(client.iter_order_pages(SINCE))
        time_.now += 2  # within the margin: a new one first
        list(client.iter_order_pages(SINCE))
    assert rdt.call_count == 2
    assert [c.request.headers["x-amz-access-token"] for c in orders.calls] == [
        "Atz.sprdt|one", "Atz.sprdt|one", "Atz.sprdt|two"]


@respx.mock
def test_an_expired_rdt_403_gets_a_new_rdt_once_and_keeps_the_lwa_token(time_):
    lwa = respx.post(TOKEN_URL).mock(return_value=token_response("Atza|lwa"))
    rdt = respx.post(TOKENS_URL).mock(side_effect=[rdt_response("Atz.sprdt|old"), rdt_response("Atz.sprdt|new")])
    orders = respx.get(ORDERS_URL).mock(side_effect=[
        sp_error(403, "Unauthorized", "Access to requested resource is denied."),
        httpx.Response(200, content=raw("get_orders_page2.json")),
    ])
    with make_client(time_, restricted_data=("shippingAddress",)) as client:
        assert len(next(client.iter_order_pages(SINCE)).orders) == 3
    assert [c.request.headers["x-amz-access-token"] for c in orders.calls] == ["Atz.sprdt|old", "Atz.sprdt|new"]
    assert (lwa.call_count, rdt.call_count) == (1, 2)


@respx.mock
def test_an_expired_lwa_token_on_the_tokens_api_is_refreshed_then_the_rdt_is_created(time_):
    lwa = respx.post(TOKEN_URL).mock(side_effect=[token_response("Atza|old"), token_response("Atza|new")])
    rdt = respx.post(TOKENS_URL).mock(side_effect=[
        sp_error(403, "Unauthorized", "Access to requested resource is denied."), rdt_response("Atz.sprdt|1")])
    orders = respx.get(ORDERS_URL).mock(return_value=httpx.Response(200, content=raw("get_orders_page2.json")))
    with make_client(time_, restricted_data=("shippingAddress",)) as client:
        list(client.iter_order_pages(SINCE))
    assert [c.request.headers["x-amz-access-token"] for c in rdt.calls] == ["Atza|old", "Atza|new"]
    assert lwa.call_count == 2
    assert orders.calls[0].request.headers["x-amz-access-token"] == "Atz.sprdt|1"


@respx.mock
def test_a_tokens_api_refusal_is_a_configuration_error_naming_the_data_elements(time_):
    respx.post(TOKEN_URL).mock(return_value=token_response())
    respx.post(TOKENS_URL).mock(return_value=sp_error(403, "Unauthorized", "Access to requested resource is denied."))
    orders = respx.get(ORDERS_URL)
    with make_client(time_, restricted_data=("shippingAddress", "buyerInfo")) as client, \
            pytest.raises(ConfigurationError, match=r"restrictedDataToken: HTTP 403.*shippingAddress, buyerInfo"):
        list(client.iter_order_pages(SINCE))
    assert orders.call_count == 0


@respx.mock
def test_an_rdt_answer_without_a_token_is_a_fatal_contract_change(time_):
    respx.post(TOKEN_URL).mock(return_value=token_response())
    respx.post(TOKENS_URL).mock(return_value=httpx.Response(200, json={"expiresIn": 3600}))
    with make_client(time_, restricted_data=("shippingAddress",)) as client, \
            pytest.raises(FatalError, match="without a restrictedDataToken"):
        list(client.iter_order_pages(SINCE))


def test_restricted_data_accepts_only_get_orders_data_elements_and_comes_from_the_profile():
    with pytest.raises(ValueError, match="not a getOrders data element: 'shippingLabel'"):
        AmazonConfig(client_id="id", client_secret="s", refresh_token="r", marketplace_ids=("ATVPDKIKX0DER",),
                     restricted_data=("shippingLabel",), http={})
    profile = PartnerProfile.model_validate({
        "id": "m", "name": "M", "channels": [{"kind": "amazon", "seller_id": "A1", "marketplace_ids": ["ATVPDKIKX0DER"],
                                           "lwa_client_id_env": "X", "lwa_client_secret_env": "Y",
                                           "refresh_token_env": "Z", "restricted_data": ["shippingAddress"]}]})
    config = amazon_config(present(profile.amazon), client_id="id", client_secret="s", refresh_token="r")
    assert config.restricted_data == ("shippingAddress",)
    plain = profile.amazon.model_copy(update={"restricted_data": []})
    assert amazon_config(plain, client_id="id", client_secret="s", refresh_token="r").restricted_data == ()
