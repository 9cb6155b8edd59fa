"""The sandbox shop over a real socket: the GraphQL Admin contract, its cost bucket and THROTTLED, end to end."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from canonical.errors import ConfigurationError
from connectors.shopify import ORDERS_QUERY, ShopifyClient, ShopifyConfig
from mappings.profiles import PartnerProfile
from mappings.shopify import map_shopify_orders
from sandbox.shopify_server import INVALID_TOKEN, SandboxShopify, sign_webhook

TOKEN = "shpat_sandbox_token"
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
PROFILE = PartnerProfile(id="sandbox-shop", name="Sandbox", channels=[{"kind": "shopify",
    "shop_domain": "sandbox-shop.myshopify.com", "access_token_env": "T", "webhook_secret_env": "W"}])


def client(shop: SandboxShopify, **kw) -> ShopifyClient:
    return ShopifyClient(ShopifyConfig(shop_domain=shop.shop_domain, access_token=TOKEN,
                                       http={"base_url": shop.base_url}, **kw))


def fetched_ids(api: ShopifyClient, since: dt.datetime = EPOCH) -> list[int]:
    return [int(o["legacyResourceId"]) for page in api.iter_order_pages(since) for o in page.orders]


def post(shop: SandboxShopify, variables: dict[str, Any], *, query: str = ORDERS_QUERY,
         token: str = TOKEN) -> httpx.Response:
    return httpx.post(f"{shop.base_url}/admin/api/2026-10/graphql.json", json={"query": query, "variables": variables},
                      headers={"X-Shopify-Access-Token": token})


def variables(first: int = 4, **kw: Any) -> dict[str, Any]:
    return {"first": first, "after": None, "query": None, "lineItems": 20, "shippingLines": 5, **kw}


@pytest.fixture
def shop():
    with SandboxShopify(access_token=TOKEN, webhook_secret="whsec_test") as sandbox:
        yield sandbox


def test_every_order_is_read_once_across_pages_and_maps_cleanly():
    with SandboxShopify(access_token=TOKEN, restore_rate=1000) as shop:  # a Plus plan: the pacing test is below
        ids = shop.seed_orders(57)
        with client(shop, page_limit=10, line_items_limit=5, shipping_lines_limit=1) as api:
            pages = list(api.iter_order_pages(EPOCH))
            last_cost = api.last_cost
            assert api.stats.requests == 6
    assert last_cost is not None and last_cost.requested == 3 + 10 * (19 + 2 + 5 * 9 + 2 + 1 * 6)
    assert [int(o["legacyResourceId"]) for p in pages for o in p.orders] == ids  # seeded in updated_at order
    mapped = [m for p in pages for m in map_shopify_orders(p.raw, profile=PROFILE)]
    assert all(m.state == "ok" and not m.order.warnings for m in mapped)
    assert {m.order.source_ref for m in mapped} == {str(i) for i in ids}


def test_query_and_webhook_give_the_same_canonical_order_in_a_shop_west_of_utc():
    late = dt.datetime(2024, 10, 3, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-4)))  # 03:30Z on the 4th
    with SandboxShopify(access_token=TOKEN, timezone="America/New_York", now=lambda: late) as shop:
        ids = shop.seed_orders(6, start=late - dt.timedelta(minutes=5), spacing=dt.timedelta(seconds=20))
        shop.refund_line(ids[0], 0, 1) if shop.order(ids[0])["line_items"][0]["quantity"] > 1 else None
        shop.cancel_order(ids[1])
        with client(shop) as api:
            pages = list(api.iter_order_pages(EPOCH))
        by_query = [m for p in pages for m in map_shopify_orders(p.raw, profile=PROFILE)]
        assert len(by_query) == 6
        for mapped in by_query:
            (by_webhook,) = map_shopify_orders(shop.webhook_body(int(mapped.channel_order_id)), profile=PROFILE)
            exclude = {"raw_document_id", "document_ref"}
            assert mapped.order.model_dump(exclude=exclude) == by_webhook.order.model_dump(exclude=exclude)
            assert mapped.order.order_date == dt.date(2024, 10, 3), "the shop's date, not UTC's"
    assert b'"ianaTimezone":"America/New_York"' in pages[0].raw and b'"updatedAt":"2024-10-04T03:' in pages[0].raw


def test_updated_at_min_is_inclusive_so_a_same_second_update_is_not_lost():
    clock = {"now": dt.datetime(2024, 10, 1, 12, 0, 0, tzinfo=dt.UTC)}
    with SandboxShopify(access_token=TOKEN, now=lambda: clock["now"]) as shop:
        ids = shop.seed_orders(5, start=dt.datetime(2024, 10, 1, 11, 0, tzinfo=dt.UTC))
        cursor = dt.datetime.fromisoformat(shop.update_order(ids[0], note="first")["updated_at"])
        shop.update_order(ids[1], note="same second")  # after our sync read, within the cursor's second
        with client(shop) as api:
            assert set(fetched_ids(api, cursor)) == {ids[0], ids[1]}
            until = cursor - dt.timedelta(seconds=1)  # updated_at:<= pins the end: the edits wait
            assert set(fetched_ids(api, EPOCH)) == set(ids)
            assert {int(o["legacyResourceId"]) for p in api.iter_order_pages(EPOCH, updated_at_max=until)
                    for o in p.orders} == set(ids[2:])


def test_the_client_paces_itself_on_the_standard_plans_bucket_without_being_throttled(shop):
    shop.seed_orders(40)  # 10 queries of 935 requested points: more than the 2,000-point bucket holds at once
    with client(shop) as api:
        assert len(fetched_ids(api)) == 40
        assert api.stats.responses_429 == 0 and api.stats.throttle_waits > 0
    assert shop.stats["responses_429"] == 0


def test_pages_are_sorted_by_updated_at_and_an_edited_order_moves_to_the_end(shop):
    ids = shop.seed_orders(5, start=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    shop.update_order(ids[0], note="edited today")
    with client(shop, page_limit=2) as api:
        assert fetched_ids(api) == ids[1:] + ids[:1]


def test_refunds_and_cancellations_bump_updated_at_and_map(shop):
    ids = shop.seed_orders(8, start=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    order_id, line_index = next((i, n) for i in ids for n, line in enumerate(shop.order(i)["line_items"])
                                if line["quantity"] > 1 and i != ids[1])
    refunded = shop.refund_line(order_id, line_index, 1)
    cancelled = shop.cancel_order(ids[1])
    with client(shop) as api:
        recent = list(api.iter_order_pages(dt.datetime(2024, 6, 1, tzinfo=dt.UTC)))
    assert {int(o["legacyResourceId"]) for p in recent for o in p.orders} == {order_id, ids[1]}
    by_id = {m.channel_order_id: m for p in recent for m in map_shopify_orders(p.raw, profile=PROFILE)}
    assert by_id[str(ids[1])].order.purpose.value == "cancellation" and cancelled["cancelled_at"]
    (mapped,) = map_shopify_orders(shop.webhook_body(order_id), profile=PROFILE)
    line = refunded["line_items"][line_index]
    assert line["current_quantity"] == line["quantity"] - 1
    assert mapped.order.lines[line_index].quantity == line["current_quantity"]
    assert not mapped.order.warnings and mapped.order.total == Decimal(refunded["current_total_price"])
    assert by_id[str(order_id)].order.total == mapped.order.total


def test_wrong_token_gets_shopifys_401_body(shop):
    response = post(shop, variables(), token="x")
    assert response.status_code == 401 and response.json() == {"errors": INVALID_TOKEN}
    api = ShopifyClient(ShopifyConfig(shop_domain=shop.shop_domain, access_token="wrong",
                                      http={"base_url": shop.base_url}))
    with api, pytest.raises(ConfigurationError, match="Invalid API key"):
        fetched_ids(api)


def test_bad_variables_cursors_and_searches_are_graphql_errors(shop):
    shop.seed_orders(3)
    first = post(shop, variables(first=1)).json()
    cursor = first["data"]["orders"]["pageInfo"]["endCursor"]
    assert first["data"]["orders"]["pageInfo"]["hasNextPage"] is True and cursor
    assert len(post(shop, variables(first=1, after=cursor)).json()["data"]["orders"]["nodes"]) == 1
    for bad in (variables(first=251), variables(after="not-a-cursor"), variables(query="status:open")):
        answer = post(shop, bad)
        assert answer.status_code == 200 and "data" not in answer.json()
        assert answer.json()["errors"][0]["extensions"]["code"] == "argumentError"
    assert post(shop, {}, query="{ products(first: 1) { nodes { id } } }").json()["errors"][0]["message"]


def test_cost_is_charged_refunded_and_reported_and_one_query_may_not_exceed_1000(shop):
    shop.seed_orders(2)
    answer = post(shop, variables(first=4)).json()
    cost = answer["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 3 + 4 * 233 and cost["actualQueryCost"] < cost["requestedQueryCost"]
    assert cost["throttleStatus"]["maximumAvailable"] == 2000 and cost["throttleStatus"]["restoreRate"] == 100
    assert 2000 - cost["actualQueryCost"] - 1 <= cost["throttleStatus"]["currentlyAvailable"] <= 2000
    too_big = post(shop, variables(first=5)).json()
    assert too_big["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED" and "data" not in too_big


def test_an_empty_bucket_is_throttled_with_http_200():
    with SandboxShopify(access_token=TOKEN, bucket_size=1000, restore_rate=1) as shop:
        shop.seed_orders(8)
        answers = [post(shop, variables(first=4)).json() for _ in range(2)]  # 935 requested, ~230 used each
    assert "data" in answers[0] and "errors" not in answers[0]
    (error,) = answers[1]["errors"]
    assert error["extensions"]["code"] == "THROTTLED" and error["message"] == "Throttled" and "data" not in answers[1]
    cost = answers[1]["extensions"]["cost"]
    assert cost["actualQueryCost"] is None and cost["throttleStatus"]["currentlyAvailable"] < 935
    assert cost["throttleStatus"]["currentlyAvailable"] >= 1000 - answers[0]["extensions"]["cost"]["actualQueryCost"]


def test_a_throttled_client_waits_for_the_bucket_and_reads_every_order_exactly_once():
    """Another app drains the same shop's bucket while we page: we wait, ask again, and lose or double nothing."""
    with SandboxShopify(access_token=TOKEN, bucket_size=1000, restore_rate=2000) as shop:
        ids = shop.seed_orders(60)
        shop.inject_throttled(times=3)

        def noisy_neighbour() -> None:
            with httpx.Client() as other:
                for _ in range(60):
                    other.post(f"{shop.base_url}/admin/api/2026-10/graphql.json",
                               json={"query": ORDERS_QUERY, "variables": variables(first=4)},
                               headers={"X-Shopify-Access-Token": TOKEN})

        neighbour = threading.Thread(target=noisy_neighbour, daemon=True)
        try:
            with client(shop, page_limit=4, max_retries=50, backoff_base_seconds=0.01, backoff_cap_seconds=1) as api:
                pages = api.iter_order_pages(EPOCH)
                got = [int(o["legacyResourceId"]) for o in next(pages).orders]  # through the three THROTTLED
                neighbour.start()  # then another app drains the shared bucket while we page on
                got += [int(o["legacyResourceId"]) for page in pages for o in page.orders]
                ours = api.stats.responses_429
        finally:
            neighbour.join(timeout=10)
        assert sorted(got) == ids and len(got) == len(set(got))
        assert ours >= 3 and shop.stats["responses_429"] >= ours


