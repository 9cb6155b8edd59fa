"""The QuickBooks Online client against a mocked Intuit (respx): exact paths, query parameters, headers, the
token grant and its rotation, Fault bodies, 401 refresh, 429 pacing and a write resent under its requestid."""

from __future__ import annotations

import base64
import json
import urllib.parse

import httpx
import pytest
import respx
from pydantic import SecretStr

from canonical.errors import ConfigurationError, RetriableError
from connectors.quickbooks import (
    MemoryTokenStore,
    QuickBooksClient,
    QuickBooksConfig,
    QuickBooksFault,
    SlidingWindowLimiter,
    quote,
)

BASE = "https://quickbooks.api.intuit.com"
TOKEN_URL = "https://oauth.platform.intuit.com/oauth2/v1/tokens/bearer"
REALM = "9130350000000001"
COMPANY = f"{BASE}/v3/company/{REALM}"
INVOICE = {"Id": "130", "SyncToken": "0", "DocNumber": "OHABC", "TotalAmt": 13.2,
           "Line": [{"Id": "1", "DetailType": "SalesItemLineDetail", "Amount": 13.2,
                     "SalesItemLineDetail": {"ItemRef": {"value": "7"}, "Qty": 3, "UnitPrice": 4.4}}]}
BODY = {"CustomerRef": {"value": "58"}, "DocNumber": "OHABC", "Line": INVOICE["Line"]}


def fault(code: str, message: str, detail: str, fault_type: str = "ValidationFault", element: str = "") -> dict:
    return {"Fault": {"Error": [{"Message": message, "Detail": detail, "code": code, "element": element}],
                      "type": fault_type}, "time": "2026-12-04T09:17:31.892-07:00"}


def token_answer(refresh: str = "AB11-rotated-1", access: str = "eyJ-access-1") -> httpx.Response:
    return httpx.Response(200, json={"token_type": "bearer", "access_token": access, "expires_in": 3600,
                                     "refresh_token": refresh, "x_refresh_token_expires_in": 8726400})


@pytest.fixture
def tokens() -> MemoryTokenStore:
    return MemoryTokenStore("AB11-first")


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(tokens, sleeps):
    config = QuickBooksConfig(realm_id=REALM, client_id="app-id", client_secret=SecretStr("app-secret"),
                              http={"max_retries": 2})
    with QuickBooksClient(config, tokens, rate_limiter=SlidingWindowLimiter(500), sleep=sleeps.append) as client:
        yield client


@respx.mock
def test_a_query_is_a_get_with_the_statement_and_minorversion_75_and_a_bearer_token(client, tokens):
    grant = respx.post(TOKEN_URL).mock(return_value=token_answer())
    query = respx.get(f"{COMPANY}/query").mock(return_value=httpx.Response(200, json={
        "QueryResponse": {"Invoice": [INVOICE], "startPosition": 1, "maxResults": 1}, "time": "x"}))

    found = client.query("Invoice", f"DocNumber = {quote('OHABC')}")

    assert found == [INVOICE]
    sent = query.calls.last.request
    assert sent.url.path == f"/v3/company/{REALM}/query"
    assert dict(sent.url.params) == {
        "query": "select * from Invoice where DocNumber = 'OHABC' STARTPOSITION 1 MAXRESULTS 1000",
        "minorversion": "75"}
    assert sent.headers["Authorization"] == "Bearer eyJ-access-1"
    assert sent.headers["Accept"] == "application/json"
    # The token grant: HTTP Basic client credentials, the refresh token in the form, nothing else.
    token_request = grant.calls.last.request
    assert token_request.headers["Authorization"] == "Basic " + base64.b64encode(b"app-id:app-secret").decode()
    assert urllib.parse.parse_qs(token_request.content.decode()) == {"grant_type": ["refresh_token"],
                                                                      "refresh_token": ["AB11-first"]}
    assert tokens.saved == ["AB11-rotated-1"]  # the rotated refresh token kept at once


@respx.mock
def test_an_empty_query_answer_is_no_rows_and_quotes_are_escaped(client):
    respx.post(TOKEN_URL).mock(return_value=token_answer())
    query = respx.get(f"{COMPANY}/query").mock(return_value=httpx.Response(200, json={"QueryResponse": {},
                                                                                      "time": "x"}))
    assert client.query("Customer", f"DisplayName = {quote(chr(39) + 'Brien' + chr(92))}") == []
    assert query.calls.last.request.url.params["query"].startswith(
        "select * from Customer where DisplayName = '\\'Brien\\\\'")


