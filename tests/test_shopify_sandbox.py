"""The sandbox shop over a real socket: the Admin REST contract, its bucket and 429s, end to end with the client."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import threading
from decimal import Decimal
from typing import Any

import httpx
import pytest
import respx

from canonical.errors import ConfigurationError
from connectors.shopify import ShopifyClient, ShopifyConfig
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
    return [o["id"] for page in api.iter_order_pages(since) for o in page.orders]


@pytest.fixture
def shop():
    with SandboxShopify(access_token=TOKEN, webhook_secret="whsec_test") as sandbox:
        yield sandbox


def test_every_order_is_read_once_across_pages_and_maps_cleanly(shop):
    ids = shop.seed_orders(57)
    with client(shop, page_limit=10) as api:
        pages = list(api.iter_order_pages(EPOCH))
        assert api.stats.requests == 6
    assert [o["id"] for p in pages for o in p.orders] == ids
    mapped = [m for p in pages for m in map_shopify_orders(p.raw, profile=PROFILE)]
    assert all(m.state == "ok" and not m.order.warnings for m in mapped)
    assert {m.order.source_ref for m in mapped} == {str(i) for i in ids}


def test_updated_at_min_is_inclusive_so_a_same_second_update_is_not_lost():
    clock = {"now": dt.datetime(2024, 10, 1, 12, 0, 0, tzinfo=dt.UTC)}
    with SandboxShopify(access_token=TOKEN, now=lambda: clock["now"]) as shop:
        ids = shop.seed_orders(5, start=dt.datetime(2024, 10, 1, 11, 0, tzinfo=dt.UTC))
        cursor = dt.datetime.fromisoformat(shop.update_order(ids[0], note="first")["updated_at"])
        shop.update_order(ids[1], note="same second")  # after our sync read, within the cursor's second
        with client(shop) as api:
            assert set(fetched_ids(api, cursor)) == {ids[0], ids[1]}


def test_refunds_and_cancellations_bump_updated_at_and_map(shop):
    ids = shop.seed_orders(8, start=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    order_id, line_index = next((i, n) for i in ids for n, line in enumerate(shop.order(i)["line_items"])
                                if line["quantity"] > 1 and i != ids[1])
    refunded = shop.refund_line(order_id, line_index, 1)
    cancelled = shop.cancel_order(ids[1])
    with client(shop) as api:
        recent = fetched_ids(api, dt.datetime(2024, 6, 1, tzinfo=dt.UTC))
    assert set(recent) == {order_id, ids[1]}
    (mapped,) = map_shopify_orders(shop.webhook_body(ids[1]), profile=PROFILE)
    assert mapped.order.purpose.value == "cancellation" and cancelled["cancelled_at"]
    (mapped,) = map_shopify_orders(shop.webhook_body(order_id), profile=PROFILE)
    line = refunded["line_items"][line_index]
    assert line["current_quantity"] == line["quantity"] - 1
    assert mapped.order.lines[line_index].quantity == line["current_quantity"]
    assert not mapped.order.warnings and mapped.order.total == Decimal(refunded["current_total_price"])


def test_wrong_token_gets_shopifys_401_body(shop):
    response = httpx.get(f"{shop.base_url}/admin/api/2024-10/orders.json", headers={"X-Shopify-Access-Token": "x"})
    assert response.status_code == 401 and response.json() == {"errors": INVALID_TOKEN}
    api = ShopifyClient(ShopifyConfig(shop_domain=shop.shop_domain, access_token="wrong",
                                      http={"base_url": shop.base_url}))
    with api, pytest.raises(ConfigurationError, match="Invalid API key"):
        fetched_ids(api)


def test_page_info_refuses_other_filters_and_bad_limits(shop):
    shop.seed_orders(3)
    headers = {"X-Shopify-Access-Token": TOKEN}
    url = f"{shop.base_url}/admin/api/2024-10/orders.json"
    first = httpx.get(url, params={"status": "any", "limit": 1}, headers=headers)
    next_url = first.links["next"]["url"]
    assert "page_info=" in next_url and first.headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"
    assert httpx.get(next_url, headers=headers).status_code == 200
    refused = httpx.get(next_url + "&status=any", headers=headers)
    assert refused.status_code == 400 and "page_info" in refused.json()["errors"]
    assert httpx.get(url, params={"limit": 251}, headers=headers).status_code == 400


def test_bucket_overflow_is_429_with_retry_after():
    with SandboxShopify(access_token=TOKEN, bucket_size=3, leak_rate=0.5) as shop:
        answers = [httpx.get(f"{shop.base_url}/admin/api/2024-10/orders.json",
                             headers={"X-Shopify-Access-Token": TOKEN}) for _ in range(5)]
    assert [a.status_code for a in answers][:3] == [200, 200, 200]
    assert answers[2].headers["X-Shopify-Shop-Api-Call-Limit"] == "3/3"
    assert answers[3].status_code == 429 and float(answers[3].headers["Retry-After"]) > 0
    assert "Exceeded" in answers[3].json()["errors"]


def test_a_429_storm_ends_with_every_order_fetched_exactly_once():
    """Another app hammers the same shop's bucket while we page: we wait, retry, and lose or double nothing."""
    with SandboxShopify(access_token=TOKEN, bucket_size=4, leak_rate=40) as shop:
        ids = shop.seed_orders(60)
        shop.inject_failures(429, times=3, retry_after=0.05)

        def noisy_neighbour() -> None:
            with httpx.Client() as other:
                for _ in range(150):
                    other.get(f"{shop.base_url}/admin/api/2024-10/orders.json", params={"limit": 1},
                              headers={"X-Shopify-Access-Token": TOKEN})

        neighbour = threading.Thread(target=noisy_neighbour, daemon=True)
        try:
            with client(shop, page_limit=5, leak_rate=40, max_retries=50, backoff_base_seconds=0.01,
                        backoff_cap_seconds=1) as api:
                pages = api.iter_order_pages(EPOCH)
                got = [o["id"] for o in next(pages).orders]  # through the three injected 429s
                neighbour.start()  # then another app drains the shared bucket while we page on
                got += [o["id"] for page in pages for o in page.orders]
                ours_429 = api.stats.responses_429
        finally:
            neighbour.join(timeout=10)
        assert sorted(got) == ids and len(got) == len(set(got))
        assert ours_429 >= 3 and shop.stats["responses_429"] >= ours_429


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
    assert seen["x-shopify-api-version"] == "2024-10" and "x-shopify-triggered-at" in seen
