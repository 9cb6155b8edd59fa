"""The shared HTTP connector base: retries, Retry-After, pacing, pagination, auth, errors, logging."""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import re
import threading
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from canonical.errors import ConfigurationError, FatalError, RejectedDocument, RetriableError
from connectors._http import (
    HttpConnector,
    HttpConnectorConfig,
    LeakyBucketLimiter,
    LinkHeaderPaginator,
    NextTokenPaginator,
    NoAuth,
    OAuthRefreshAuth,
    StaticHeaderAuth,
    parse_link_header,
    retry_after_seconds,
)
from tests.fixtures.clock import FakeClock

BASE = "https://api.example.test"
SECRET = "shpat_secret_token_123"


def make(clock: FakeClock, *, auth=None, limiter=None, **config) -> HttpConnector:
    cfg = HttpConnectorConfig(base_url=BASE, **config)
    return HttpConnector(cfg, auth=auth or StaticHeaderAuth("X-Api-Key", SECRET), rate_limiter=limiter,
                         sleep=clock.sleep, clock=clock, rng=random.Random(7))


# -- retries and Retry-After ------------------------------------------------------------------------


@respx.mock
def test_429_with_retry_after_seconds_then_success(clock):
    route = respx.get(f"{BASE}/v1/orders").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "2.0"}), httpx.Response(200, json={"ok": 1})]
    )
    with make(clock) as api:
        response = api.request("GET", "/v1/orders", params={"limit": 5})
        assert response.json() == {"ok": 1}
        assert route.call_count == 2
        assert clock.sleeps == [2.0]
        assert api.stats.requests == 2 and api.stats.retries == 1 and api.stats.responses_429 == 1
        assert api.stats.throttle_waits == 1 and api.stats.throttle_wait_seconds == 2.0
    assert route.calls[0].request.headers["X-Api-Key"] == SECRET
    assert route.calls[1].request.url.params["limit"] == "5"


@respx.mock
def test_retry_after_http_date_is_honoured(clock):
    when = email.utils.format_datetime(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30), usegmt=True)
    respx.get(f"{BASE}/x").mock(
        side_effect=[httpx.Response(503, headers={"Retry-After": when}), httpx.Response(200, json={})]
    )
    with make(clock) as api:
        api.request("GET", "/x")
    assert len(clock.sleeps) == 1 and 27 <= clock.sleeps[0] <= 30


def test_retry_after_parsing():
    now = dt.datetime(2024, 10, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert retry_after_seconds("2.0") == 2.0
    assert retry_after_seconds(" 120 ") == 120.0
    assert retry_after_seconds("-5") == 0.0
    assert retry_after_seconds("Tue, 01 Oct 2024 12:00:45 GMT", now=now) == 45.0
    assert retry_after_seconds("Tue, 01 Oct 2024 11:00:00 GMT", now=now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("nan") is None


@respx.mock
def test_5xx_storm_ends_in_retriable_error_after_max_retries_with_jittered_backoff(clock):
    route = respx.get(f"{BASE}/x").mock(return_value=httpx.Response(502, text="<html>bad gateway</html>"))
    with make(clock, max_retries=4, backoff_base_seconds=1, backoff_cap_seconds=5) as api:
        with pytest.raises(RetriableError, match="HTTP 502") as info:
            api.request("GET", "/x")
        assert api.stats.retries == 4
    assert route.call_count == 5
    assert info.value.retry_after is None
    # Full jitter: each wait is within [0, min(cap, base * 2^(n-1))] and they are not all equal.
    for n, slept in enumerate(clock.sleeps, start=1):
        assert 0 <= slept <= min(5, 2 ** (n - 1))
    assert len(set(clock.sleeps)) == 4


@respx.mock
def test_retry_after_longer_than_the_cap_is_handed_back_not_slept(clock):
    respx.get(f"{BASE}/x").mock(return_value=httpx.Response(429, headers={"Retry-After": "3600"}))
    with make(clock, backoff_cap_seconds=60) as api, pytest.raises(RetriableError) as info:
        api.request("GET", "/x")
    assert info.value.retry_after == 3600
    assert clock.sleeps == []


@respx.mock
def test_final_429_carries_retry_after(clock):
    respx.get(f"{BASE}/x").mock(return_value=httpx.Response(429, headers={"Retry-After": "1"}))
    with make(clock, max_retries=2) as api:
        with pytest.raises(RetriableError) as info:
            api.request("GET", "/x")
        assert api.stats.responses_429 == 3
    assert info.value.retry_after == 1.0
    assert clock.sleeps == [1.0, 1.0]


@respx.mock
def test_connect_errors_are_retried_then_succeed(clock):
    route = respx.get(f"{BASE}/x").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.ConnectTimeout("slow"), httpx.Response(200, json=[])]
    )
    with make(clock) as api:
        assert api.request("GET", "/x").json() == []
    assert route.call_count == 3 and len(clock.sleeps) == 2