def test_get_order_reads_one_order_by_its_numeric_id(shop):
    (order_id,) = shop.seed_orders(1)
    with client(shop) as api:
        found = api.get_order(order_id)
        with pytest.raises(ConfigurationError, match="no order"):
            api.get_order(1)
    (mapped,) = map_shopify_orders(found.raw, profile=PROFILE)
    assert mapped.channel_order_id == str(order_id) and mapped.state == "ok"


def test_webhook_body_is_rest_shaped_and_carries_the_shop_offset():
    with SandboxShopify(access_token=TOKEN, timezone="Europe/London",
                        now=lambda: dt.datetime(2024, 7, 1, 12, tzinfo=dt.UTC)) as shop:
        (order_id,) = shop.seed_orders(1)
        body = json.loads(shop.webhook_body(order_id))
    assert body["id"] == order_id and body["updated_at"].endswith("+01:00") and "line_items" in body


def test_webhooks_are_signed_like_shopify(shop):
    (order_id,) = shop.seed_orders(1)
    body = shop.webhook_body(order_id)
    expected = base64.b64encode(hmac.new(b"whsec_test", body, hashlib.sha256).digest()).decode()
    assert sign_webhook(body, "whsec_test") == expected
    seen: dict[str, Any] = {}  # the headers (text) and the body (bytes)

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.update(request.headers)
        seen["body"] = request.content
        return httpx.Response(200)

    with respx.mock:
        respx.post("http://hub.test/webhooks/shopify/sandbox-shop").mock(side_effect=receiver)
        shop.send_webhook("http://hub.test/webhooks/shopify/sandbox-shop", "orders/create", order_id,
                          webhook_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
    assert seen["body"] == body and seen["x-shopify-hmac-sha256"] == expected
    assert seen["x-shopify-topic"] == "orders/create" and seen["x-shopify-shop-domain"] == shop.shop_domain
    assert seen["x-shopify-webhook-id"] == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    assert seen["x-shopify-api-version"] == "2026-10" and "x-shopify-triggered-at" in seen