@respx.mock
def test_a_create_posts_the_entity_with_requestid_and_minorversion(client):
    respx.post(TOKEN_URL).mock(return_value=token_answer())
    create = respx.post(f"{COMPANY}/invoice").mock(return_value=httpx.Response(200, json={"Invoice": INVOICE,
                                                                                          "time": "x"}))
    assert client.create("Invoice", BODY, request_id="orderhub-0123") == INVOICE
    sent = create.calls.last.request
    assert sent.method == "POST" and sent.url.path == f"/v3/company/{REALM}/invoice"
    assert dict(sent.url.params) == {"requestid": "orderhub-0123", "minorversion": "75"}
    assert json.loads(sent.content) == BODY
    assert sent.headers["Content-Type"] == "application/json"


@respx.mock
def test_a_credit_memo_goes_to_its_own_path(client):
    respx.post(TOKEN_URL).mock(return_value=token_answer())
    memo = respx.post(f"{COMPANY}/creditmemo").mock(return_value=httpx.Response(200, json={
        "CreditMemo": {**INVOICE, "Id": "131"}, "time": "x"}))
    assert client.create("CreditMemo", BODY, request_id="orderhub-c1")["Id"] == "131"
    assert memo.calls.last.request.url.params["requestid"] == "orderhub-c1"


def test_a_requestid_over_50_characters_is_refused_before_anything_is_sent(client):
    with pytest.raises(ValueError, match="1-50"):
        client.create("Invoice", BODY, request_id="x" * 51)


@respx.mock
def test_a_timed_out_write_is_resent_with_the_same_requestid(client):
    respx.post(TOKEN_URL).mock(return_value=token_answer())
    create = respx.post(f"{COMPANY}/invoice").mock(side_effect=[
        httpx.ReadTimeout("no answer"), httpx.Response(200, json={"Invoice": INVOICE, "time": "x"})])
    assert client.create("Invoice", BODY, request_id="orderhub-same")["Id"] == "130"
    assert [call.request.url.params["requestid"] for call in create.calls] == ["orderhub-same", "orderhub-same"]


@respx.mock
def test_a_write_never_answered_is_in_doubt(client):
    respx.post(TOKEN_URL).mock(return_value=token_answer())
    respx.post(f"{COMPANY}/invoice").mock(side_effect=httpx.ReadTimeout("no answer"))
    with pytest.raises(RetriableError) as caught:
        client.create("Invoice", BODY, request_id="orderhub-doubt")
    assert caught.value.write_in_doubt


@respx.mock
def test_a_fault_body_becomes_a_clear_rejection(client):
    respx.post(TOKEN_URL).mock(return_value=token_answer())
    respx.post(f"{COMPANY}/invoice").mock(return_value=httpx.Response(400, json=fault(
        "6070", "Amount calculation incorrect in the request", "Amount is not equal to Qty * UnitPrice. "
        "Supplied value:13.3", element="Line.Amount")))
    with pytest.raises(QuickBooksFault) as caught:
        client.create("Invoice", BODY, request_id="orderhub-bad")
    assert caught.value.fault_type == "ValidationFault" and caught.value.codes == ("6070",)
    assert str(caught.value).startswith(f"POST /v3/company/{REALM}/invoice: HTTP 400: ValidationFault 6070: Amount "
                                        "calculation incorrect in the request: Amount is not equal to Qty * "
                                        "UnitPrice. Supplied value:13.3 (element Line.Amount)")


@respx.mock
def test_a_fault_on_http_200_is_raised_too(client):
    respx.post(TOKEN_URL).mock(return_value=token_answer())
    respx.get(f"{COMPANY}/query").mock(return_value=httpx.Response(200, json=fault(
        "4000", "Error parsing query", "QueryParserError: Encountered \" <INTEGER> \"1 \"\"")))
    with pytest.raises(QuickBooksFault, match="HTTP 200: ValidationFault 4000: Error parsing query"):
        client.query("Invoice")


