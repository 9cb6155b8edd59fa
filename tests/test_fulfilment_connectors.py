"""Fulfilment calls on the wire (respx): Shopify fulfillmentCreate per location, SP-API confirmShipment per package."""

from __future__ import annotations

import datetime as dt
import json
import random

import httpx
import pytest
import respx

from canonical.errors import RejectedDocument, RetriableError
from connectors.amazon import AmazonConfig, AmazonSellerClient, PackageDetail
from connectors.shopify import (
    ShopifyClient,
    ShopifyConfig,
    ShopifyFulfilments,
    TrackingInfo,
    by_location,
    line_items_by_fulfillment_order,
)
from tests.fixtures.clock import FakeClock

SHOP = "acme-store.myshopify.com"
GRAPHQL = f"https://{SHOP}/admin/api/2026-10/graphql.json"
API = "https://sellingpartnerapi-na.amazon.com"
TOKEN_URL = "https://api.amazon.com/auth/o2/token"
ORDER_ID = "902-3159896-1390916"
SHIPPED_AT = dt.datetime(2026, 12, 4, 15, 30, tzinfo=dt.UTC)


def cost(available: float = 1900, requested: float = 10) -> dict:
    return {"cost": {"requestedQueryCost": requested, "actualQueryCost": requested,
                     "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": available,
                                        "restoreRate": 100.0}}}


def shopify(clock: FakeClock) -> ShopifyFulfilments:
    config = ShopifyConfig.model_validate({"shop_domain": SHOP, "access_token": "shpat_test",
                                           "expected_query_cost": 10})
    return ShopifyFulfilments(ShopifyClient(config, sleep=clock.sleep, clock=clock, rng=random.Random(1)))


def fulfillment_orders_answer() -> dict:
    def fo(n: int, location: int, lines: list[tuple[int, int, int]], status: str = "OPEN") -> dict:
        return {"id": f"gid://shopify/FulfillmentOrder/{n}", "status": status,
                "assignedLocation": {"name": f"Warehouse {location}",
                                     "location": {"id": f"gid://shopify/Location/{location}"}},
                "lineItems": {"nodes": [{"id": f"gid://shopify/FulfillmentOrderLineItem/{i}", "sku": f"SKU-{i}",
                                         "remainingQuantity": rem, "totalQuantity": rem,
                                         "lineItem": {"id": f"gid://shopify/LineItem/{li}"}}
                                        for i, li, rem in lines]}}
    return {"data": {"order": {"id": "gid://shopify/Order/5001", "fulfillmentOrders": {"nodes": [
        fo(1, 10, [(11, 501, 2), (12, 502, 0)]),
        fo(2, 20, [(21, 503, 1)]),
        fo(3, 10, [(31, 504, 3)]),
        fo(4, 30, [(41, 505, 1)], status="CLOSED"),
    ]}}}, "extensions": cost()}


def created(fulfillment_id: int = 900, location: int = 10) -> dict:
    return {"data": {"fulfillmentCreate": {"fulfillment": {
        "id": f"gid://shopify/Fulfillment/{fulfillment_id}", "status": "SUCCESS",
        "location": {"id": f"gid://shopify/Location/{location}"},
        "trackingInfo": [{"company": "UPS", "number": "1Z999", "url": None}]}, "userErrors": []}},
        "extensions": cost()}


def sent(call) -> dict:
    return json.loads(call.request.content)


@respx.mock
def test_fulfillment_orders_are_grouped_by_location_and_only_open_remaining_lines_are_sent(clock):
    respx.post(GRAPHQL).mock(return_value=httpx.Response(200, json=fulfillment_orders_answer()))
    orders = shopify(clock).fulfillment_orders("5001")
    grouped = by_location(orders)
    assert sorted(grouped) == ["gid://shopify/Location/10", "gid://shopify/Location/20"]  # the CLOSED one is out
    items = line_items_by_fulfillment_order(grouped["gid://shopify/Location/10"])
    assert items == [
        {"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/1",
         "fulfillmentOrderLineItems": [{"id": "gid://shopify/FulfillmentOrderLineItem/11", "quantity": 2}]},
        {"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/3",
         "fulfillmentOrderLineItems": [{"id": "gid://shopify/FulfillmentOrderLineItem/31", "quantity": 3}]},
    ]
    assert orders[0].lines[0].line_item_id == "501"  # the canonical order's line number