@respx.mock
def test_connect_errors_exhausted_become_retriable_error(clock):
    respx.get(f"{BASE}/x").mock(side_effect=httpx.ConnectError("refused"))
    with make(clock, max_retries=1) as api, pytest.raises(RetriableError, match="ConnectError"):
        api.request("GET", "/x")


@respx.mock
def test_read_timeout_after_a_post_is_not_retried(clock):
    route = respx.post(f"{BASE}/x").mock(side_effect=httpx.ReadTimeout("no answer"))
    with make(clock) as api, pytest.raises(RetriableError, match="ReadTimeout") as caught:
        api.request("POST", "/x", json={"a": 1})
    assert route.call_count == 1 and caught.value.write_in_doubt


@respx.mock
def test_read_timeout_on_a_get_is_retried(clock):
    route = respx.get(f"{BASE}/x").mock(side_effect=[httpx.ReadTimeout("no answer"), httpx.Response(200)])
    with make(clock) as api:
        assert api.request("GET", "/x").status_code == 200
    assert route.call_count == 2


# -- error classification ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "error", "text"),
    [
        (401, {"errors": "[API] Invalid API key or access token"}, ConfigurationError, "Invalid API key"),
        (403, {"errors": "no scope"}, ConfigurationError, "no scope"),
        (404, {"errors": "Not Found"}, ConfigurationError, "Not Found"),
        (400, {"errors": {"updated_at_min": ["is invalid"]}}, RejectedDocument, "updated_at_min: is invalid"),
        (422, {"errors": [{"code": "InvalidInput", "message": "bad date"}]}, RejectedDocument,
         "InvalidInput: bad date"),
        (406, {"message": "nope"}, FatalError, "nope"),
        (301, None, ConfigurationError, "wrong base URL"),
    ],
)
@respx.mock
def test_error_classification(clock, status, body, error, text):
    headers = {"Location": "https://elsewhere.test/"} if status == 301 else {}
    respx.get(f"{BASE}/x").mock(return_value=httpx.Response(status, json=body, headers=headers))
    with make(clock) as api, pytest.raises(error, match=text):
        api.request("GET", "/x")
    assert clock.sleeps == []


@respx.mock
def test_classify_error_hook_can_accept_or_reclassify(clock):
    class Lenient(HttpConnector):
        def classify_error(self, response):
            if response.status_code == 404:
                return None  # "no such order" is an answer here
            if response.status_code == 409:
                return RetriableError("busy")
            return super().classify_error(response)

    respx.get(f"{BASE}/missing").mock(return_value=httpx.Response(404, json={"errors": "Not Found"}))
    respx.get(f"{BASE}/busy").mock(side_effect=[httpx.Response(409), httpx.Response(200)])
    with Lenient(HttpConnectorConfig(base_url=BASE), auth=NoAuth(), sleep=clock.sleep, clock=clock) as api:
        assert api.request("GET", "/missing").status_code == 404
        assert api.request("GET", "/busy").status_code == 200


# -- pagination -------------------------------------------------------------------------------------


def test_parse_link_header_with_previous_and_next():
    value = ('<https://s.test/admin/api/2024-10/orders.json?limit=2&page_info=abc>; rel="previous", '
             '<https://s.test/admin/api/2024-10/orders.json?limit=2&page_info=def>; rel="next"')
    assert parse_link_header(value) == [
        ("https://s.test/admin/api/2024-10/orders.json?limit=2&page_info=abc", {"previous"}),
        ("https://s.test/admin/api/2024-10/orders.json?limit=2&page_info=def", {"next"}),
    ]


