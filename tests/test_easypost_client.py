"""The EasyPost client against a mocked API (respx): every call's wire shape, auth, and error mapping."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import httpx
import pytest
import respx
from pydantic import SecretStr, ValidationError

from canonical.errors import ConfigurationError, RejectedDocument, RetriableError
from connectors.easypost import Address, EasyPostClient, EasyPostConfig, NotFound, Parcel

BASE = "https://api.easypost.com"
KEY = "EZTK0123456789abcdef"
FROM = Address(company="Hub Warehouse", street1="1 Dock Rd", city="Reno", state="NV", zip="89501")
TO = Address(name="Jane Q. Customer", street1="17 Privacy Lane", city="Austin", state="TX", zip="78701")
PARCEL = Parcel(weight=16)

SHIPMENT: dict[str, Any] = {
    "id": "shp_1", "object": "Shipment", "reference": "acme:PO1", "mode": "test",
    "rates": [
        {"id": "rate_a", "carrier": "USPS", "service": "Priority", "rate": "7.90", "currency": "USD",
         "delivery_days": 2, "shipment_id": "shp_1"},
        {"id": "rate_b", "carrier": "UPS", "service": "Ground", "rate": "9.10", "currency": "USD",
         "delivery_days": 4, "shipment_id": "shp_1"},
    ],
    "selected_rate": None, "postage_label": None, "tracking_code": None,
}
BOUGHT = {**SHIPMENT, "selected_rate": SHIPMENT["rates"][0], "tracking_code": "9400100000000000000001",
          "postage_label": {"id": "pl_1", "label_url": "https://labels.example/pl_1.png"},
          "tracker": {"id": "trk_1", "tracking_code": "9400100000000000000001", "status": "pre_transit"}}


def error(code: str, message: str, errors=()):
    return {"error": {"code": code, "message": message, "errors": list(errors)}}


@pytest.fixture
def client():
    config = EasyPostConfig(api_key=SecretStr(KEY), mode="test", http={"max_retries": 2})
    with EasyPostClient(config, sleep=lambda s: None) as client:
        yield client


@pytest.fixture
def api():
    with respx.mock(base_url=BASE, assert_all_called=True) as router:
        yield router


def test_keys_must_match_the_mode():
    EasyPostConfig(api_key=SecretStr("EZAKlive"), mode="production", http={})
    with pytest.raises(ValidationError) as raised:
        EasyPostConfig(api_key=SecretStr("EZAKlive-secret"), mode="test", http={})
    assert "EZTK" in str(raised.value) and "EZAKlive-secret" not in str(raised.value)
    with pytest.raises(ValidationError):
        EasyPostConfig(api_key=SecretStr("EZTKtest"), mode="production", http={})
    assert KEY not in repr(EasyPostConfig(api_key=SecretStr(KEY), http={}))


def test_create_shipment_sends_reference_addresses_parcel_with_basic_auth(client, api, caplog):
    route = api.post("/v2/shipments").mock(return_value=httpx.Response(201, json=SHIPMENT))
    caplog.set_level(logging.DEBUG)
    shipment = client.create_shipment(from_address=FROM, to_address=TO, parcel=PARCEL, reference="acme:PO1")
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()
    body = json.loads(request.content)["shipment"]
    assert body["reference"] == "acme:PO1"
    assert body["to_address"]["zip"] == "78701" and body["from_address"]["street1"] == "1 Dock Rd"
    assert body["parcel"] == {"weight": "16"}
    assert [r.id for r in shipment.rates] == ["rate_a", "rate_b"] and not shipment.bought
    assert KEY not in caplog.text and "Privacy Lane" not in caplog.text


def test_buy_posts_the_rate_id_once(client, api):
    route = api.post("/v2/shipments/shp_1/buy").mock(return_value=httpx.Response(200, json=BOUGHT))
    shipment = client.buy("shp_1", "rate_a")
    assert json.loads(route.calls.last.request.content) == {"rate": {"id": "rate_a"}}
    assert shipment.bought and shipment.tracking_code == "9400100000000000000001"
    assert shipment.postage_label.label_url.endswith("pl_1.png") and shipment.tracker.id == "trk_1"


def test_buy_timeout_is_in_doubt_and_not_retried(client, api):
    route = api.post("/v2/shipments/shp_1/buy").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(RetriableError) as raised:
        client.buy("shp_1", "rate_a")
    assert raised.value.write_in_doubt and route.call_count == 1


def test_buy_connect_failure_is_not_in_doubt(client, api):
    api.post("/v2/shipments/shp_1/buy").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(RetriableError) as raised:
        client.buy("shp_1", "rate_a")
    assert not raised.value.write_in_doubt


def test_retrieve_and_list_shipments(client, api):
    api.get("/v2/shipments/shp_1").mock(return_value=httpx.Response(200, json=BOUGHT))
    listed = api.get("/v2/shipments").mock(return_value=httpx.Response(200, json={"shipments": [BOUGHT],
                                                                                 "has_more": True}))
    assert client.retrieve_shipment("shp_1").bought
    page = client.list_shipments(purchased=True, before_id="shp_9", page_size=50)
    assert page.has_more and page.shipments[0].id == "shp_1"
    params = listed.calls.last.request.url.params
    assert params["purchased"] == "true" and params["before_id"] == "shp_9" and params["page_size"] == "50"


def test_trackers(client, api):
    created = api.post("/v2/trackers").mock(return_value=httpx.Response(200, json={
        "id": "trk_1", "tracking_code": "EZ1000000001", "carrier": "USPS", "status": "pre_transit"}))
    api.get("/v2/trackers/trk_1").mock(return_value=httpx.Response(200, json={
        "id": "trk_1", "tracking_code": "EZ1000000001", "status": "delivered",
        "tracking_details": [{"status": "delivered", "message": "Delivered"}]}))
    assert client.create_tracker("EZ1000000001", "USPS").id == "trk_1"
    assert json.loads(created.calls.last.request.content) == {"tracker": {"tracking_code": "EZ1000000001",
                                                                         "carrier": "USPS"}}
    tracker = client.retrieve_tracker("trk_1")
    assert tracker.status == "delivered" and tracker.tracking_details[0].status == "delivered"


def test_422_is_rejected_with_code_and_fields_not_values(client, api):
    api.post("/v2/shipments").mock(return_value=httpx.Response(422, json=error(
        "ADDRESS.VERIFY.FAILURE", "Unable to verify address.",
        [{"field": "to_address.zip", "message": "17 Privacy Lane is not valid"}])))
    with pytest.raises(RejectedDocument) as raised:
        client.create_shipment(from_address=FROM, to_address=TO, parcel=PARCEL, reference="acme:PO1")
    text = str(raised.value)
    assert "ADDRESS.VERIFY.FAILURE" in text and "to_address.zip" in text and "Privacy Lane" not in text


def test_401_is_configuration(client, api):
    api.get("/v2/shipments/shp_1").mock(return_value=httpx.Response(401, json=error(
        "APIKEY.INACTIVE", "This api key is no longer active.")))
    with pytest.raises(ConfigurationError, match=r"APIKEY\.INACTIVE"):
        client.retrieve_shipment("shp_1")


def test_404_with_easypost_body_is_not_found_and_bare_404_is_configuration(client, api):
    api.get("/v2/shipments/shp_x").mock(return_value=httpx.Response(404, json=error(
        "NOT_FOUND", "The requested resource could not be found.")))
    api.get("/v2/trackers/trk_x").mock(return_value=httpx.Response(404, text="no such path"))
    with pytest.raises(NotFound):
        client.retrieve_shipment("shp_x")
    with pytest.raises(ConfigurationError):
        client.retrieve_tracker("trk_x")


def test_429_waits_retry_after_on_reads(client, api):
    waits: list[float] = []
    client._sleep = waits.append
    route = api.get("/v2/trackers/trk_1").mock(side_effect=[
        httpx.Response(429, headers={"Retry-After": "3"}, json=error("RATE_LIMITED", "slow down")),
        httpx.Response(200, json={"id": "trk_1", "tracking_code": "EZ1", "status": "in_transit"}),
    ])
    assert client.retrieve_tracker("trk_1").status == "in_transit"
    assert route.call_count == 2 and waits == [3.0]


def test_429_on_buy_is_retriable_not_in_doubt(client, api):
    api.post("/v2/shipments/shp_1/buy").mock(return_value=httpx.Response(
        429, headers={"Retry-After": "7"}, json=error("RATE_LIMITED", "slow down")))
    with pytest.raises(RetriableError) as raised:
        client.buy("shp_1", "rate_a")
    assert raised.value.retry_after == 7 and not raised.value.write_in_doubt


def test_5xx_retried_on_reads_then_retriable(client, api):
    route = api.get("/v2/shipments/shp_1").mock(return_value=httpx.Response(503, json=error(
        "INTERNAL_SERVER_ERROR", "down")))
    with pytest.raises(RetriableError):
        client.retrieve_shipment("shp_1")
    assert route.call_count == 3


def test_iter_shipments_pages_back_by_before_id_since_a_time(client, api):
    import datetime as dt

    first = {**BOUGHT, "id": "shp_3"}
    second = {**BOUGHT, "id": "shp_2"}
    route = api.get("/v2/shipments").mock(side_effect=[
        httpx.Response(200, json={"shipments": [first], "has_more": True}),
        httpx.Response(200, json={"shipments": [second], "has_more": False}),
    ])
    since = dt.datetime(2026, 8, 6, 12, 0, tzinfo=dt.UTC)
    assert [s.id for s in client.iter_shipments(purchased=True, start_datetime=since)] == ["shp_3", "shp_2"]
    params = [call.request.url.params for call in route.calls]
    assert "before_id" not in params[0] and params[1]["before_id"] == "shp_3"
    assert params[1]["start_datetime"] == "2026-08-06T12:00:00Z" and params[1]["purchased"] == "true"