@respx.mock
def test_a_401_renews_the_token_once_and_retries(client, tokens):
    grant = respx.post(TOKEN_URL).mock(side_effect=[token_answer("AB11-r1", "eyJ-1"), token_answer("AB11-r2", "eyJ-2")])
    query = respx.get(f"{COMPANY}/query").mock(side_effect=[
        httpx.Response(401, json=fault("3200", "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                                       "Token expired", "AuthenticationFault")),
        httpx.Response(200, json={"QueryResponse": {}, "time": "x"})])
    assert client.query("Invoice") == []
    assert grant.call_count == 2
    # The second renewal started from the token the first one rotated in.
    assert urllib.parse.parse_qs(grant.calls[1].request.content.decode())["refresh_token"] == ["AB11-r1"]
    assert [call.request.headers["Authorization"] for call in query.calls] == ["Bearer eyJ-1", "Bearer eyJ-2"]
    assert tokens.saved == ["AB11-r1", "AB11-r2"]


@respx.mock
def test_a_second_401_fails_clearly_without_a_third_token(client):
    grant = respx.post(TOKEN_URL).mock(side_effect=[token_answer("AB11-r1"), token_answer("AB11-r2")])
    respx.get(f"{COMPANY}/query").mock(return_value=httpx.Response(401, json=fault(
        "3200", "message=AuthenticationFailed; errorCode=003200; statusCode=401", "Token revoked",
        "AuthenticationFault")))
    with pytest.raises(ConfigurationError, match=r"AuthenticationFault 3200.*reconnect it"):
        client.query("Invoice")
    assert grant.call_count == 2


@respx.mock
def test_a_refused_refresh_token_says_to_reconnect_and_never_shows_the_secrets(client):
    respx.post(TOKEN_URL).mock(return_value=httpx.Response(400, json={"error": "invalid_grant"}))
    with pytest.raises(ConfigurationError) as caught:
        client.query("Invoice")
    assert "invalid_grant" in str(caught.value) and "reconnect the app" in str(caught.value)
    assert "AB11-first" not in str(caught.value) and "app-secret" not in str(caught.value)


@respx.mock
def test_a_429_waits_for_its_retry_after_then_succeeds(client, sleeps):
    respx.post(TOKEN_URL).mock(return_value=token_answer())
    respx.get(f"{COMPANY}/query").mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "7"}, json=fault(
            "3001", "message=ThrottleExceeded; errorCode=003001; statusCode=429", "The request limit was reached.",
            "ThrottleExceeded")),
        httpx.Response(200, json={"QueryResponse": {}, "time": "x"})])
    assert client.query("Invoice") == []
    assert sleeps == [7.0]
    assert client.stats.responses_429 == 1


def test_pacing_holds_500_requests_to_any_minute():
    now = [0.0]
    limiter = SlidingWindowLimiter(500, clock=lambda: now[0])
    waits = [limiter.before_request() for _ in range(500)]
    assert set(waits) == {0.0}
    assert limiter.before_request() == 60.0  # the 501st waits for the first to be a minute old
    now[0] = 30.0
    assert limiter.before_request() == 30.0  # reserved behind the 501st, still 500 per minute
    now[0] = 200.0
    assert limiter.before_request() == 0.0


@respx.mock
def test_the_client_paces_itself_before_intuit_throttles(tokens, sleeps):
    config = QuickBooksConfig(realm_id=REALM, client_id="app-id", client_secret=SecretStr("app-secret"),
                              requests_per_minute=2, http={})
    now = [0.0]
    limiter = SlidingWindowLimiter(config.requests_per_minute, clock=lambda: now[0])
    respx.post(TOKEN_URL).mock(return_value=token_answer())
    respx.get(f"{COMPANY}/query").mock(return_value=httpx.Response(200, json={"QueryResponse": {}, "time": "x"}))
    with QuickBooksClient(config, tokens, rate_limiter=limiter, sleep=sleeps.append) as client:
        for _ in range(3):
            client.query("Invoice")
    assert sleeps == [60.0]
    assert client.stats.throttle_waits == 1


def test_the_sandbox_environment_and_the_base_urls():
    production = QuickBooksConfig(realm_id=REALM, client_id="a", client_secret=SecretStr("b"), http={})
    sandbox = QuickBooksConfig(realm_id=REALM, client_id="a", client_secret=SecretStr("b"), environment="sandbox",
                               http={})
    assert production.base_url == BASE and production.token_url == TOKEN_URL
    assert sandbox.base_url == "https://sandbox-quickbooks.api.intuit.com"
    assert "b" not in repr(production.client_secret)