@respx.mock
def test_link_header_pagination_follows_next_exactly(clock):
    first = respx.get(f"{BASE}/orders.json", params={"status": "any", "limit": "2"}).mock(
        return_value=httpx.Response(200, json={"orders": [1, 2]},
                                    headers={"Link": f'<{BASE}/orders.json?limit=2&page_info=p2>; rel="next"'})
    )
    second = respx.get(f"{BASE}/orders.json", params={"page_info": "p2"}).mock(
        return_value=httpx.Response(200, json={"orders": [3]}, headers={
            "Link": f'<{BASE}/orders.json?limit=2&page_info=p1>; rel="previous"'})
    )
    with make(clock) as api:
        pages = [r.json()["orders"] for r in api.paginate(LinkHeaderPaginator(), "GET", "/orders.json",
                                                          params={"status": "any", "limit": 2})]
    assert pages == [[1, 2], [3]]
    assert first.call_count == 1 and second.call_count == 1
    # The cursor request carries only what the link carried: no status filter added back.
    assert dict(second.calls[0].request.url.params) == {"limit": "2", "page_info": "p2"}


@respx.mock
def test_link_to_another_origin_is_refused(clock):
    respx.get(f"{BASE}/o").mock(return_value=httpx.Response(
        200, json={}, headers={"Link": '<https://evil.test/o?page_info=x>; rel="next"'}))
    with make(clock) as api:
        pages = api.paginate(LinkHeaderPaginator(), "GET", "/o")
        next(pages)
        with pytest.raises(FatalError, match="another origin"):
            next(pages)


@respx.mock
def test_next_token_pagination_keeps_params(clock):
    route = respx.get(f"{BASE}/orders/v0/orders").mock(side_effect=[
        httpx.Response(200, json={"payload": {"Orders": [1], "NextToken": "t/2+="}}),
        httpx.Response(200, json={"payload": {"Orders": [2], "NextToken": "t3"}}),
        httpx.Response(200, json={"payload": {"Orders": [3]}}),
    ])
    with make(clock) as api:
        pages = list(api.paginate(NextTokenPaginator("payload.NextToken", "NextToken"), "GET", "/orders/v0/orders",
                                  params={"MarketplaceIds": "ATVPDKIKX0DER"}))
    assert [p.json()["payload"]["Orders"] for p in pages] == [[1], [2], [3]]
    sent = [parse_qs(c.request.url.query.decode()) for c in route.calls]
    assert sent[0] == {"MarketplaceIds": ["ATVPDKIKX0DER"]}
    assert sent[1] == {"MarketplaceIds": ["ATVPDKIKX0DER"], "NextToken": ["t/2+="]}
    assert sent[2]["NextToken"] == ["t3"]


@respx.mock
def test_a_page_pointing_at_itself_stops(clock):
    respx.get(f"{BASE}/o").mock(return_value=httpx.Response(200, json={"payload": {"NextToken": "same"}}))
    with make(clock) as api:
        paginator = NextTokenPaginator("payload.NextToken", "NextToken")
        with pytest.raises(FatalError, match="this page again"):
            list(api.paginate(paginator, "GET", "/o", params={"NextToken": "same"}))


# -- pacing -----------------------------------------------------------------------------------------


def test_leaky_bucket_lets_a_burst_through_then_paces_at_the_leak_rate(clock):
    bucket = LeakyBucketLimiter(10, 2, headroom=1, clock=clock)
    waits = []
    for _ in range(15):
        wait = bucket.before_request()
        waits.append(wait)
        clock.sleep(wait)
    assert waits[:9] == [0] * 9
    assert waits[9:] == [0.5] * 6


def test_leaky_bucket_trusts_the_servers_count(clock):
    bucket = LeakyBucketLimiter(40, 2, headroom=1, clock=clock)
    bucket.observe(39, 40)  # another app of the same shop used the budget
    assert bucket.before_request() == pytest.approx(0.5)
    clock.sleep(10)
    assert bucket.level == pytest.approx(20)


@respx.mock
def test_rate_limiter_waits_are_slept_and_counted(clock):
    class Shared(LeakyBucketLimiter):
        def after_response(self, response):
            used, size = response.headers["X-Call-Limit"].split("/")
            self.observe(float(used), float(size))

    respx.get(f"{BASE}/x").mock(return_value=httpx.Response(200, headers={"X-Call-Limit": "4/4"}))
    with make(clock, limiter=Shared(4, 1, headroom=0, clock=clock)) as api:
        api.request("GET", "/x")
        api.request("GET", "/x")
        assert api.stats.throttle_waits == 1
    assert clock.sleeps == [1.0]


# -- auth -------------------------------------------------------------------------------------------

TOKEN_URL = "https://auth.example.test/o2/token"


