"""Shopify webhook receiver: signature on the raw body, size limit, one receipt per delivery, queued for the sensor."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from hub import store as st
from hub.intake import waiting_receipts
from hub.webhooks import CHANNEL, create_webhook_app, shopify_signature_valid
from mappings.profiles import PartnerDirectory, PartnerProfile
from mappings.shopify import map_shopify_orders
from sandbox._server import BackgroundServer
from sandbox.shopify_server import SandboxShopify, sign_webhook

SECRET = "whsec_9f8e7d6c5b4a"
DOMAIN = "sandbox-shop.myshopify.com"
SHOP = PartnerProfile(id="sandbox-shop", name="Sandbox shop", channels=[{"kind": "shopify",
    "shop_domain": DOMAIN, "access_token_env": "SANDBOX_SHOPIFY_TOKEN",
    "webhook_secret_env": "SANDBOX_SHOPIFY_SECRET"}])
EDI = PartnerProfile(id="acme", name="Acme (EDI only)")
PARTNERS = PartnerDirectory([SHOP, EDI])
ENV = {"SANDBOX_SHOPIFY_SECRET": SECRET}
BODY = b'{"id":5500000000001,"name":"#1001","updated_at":"2024-10-01T09:16:40-04:00","line_items":[]}'


def headers(body: bytes = BODY, *, topic="orders/create", webhook_id="wh-1", secret=SECRET, domain=DOMAIN) -> dict:
    return {"X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": sign_webhook(body, secret),
            "X-Shopify-Shop-Domain": domain, "X-Shopify-Webhook-Id": webhook_id, "X-Shopify-API-Version": "2024-10",
            "Content-Type": "application/json"}


@contextmanager
def served(app) -> Iterator[httpx.Client]:
    """The app behind uvicorn on a loopback port, as Shopify reaches it, and a client for it."""
    with BackgroundServer(app, name="webhook receiver") as server, httpx.Client(base_url=server.base_url) as client:
        yield client


@pytest.fixture
def app_client(sqlite_store):
    with served(create_webhook_app(lambda: sqlite_store, PARTNERS, max_bytes=4096, env=ENV)) as client:
        yield client


def receipts(store) -> list[st.Receipt]:
    with store.transaction() as conn:
        return [st.get_receipt(conn, rid) for rid in waiting_receipts(store, CHANNEL)]


def test_signed_webhook_is_archived_and_queued_once_even_when_delivered_twice(app_client, sqlite_store):
    for _ in range(2):  # Shopify retries a delivery with the same webhook id
        response = app_client.post("/webhooks/shopify/sandbox-shop", content=BODY, headers=headers())
        assert response.status_code == 200
    (receipt,) = receipts(sqlite_store)
    assert (receipt.channel, receipt.partner_id, receipt.source_name) == (CHANNEL, "sandbox-shop", "orders/create:wh-1")
    with sqlite_store.transaction() as conn:
        assert st.raw_content(conn, receipt.raw_sha256) == BODY  # byte for byte
    # A different delivery of the same order (orders/updated) is its own receipt; intake dedupes the order.
    assert app_client.post("/webhooks/shopify/sandbox-shop", content=BODY,
                           headers=headers(topic="orders/updated", webhook_id="wh-2")).status_code == 200
    assert len(receipts(sqlite_store)) == 2


@pytest.mark.parametrize("forge", [
    lambda h: h.update({"X-Shopify-Hmac-Sha256": sign_webhook(BODY, "not-the-secret")}),
    lambda h: h.pop("X-Shopify-Hmac-Sha256"),
    lambda h: h.update({"X-Shopify-Hmac-Sha256": "not base64!"}),
    lambda h: h.update({"X-Shopify-Hmac-Sha256": ""}),
])
def test_forged_or_unsigned_webhook_is_refused_and_nothing_stored(app_client, sqlite_store, forge):
    h = headers()
    forge(h)
    response = app_client.post("/webhooks/shopify/sandbox-shop", content=BODY, headers=h)
    assert response.status_code == 401
    assert receipts(sqlite_store) == []


def test_signature_is_over_the_raw_body_not_a_reencoding(app_client, sqlite_store):
    h = headers(BODY)
    tampered = BODY.replace(b'"#1001"', b'"#1002"')
    assert app_client.post("/webhooks/shopify/sandbox-shop", content=tampered, headers=h).status_code == 401
    respaced = BODY.replace(b",", b", ")
    assert app_client.post("/webhooks/shopify/sandbox-shop", content=respaced, headers=h).status_code == 401
    assert receipts(sqlite_store) == []


def test_too_large_body_is_413_and_nothing_stored(app_client, sqlite_store):
    big = b'{"id":1,"line_items":[],"note":"' + b"x" * 5000 + b'"}'
    response = app_client.post("/webhooks/shopify/sandbox-shop", content=big, headers=headers(big))
    assert response.status_code == 413

    def chunks():  # no Content-Length: the limit is enforced while reading
        for _ in range(10):
            yield b"y" * 1000

    streamed = app_client.post("/webhooks/shopify/sandbox-shop", content=chunks(), headers=headers(b"y" * 10000))
    assert streamed.status_code == 413
    assert receipts(sqlite_store) == []


@pytest.mark.parametrize(("path", "change", "status"), [
    ("/webhooks/shopify/nobody", {}, 404),
    ("/webhooks/shopify/acme", {}, 404),  # a partner without a Shopify store
    ("/webhooks/shopify/sandbox-shop", {"topic": "products/update"}, 400),
    ("/webhooks/shopify/sandbox-shop", {"topic": ""}, 400),
    ("/webhooks/shopify/sandbox-shop", {"domain": "other-shop.myshopify.com"}, 400),
    ("/webhooks/shopify/sandbox-shop", {"webhook_id": ""}, 400),
])
def test_unknown_partner_topic_shop_or_missing_id_is_refused(app_client, sqlite_store, path, change, status):
    assert app_client.post(path, content=BODY, headers=headers(**change)).status_code == status
    assert receipts(sqlite_store) == []


def test_missing_secret_is_503_so_shopify_retries(sqlite_store):
    with served(create_webhook_app(lambda: sqlite_store, PARTNERS, env={})) as client:
        assert client.post("/webhooks/shopify/sandbox-shop", content=BODY, headers=headers()).status_code == 503
    assert receipts(sqlite_store) == []


def test_signature_check():
    assert shopify_signature_valid(BODY, sign_webhook(BODY, SECRET), SECRET)
    assert not shopify_signature_valid(BODY, sign_webhook(BODY, SECRET), "")
    assert not shopify_signature_valid(BODY, None, SECRET)


def test_sandbox_shop_webhooks_over_a_socket_are_queued_and_map(sqlite_store):
    """The sandbox signs and posts real webhooks to the app served by uvicorn on loopback."""
    app = create_webhook_app(lambda: sqlite_store, PARTNERS, env=ENV)
    with BackgroundServer(app, name="webhook receiver") as server:
        url = f"{server.base_url}/webhooks/shopify/sandbox-shop"
        with SandboxShopify(access_token="t", webhook_secret=SECRET, shop_domain=DOMAIN) as shop:
            (order_id,) = shop.seed_orders(1)
            assert shop.send_webhook(url, "orders/create", order_id, webhook_id="a").status_code == 200
            shop.cancel_order(order_id)
            assert shop.send_webhook(url, "orders/cancelled", order_id, webhook_id="b").status_code == 200
            assert shop.send_webhook(url, "orders/cancelled", order_id, webhook_id="c",
                                     secret="forged").status_code == 401
    queued = receipts(sqlite_store)
    assert [r.source_name for r in queued] == ["orders/create:a", "orders/cancelled:b"]
    with sqlite_store.transaction() as conn:
        bodies = [st.raw_content(conn, r.raw_sha256) for r in queued]
    purposes = [map_shopify_orders(b, profile=SHOP)[0].order.purpose.value for b in bodies]
    assert purposes == ["original", "cancellation"]