@respx.mock
def test_fulfillment_create_sends_the_current_input_with_tracking_and_notification(clock):
    route = respx.post(GRAPHQL).mock(return_value=httpx.Response(200, json=created()))
    items = [{"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/1",
              "fulfillmentOrderLineItems": [{"id": "gid://shopify/FulfillmentOrderLineItem/11", "quantity": 2}]}]
    done = shopify(clock).create(items, TrackingInfo("UPS", "1Z999", "https://track.example/1Z999"),
                                 notify_customer=True)
    body = sent(route.calls.last)
    assert "fulfillmentCreate(fulfillment: $fulfillment)" in body["query"]
    assert body["variables"] == {"fulfillment": {
        "lineItemsByFulfillmentOrder": items, "notifyCustomer": True,
        "trackingInfo": {"company": "UPS", "number": "1Z999", "url": "https://track.example/1Z999"}}}
    assert done.id == "gid://shopify/Fulfillment/900" and done.tracking_numbers == ("1Z999",)


@respx.mock
def test_fulfillment_create_throttled_at_the_cost_limit_waits_what_the_bucket_needs_then_creates_once(clock):
    throttled = httpx.Response(200, json={"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                                          "extensions": cost(available=4, requested=10)})
    route = respx.post(GRAPHQL).mock(side_effect=[throttled, httpx.Response(200, json=created())])
    fulfilments = shopify(clock)
    done = fulfilments.create([], TrackingInfo("UPS", "1Z999"), notify_customer=False)
    assert done.id == "gid://shopify/Fulfillment/900"
    assert route.call_count == 2  # THROTTLED means the mutation did not run: asked again, created once
    assert pytest.approx(0.06) in clock.sleeps  # (10 - 4) points at 100 points a second
    assert fulfilments.client.stats.responses_429 == 1


@respx.mock
def test_user_errors_are_a_clear_refusal_naming_the_field(clock):
    respx.post(GRAPHQL).mock(return_value=httpx.Response(200, json={"data": {"fulfillmentCreate": {
        "fulfillment": None, "userErrors": [{"field": ["fulfillment", "lineItemsByFulfillmentOrder", "0"],
                                             "message": "Fulfillment order 1 is not open"}]}},
        "extensions": cost()}))
    with pytest.raises(RejectedDocument, match=r"fulfillmentCreate: fulfillment\.lineItemsByFulfillmentOrder\.0: "
                                               r"Fulfillment order 1 is not open"):
        shopify(clock).create([], TrackingInfo("UPS", "1Z999"), notify_customer=False)


@respx.mock
def test_a_timed_out_fulfillment_create_is_not_resent_and_is_a_write_in_doubt(clock):
    route = respx.post(GRAPHQL).mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(RetriableError) as raised:
        shopify(clock).create([], TrackingInfo("UPS", "1Z999"), notify_customer=False)
    assert raised.value.write_in_doubt and route.call_count == 1


@pytest.mark.parametrize("status", [500, 503])
@respx.mock
def test_a_fulfillment_create_answered_5xx_is_not_resent_and_is_a_write_in_doubt(clock, status):
    route = respx.post(GRAPHQL).mock(side_effect=[httpx.Response(status, json={"errors": "Internal"}),
                                                  httpx.Response(200, json={"data": {}})])
    with pytest.raises(RetriableError) as raised:
        shopify(clock).create([], TrackingInfo("UPS", "1Z999"), notify_customer=False)
    assert raised.value.write_in_doubt and route.call_count == 1


@respx.mock
def test_a_fulfillment_create_throttled_to_the_end_was_never_run_so_it_is_not_in_doubt(clock):
    route = respx.post(GRAPHQL).mock(return_value=httpx.Response(429, json={"errors": "Exceeded"}))
    with pytest.raises(RetriableError) as raised:
        shopify(clock).create([], TrackingInfo("UPS", "1Z999"), notify_customer=False)
    assert not raised.value.write_in_doubt and route.call_count > 1


# -- marketplace --------------------------------------------------------------------------------------

def seller(clock: FakeClock) -> AmazonSellerClient:
    config = AmazonConfig.model_validate({"client_id": "amzn1.application-oa2-client.demo",
                                          "client_secret": "secret-value", "refresh_token": "Atzr|refresh-value",
                                          "marketplace_ids": ("ATVPDKIKX0DER",)})
    return AmazonSellerClient(config, sleep=clock.sleep, clock=clock, rng=random.Random(7))


def token() -> httpx.Response:
    return httpx.Response(200, json={"access_token": "Atza|t", "token_type": "bearer", "expires_in": 3600})


PACKAGE = PackageDetail(package_reference_id="17", carrier_code="UPS", tracking_number="1Z999",
                        ship_date=SHIPPED_AT, order_items=[("62514371841234", 2), ("62514371845678", 1)])


@respx.mock
def test_a_shipment_confirmation_is_one_post_per_package_with_the_reference_as_a_string(clock):
    respx.post(TOKEN_URL).mock(return_value=token())
    route = respx.post(f"{API}/orders/v0/orders/{ORDER_ID}/shipmentConfirmation").mock(
        return_value=httpx.Response(204))
    seller(clock).confirm_shipment(ORDER_ID, "ATVPDKIKX0DER", PACKAGE)
    body = sent(route.calls.last)
    assert body == {"marketplaceId": "ATVPDKIKX0DER", "packageDetail": {
        "packageReferenceId": "17", "carrierCode": "UPS", "trackingNumber": "1Z999",
        "shipDate": "2026-12-04T15:30:00Z",
        "orderItems": [{"orderItemId": "62514371841234", "quantity": 2},
                       {"orderItemId": "62514371845678", "quantity": 1}]}}
    assert isinstance(body["packageDetail"]["packageReferenceId"], str)
    assert route.calls.last.request.headers["x-amz-access-token"] == "Atza|t"


def test_a_package_reference_that_is_not_a_positive_number_is_refused_before_sending():
    for bad in ("0", "PKG-1", "-3"):
        with pytest.raises(RejectedDocument, match="packageReferenceId"):
            PackageDetail(package_reference_id=bad, carrier_code="UPS", tracking_number="1Z",
                          ship_date=SHIPPED_AT, order_items=[]).as_json()


@respx.mock
def test_sp_api_429_on_confirmations_waits_for_the_confirmation_bucket_and_confirms_once(clock):
    respx.post(TOKEN_URL).mock(return_value=token())
    quota = httpx.Response(429, headers={"x-amzn-RateLimit-Limit": "0.5"},
                           json={"errors": [{"code": "QuotaExceeded", "message": "You exceeded your quota"}]})
    route = respx.post(f"{API}/orders/v0/orders/{ORDER_ID}/shipmentConfirmation").mock(
        side_effect=[quota, httpx.Response(204)])
    client = seller(clock)
    client.confirm_shipment(ORDER_ID, "ATVPDKIKX0DER", PACKAGE)
    assert route.call_count == 2
    assert client.stats.responses_429 == 1
    bucket = client.limiter.buckets["confirmShipment"]
    assert bucket.leak_rate == 0.5  # the rate the API applied, from x-amzn-RateLimit-Limit
    # The 429 emptied the bucket: backoff and pacing together waited for one token at 0.5/s, 2 s.
    assert sum(clock.sleeps) == pytest.approx(2.0)
    # getOrders' own bucket was not touched by a confirmation.
    assert client.limiter.buckets["getOrders"].leak_rate == pytest.approx(0.0167)


@respx.mock
def test_a_timed_out_confirmation_is_a_write_in_doubt_sent_once(clock):
    respx.post(TOKEN_URL).mock(return_value=token())
    route = respx.post(f"{API}/orders/v0/orders/{ORDER_ID}/shipmentConfirmation").mock(
        side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(RetriableError) as raised:
        seller(clock).confirm_shipment(ORDER_ID, "ATVPDKIKX0DER", PACKAGE)
    assert raised.value.write_in_doubt and route.call_count == 1


@respx.mock
def test_a_refused_confirmation_is_that_documents_problem_and_get_order_reads_the_status(clock):
    respx.post(TOKEN_URL).mock(return_value=token())
    respx.post(f"{API}/orders/v0/orders/{ORDER_ID}/shipmentConfirmation").mock(return_value=httpx.Response(
        400, json={"errors": [{"code": "InvalidInput", "message": "Invalid orderItemId"}]}))
    respx.get(f"{API}/orders/v0/orders/{ORDER_ID}").mock(return_value=httpx.Response(
        200, json={"payload": {"AmazonOrderId": ORDER_ID, "OrderStatus": "Unshipped"}}))
    client = seller(clock)
    with pytest.raises(RejectedDocument, match="InvalidInput: Invalid orderItemId"):
        client.confirm_shipment(ORDER_ID, "ATVPDKIKX0DER", PACKAGE)
    assert client.get_order(ORDER_ID)["OrderStatus"] == "Unshipped"