def test_static_auth_refuses_an_empty_secret():
    with pytest.raises(ConfigurationError):
        StaticHeaderAuth("X-Shopify-Access-Token", " ")
    assert SECRET not in repr(StaticHeaderAuth("X", SECRET))


@respx.mock
def test_oauth_refresh_token_is_cached_until_it_expires(clock):
    tokens = respx.post(TOKEN_URL).mock(side_effect=[
        httpx.Response(200, json={"access_token": "Atza|one", "token_type": "bearer", "expires_in": 3600}),
        httpx.Response(200, json={"access_token": "Atza|two", "token_type": "bearer", "expires_in": 3600}),
    ])
    api_route = respx.get(f"{BASE}/x").mock(return_value=httpx.Response(200))
    auth = OAuthRefreshAuth(TOKEN_URL, client_id="amzn1.app", client_secret="cs", refresh_token="Atzr|r",
                            header="x-amz-access-token", prefix="", margin_seconds=60, clock=clock)
    with make(clock, auth=auth) as api:
        api.request("GET", "/x")
        clock.now += 3500
        api.request("GET", "/x")
        assert tokens.call_count == 1
        clock.now += 41  # 3541 s: within the 60 s margin of expiry
        api.request("GET", "/x")
        assert tokens.call_count == 2
    assert [c.request.headers["x-amz-access-token"] for c in api_route.calls] == ["Atza|one", "Atza|one", "Atza|two"]
    form = parse_qs(tokens.calls[0].request.content.decode())
    assert form == {"grant_type": ["refresh_token"], "refresh_token": ["Atzr|r"], "client_id": ["amzn1.app"],
                    "client_secret": ["cs"]}


@respx.mock
def test_oauth_401_refreshes_once_then_gives_up(clock):
    tokens = respx.post(TOKEN_URL).mock(side_effect=[
        httpx.Response(200, json={"access_token": f"t{n}", "expires_in": 3600}) for n in range(5)])
    route = respx.get(f"{BASE}/x").mock(side_effect=[httpx.Response(401), httpx.Response(200),
                                                     httpx.Response(401), httpx.Response(401)])
    auth = OAuthRefreshAuth(TOKEN_URL, client_id="c", client_secret="s", refresh_token="r", clock=clock)
    with make(clock, auth=auth) as api:
        assert api.request("GET", "/x").status_code == 200
        assert [c.request.headers["Authorization"] for c in route.calls] == ["Bearer t0", "Bearer t1"]
        with pytest.raises(ConfigurationError):
            api.request("GET", "/x")
    assert tokens.call_count == 3


@respx.mock
def test_oauth_invalid_grant_is_a_configuration_error(clock):
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(
        400, json={"error": "invalid_grant", "error_description": "The request has an invalid grant parameter"}))
    auth = OAuthRefreshAuth(TOKEN_URL, client_id="c", client_secret="s", refresh_token="r", clock=clock)
    with pytest.raises(ConfigurationError, match="invalid_grant"):
        auth.access_token()


@respx.mock
def test_oauth_token_is_fetched_once_for_many_threads(clock):
    tokens = respx.post(TOKEN_URL).mock(return_value=httpx.Response(200, json={"access_token": "t", "expires_in": 60}))
    auth = OAuthRefreshAuth(TOKEN_URL, client_id="c", client_secret="s", refresh_token="r", margin_seconds=10,
                            clock=clock)
    threads = [threading.Thread(target=auth.access_token) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert tokens.call_count == 1


# -- logging ----------------------------------------------------------------------------------------


@respx.mock
def test_logs_hold_no_secrets_query_values_or_bodies(clock, caplog):
    respx.get(f"{BASE}/v1/orders").mock(side_effect=[
        httpx.Response(503, json={"errors": "busy"}),
        httpx.Response(422, json={"errors": {"email": ["jane.doe@example.com is invalid"]}}),
    ])
    caplog.set_level(logging.DEBUG, logger="connectors")
    with make(clock) as api, pytest.raises(RejectedDocument):
        api.request("GET", "/v1/orders", params={"email": "jane.doe@example.com", "api_key": "k-9"})
    text = caplog.text
    assert "/v1/orders?email&api_key" in text and "HTTP 503" in text and "HTTP 422" in text
    for leak in (SECRET, "jane.doe", "k-9", "invalid"):
        assert leak not in text


# -- per-call options: an encoded body, retries narrowed or widened, a caller's client ---------------


@respx.mock
def test_a_call_can_send_its_own_encoded_body(clock):
    route = respx.post(f"{BASE}/x").mock(return_value=httpx.Response(200, json={}))
    with make(clock) as api:
        api.request("POST", "/x", content=b'{"price":4.5}', headers={"Content-Type": "application/json; charset=utf-8"})
    request = route.calls.last.request
    assert request.content == b'{"price":4.5}'
    assert request.headers["Content-Type"] == "application/json; charset=utf-8"
    assert request.headers["X-Api-Key"] == SECRET and request.headers["User-Agent"].startswith("orderhub/")


@respx.mock
def test_max_retries_zero_sends_a_call_once_and_hands_back_retry_after(clock):
    route = respx.get(f"{BASE}/x").mock(return_value=httpx.Response(503, headers={"Retry-After": "4"}))
    with make(clock, max_retries=5) as api, pytest.raises(RetriableError) as info:
        api.request("GET", "/x", max_retries=0)
    assert route.call_count == 1 and clock.sleeps == []
    assert info.value.retry_after == 4.0


@respx.mock
def test_max_retries_zero_does_not_resend_after_a_connect_error(clock):
    route = respx.post(f"{BASE}/x").mock(side_effect=httpx.ConnectError("refused"))
    with make(clock) as api, pytest.raises(RetriableError, match=re.escape("cannot reach api.example.test")):
        api.request("POST", "/x", max_retries=0)
    assert route.call_count == 1


@respx.mock
def test_a_post_declared_idempotent_is_retried_after_a_read_timeout(clock):
    route = respx.post(f"{BASE}/search").mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200)])
    with make(clock) as api:
        assert api.request("POST", "/search", json={}, idempotent=True).status_code == 200
    assert route.call_count == 2


@respx.mock
def test_a_put_declared_not_idempotent_is_not_retried_after_a_read_timeout(clock):
    route = respx.put(f"{BASE}/x").mock(side_effect=httpx.ReadTimeout("slow"))
    with make(clock) as api, pytest.raises(RetriableError, match=re.escape("timed out talking to api.example.test")):
        api.request("PUT", "/x", json={}, idempotent=False)
    assert route.call_count == 1


def test_a_callers_http_client_is_used_with_our_headers_and_left_open(clock):
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/moved":
            return httpx.Response(302, headers={"Location": f"{BASE}/elsewhere"})
        return httpx.Response(200, json={"ok": True})

    own = httpx.Client(base_url=BASE, transport=httpx.MockTransport(answer), follow_redirects=True)
    cfg = HttpConnectorConfig(base_url=BASE)
    with HttpConnector(cfg, auth=StaticHeaderAuth("X-Api-Key", SECRET), http_client=own, sleep=clock.sleep,
                       clock=clock) as api:
        assert api.request("GET", "/x").json() == {"ok": True}
        with pytest.raises(ConfigurationError, match="wrong base URL"):
            api.request("GET", "/moved")  # the caller's client follows redirects; our calls never do

    assert [r.url.path for r in seen] == ["/x", "/moved"]
    assert seen[0].headers["User-Agent"].startswith("orderhub/") and seen[0].headers["Accept"] == "application/json"
    assert seen[0].headers["X-Api-Key"] == SECRET
    assert not own.is_closed
    own.close()


@respx.mock
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_5xx_after_a_post_is_not_resent_and_is_in_doubt(clock, status):
    # A gateway can time out on a create that still commits: sending it again could write it twice.
    route = respx.post(f"{BASE}/v1/orders").mock(side_effect=[httpx.Response(status), httpx.Response(201)])
    with make(clock) as api, pytest.raises(RetriableError) as caught:
        api.request("POST", "/v1/orders", json={"po": "1"})
    assert route.call_count == 1 and caught.value.write_in_doubt


@respx.mock
def test_a_429_after_a_post_is_waited_out_it_never_ran(clock):
    route = respx.post(f"{BASE}/v1/orders").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "1"}), httpx.Response(201, json={"id": 7})])
    with make(clock) as api:
        assert api.request("POST", "/v1/orders", json={"po": "1"}).json() == {"id": 7}
    assert route.call_count == 2 and clock.sleeps == [1.0]


@respx.mock
def test_a_5xx_after_a_post_declared_idempotent_is_resent(clock):
    route = respx.post(f"{BASE}/v1/search").mock(side_effect=[httpx.Response(502), httpx.Response(200, json=[])])
    with make(clock) as api:
        assert api.request("POST", "/v1/search", json={}, idempotent=True).json() == []
    assert route.call_count == 2
