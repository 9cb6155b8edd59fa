"""The sandbox marketplace over a real socket: its SP-API/LWA contract, and the client and mapper against it."""

from __future__ import annotations

import collections
import datetime as dt
from decimal import Decimal

import httpx
import pytest

from canonical.model import PartyRole
from connectors.amazon import AmazonClient, AmazonConfig, OperationLimit
from mappings.amazon import map_amazon_order
from mappings.profiles import PartnerProfile
from sandbox.amazon_server import GET_ORDER_ITEMS, GET_ORDERS, SandboxAmazon

CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN = "amzn1.application-oa2-client.sandbox", "sandbox-secret", "Atzr|sandbox"
PROFILE = PartnerProfile.model_validate({
    "id": "marketplace-us", "name": "Sandbox marketplace",
    "channels": [{"kind": "amazon", "seller_id": "A1SANDBOX", "marketplace_ids": ["ATVPDKIKX0DER"],
                  "lwa_client_id_env": "X", "lwa_client_secret_env": "Y", "refresh_token_env": "Z"}],
})
EPOCH = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
FAST = {GET_ORDERS: (1000.0, 1000), GET_ORDER_ITEMS: (1000.0, 1000)}


def sandbox(**kw) -> SandboxAmazon:
    return SandboxAmazon(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN,
                         **{"limits": FAST, **kw})


def client_for(market: SandboxAmazon, **overrides) -> AmazonClient:
    config = AmazonConfig(http={"base_url": market.base_url}, token_url=market.token_url, client_id=CLIENT_ID,
                          client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN,
                          marketplace_ids=("ATVPDKIKX0DER",),
                          **{"get_orders_limit": OperationLimit(rate=1000, burst=1000),
                             "get_order_items_limit": OperationLimit(rate=1000, burst=1000), **overrides})
    return AmazonClient(config)


def sync(client: AmazonClient, since: dt.datetime = EPOCH) -> dict[str, list]:
    """Every order since ``since`` with its items, as a sync would read them (order id -> versions seen)."""
    seen: dict[str, list] = collections.defaultdict(list)
    for page in client.iter_order_pages(since):
        for order in page.orders:
            items = client.order_items(order["AmazonOrderId"])
            seen[order["AmazonOrderId"]].append((order, items, page.sha256))
    return seen


def test_token_endpoint_checks_the_client_and_the_refresh_token():
    with sandbox() as market, httpx.Client() as http:
        form = {"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN, "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET}
        good = http.post(market.token_url, data=form)
        assert good.status_code == 200 and good.json()["access_token"].startswith("Atza|")
        assert good.json()["expires_in"] == 3600 and good.json()["token_type"] == "bearer"
        bad_secret = http.post(market.token_url, data={**form, "client_secret": "nope"})
        assert (bad_secret.status_code, bad_secret.json()["error"]) == (401, "invalid_client")
        bad_grant = http.post(market.token_url, data={**form, "refresh_token": "Atzr|stolen"})
        assert (bad_grant.status_code, bad_grant.json()["error"]) == (400, "invalid_grant")


def test_orders_api_refuses_missing_tokens_and_bad_queries_with_sp_api_errors():
    with sandbox() as market, httpx.Client(base_url=market.base_url) as http:
        anonymous = http.get("/orders/v0/orders", params={"MarketplaceIds": "ATVPDKIKX0DER",
                                                          "LastUpdatedAfter": "2024-01-01T00:00:00Z"})
        assert anonymous.status_code == 403
        assert anonymous.json()["errors"][0]["code"] == "Unauthorized"
        token = http.post("/auth/o2/token", data={"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN,
                                                  "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}).json()
        headers = {"x-amz-access-token": token["access_token"]}
        no_marketplace = http.get("/orders/v0/orders", params={"LastUpdatedAfter": "2024-01-01T00:00:00Z"},
                                  headers=headers)
        assert (no_marketplace.status_code, no_marketplace.json()["errors"][0]["code"]) == (400, "InvalidInput")
        unknown = http.get("/orders/v0/orders/111-0000000-0000000/orderItems", headers=headers)
        assert (unknown.status_code, unknown.json()["errors"][0]["code"]) == (404, "NotFound")
        ok = http.get("/orders/v0/orders", params={"MarketplaceIds": "ATVPDKIKX0DER",
                                                   "LastUpdatedAfter": "2024-01-01T00:00:00Z"}, headers=headers)
        assert ok.status_code == 200 and ok.headers["x-amzn-RateLimit-Limit"] == "1000"
        assert ok.headers["x-amzn-RequestId"]


def test_client_reads_every_order_and_item_page_and_the_mapper_decides_each():
    with sandbox(items_page_size=5) as market:
        demo = market.seed_demo_orders()
        generated = market.generate_orders(230, seed=3)
        with client_for(market) as client:
            seen = sync(client)
            calls = collections.Counter(op for op, status in market.calls if status == 200)
    assert sorted(seen) == sorted(demo + generated)
    assert all(len(versions) == 1 for versions in seen.values())
    assert calls[GET_ORDERS] == 3  # 236 orders, 100 a page
    # The six-item order came in two getOrderItems pages (5 + 1).
    assert [i["SellerSKU"] for i in seen["113-1000006-0000006"][0][1]] == ["GAD-300", "GIZ-400", "WID-100", "WID-200",
                                                                          "BOX-500", "GIZ-400"]
    assert calls[GET_ORDER_ITEMS] == len(seen) + 1

    mapped = {oid: map_amazon_order(o, items, profile=PROFILE, raw_document_id=sha)
              for oid, [(o, items, sha)] in seen.items()}
    assert {m.state for m in mapped.values()} == {"ok", "held"}
    assert mapped["113-1000001-0000001"].order.total == Decimal("36.60")
    assert (mapped["113-1000002-0000002"].push, mapped["113-1000002-0000002"].reason_not_pushed) == (
        False, "fulfilled by the marketplace (AFN)")
    assert mapped["113-1000003-0000003"].state == "held"
    assert mapped["113-1000004-0000004"].cancelled and not mapped["113-1000004-0000004"].push
    assert mapped["113-1000005-0000005"].order.references["purchase_order_number"] == "PO-77881"
    for m in mapped.values():
        if m.order is not None:  # the sandbox's totals add up exactly: no mapping warning about them
            assert not any("OrderTotal" in p for p in m.problems), m.problems


def test_an_update_bumps_last_update_date_and_is_found_from_a_cursor_in_the_same_second():
    with sandbox() as market:
        market.seed_demo_orders(at=dt.datetime(2024, 5, 1, 9, 0, tzinfo=dt.UTC))
        cursor = dt.datetime(2024, 5, 2, 10, 0, 0, tzinfo=dt.UTC)
        with client_for(market) as client:
            assert sync(client, cursor) == {}
            market.update_order("113-1000003-0000003", status="Unshipped", at=cursor)  # the very second of the cursor
            market.update_order("113-1000004-0000004", at=cursor + dt.timedelta(seconds=5))
            seen = sync(client, cursor)
    assert sorted(seen) == ["113-1000003-0000003", "113-1000004-0000004"]
    (order, items, sha), = seen["113-1000003-0000003"]
    assert order["LastUpdateDate"] == "2024-05-02T10:00:00Z"
    released = map_amazon_order(order, items, profile=PROFILE, raw_document_id=sha)
    assert (released.state, released.push) == ("ok", True)  # the Pending order now has prices and an address
    (cancelled, cancelled_items, _), = seen["113-1000004-0000004"]
    assert map_amazon_order(cancelled, cancelled_items, profile=PROFILE, raw_document_id=sha).cancelled


def test_cancelling_an_order_zeroes_its_quantities_like_the_marketplace():
    with sandbox() as market:
        market.seed_demo_orders()
        before = market.order("113-1000001-0000001")
        after = market.update_order("113-1000001-0000001", status="Canceled")
        assert after["OrderStatus"] == "Canceled" and "OrderTotal" not in after
        assert after["LastUpdateDate"] >= before["LastUpdateDate"]
        with client_for(market) as client:
            items = client.order_items("113-1000001-0000001")
    assert [i["QuantityOrdered"] for i in items] == [0, 0]
    mapped = map_amazon_order(after, items, profile=PROFILE, raw_document_id="ab" * 32)
    assert mapped.cancelled and mapped.order is None


def test_expired_access_token_is_refreshed_once_and_the_sync_goes_on():
    with sandbox() as market:
        market.seed_demo_orders()
        with client_for(market) as client:
            assert len(sync(client)) == 6
            market.expire_access_tokens()
            assert len(sync(client)) == 6
    assert market.tokens_issued == 2
    assert sum(1 for _, status in market.calls if status == 403) == 1


def test_a_429_storm_still_yields_every_order_exactly_once():
    # The marketplace allows far less than the client believes, and throws extra 429s on top.
    limits = {GET_ORDERS: (40.0, 2), GET_ORDER_ITEMS: (200.0, 3)}
    with sandbox(limits=limits) as market:
        generated = market.generate_orders(120, seed=9)
        market.inject_failures(429, times=4)
        with client_for(market, max_retries=30, backoff_base_seconds=0.005, backoff_cap_seconds=0.2,
                        max_results_per_page=10) as client:
            seen = sync(client)
            stats = client.stats
    assert sorted(seen) == sorted(generated)
    assert all(len(versions) == 1 for versions in seen.values())
    refused = sum(1 for _, status in market.calls if status == 429)
    assert refused >= 5 and stats.responses_429 == refused
    # The client learned the real rates from x-amzn-RateLimit-Limit.
    assert client.limiter.buckets[GET_ORDERS].leak_rate == pytest.approx(40.0)


# -- Restricted Data Tokens ------------------------------------------------------------------------

LWA_FORM = {"grant_type": "refresh_token", "refresh_token": REFRESH_TOKEN, "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET}
QUERY = {"MarketplaceIds": "ATVPDKIKX0DER", "LastUpdatedAfter": "2020-01-01T00:00:00Z"}
TOKENS = "/tokens/2021-03-01/restrictedDataToken"


def resource(*elements: str, path: str = "/orders/v0/orders") -> dict:
    return {"restrictedResources": [{"method": "GET", "path": path, "dataElements": list(elements)}]}


def test_tokens_api_issues_an_rdt_for_get_orders_and_refuses_bad_requests():
    with sandbox() as market, httpx.Client(base_url=market.base_url) as http:
        lwa = {"x-amz-access-token": http.post("/auth/o2/token", data=LWA_FORM).json()["access_token"]}
        issued = http.post(TOKENS, json=resource("shippingAddress", "buyerInfo"), headers=lwa)
        assert issued.status_code == 200 and issued.headers["x-amzn-RateLimit-Limit"] == "1"
        assert set(issued.json()) == {"restrictedDataToken", "expiresIn"}  # no payload wrapper in this API
        assert issued.json()["expiresIn"] == 3600 and issued.json()["restrictedDataToken"].startswith("Atz.sprdt|")

        def refused(body, headers=lwa, **kw):
            answer = http.post(TOKENS, json=body, headers=headers, **kw)
            return answer.status_code, answer.json()["errors"][0]["code"]

        assert refused(resource("shippingAddress"), headers={}) == (403, "Unauthorized")
        rdt = {"x-amz-access-token": issued.json()["restrictedDataToken"]}
        assert refused(resource("shippingAddress"), headers=rdt) == (403, "Unauthorized")  # an RDT cannot mint RDTs
        assert refused({}) == (400, "InvalidInput")
        assert refused({"restrictedResources": []}) == (400, "InvalidInput")
        assert refused({"restrictedResources": [{"path": "/orders/v0/orders"}]}) == (400, "InvalidInput")
        assert refused(resource()) == (400, "InvalidInput")
        assert refused(resource("shippingLabel")) == (400, "InvalidInput")
        assert refused(resource("buyerInfo", path="/reports/2021-06-30/documents/1")) == (400, "InvalidInput")
        as_form = http.post(TOKENS, content=b"restrictedResources=x", headers={
            **lwa, "content-type": "application/x-www-form-urlencoded"})
        assert as_form.status_code == 415
    assert market.restricted_tokens_issued == 1


def test_get_orders_shows_name_street_phone_only_with_an_rdt_covering_them():
    with sandbox() as market, httpx.Client(base_url=market.base_url) as http:
        market.seed_demo_orders()
        lwa = {"x-amz-access-token": http.post("/auth/o2/token", data=LWA_FORM).json()["access_token"]}

        def first_unshipped(headers):
            answer = http.get("/orders/v0/orders", params=QUERY, headers=headers)
            assert answer.status_code == 200, answer.text
            return next(o for o in answer.json()["payload"]["Orders"] if o["AmazonOrderId"] == "113-1000001-0000001")

        def rdt(*elements):
            token = http.post(TOKENS, json=resource(*elements), headers=lwa).json()["restrictedDataToken"]
            return {"x-amz-access-token": token}

        plain = first_unshipped(lwa)
        assert set(plain["ShippingAddress"]) == {"City", "StateOrRegion", "PostalCode", "CountryCode"}
        assert plain["BuyerInfo"] == {}
        address_only = first_unshipped(rdt("shippingAddress"))
        address = address_only["ShippingAddress"]
        assert address["Name"] and address["AddressLine1"] and address["Phone"].startswith("+1 ")
        assert address["City"] == "Canton" and address_only["BuyerInfo"] == {}
        full = first_unshipped(rdt("shippingAddress", "buyerInfo"))
        assert full["ShippingAddress"] == address
        assert full["BuyerInfo"]["BuyerEmail"].endswith("@marketplace.amazon.com")
        # The RDT is for getOrders only: getOrderItems with it is refused.
        items = http.get("/orders/v0/orders/113-1000001-0000001/orderItems", headers=rdt("shippingAddress"))
        assert (items.status_code, items.json()["errors"][0]["code"]) == (403, "Unauthorized")
        # A Pending order still has no address at all, RDT or not.
        assert market.order("113-1000003-0000003", data_elements=["shippingAddress"]).get("ShippingAddress") is None


def test_expired_or_unknown_rdt_is_refused_with_403_unauthorized():
    with sandbox() as market, httpx.Client(base_url=market.base_url) as http:
        lwa = {"x-amz-access-token": http.post("/auth/o2/token", data=LWA_FORM).json()["access_token"]}
        rdt = {"x-amz-access-token": http.post(TOKENS, json=resource("shippingAddress"),
                                               headers=lwa).json()["restrictedDataToken"]}
        assert http.get("/orders/v0/orders", params=QUERY, headers=rdt).status_code == 200
        market.expire_restricted_data_tokens()
        expired = http.get("/orders/v0/orders", params=QUERY, headers=rdt)
        assert (expired.status_code, expired.json()["errors"][0]["code"]) == (403, "Unauthorized")
        assert "expired" in expired.json()["errors"][0]["details"]
        forged = http.get("/orders/v0/orders", params=QUERY, headers={"x-amz-access-token": "Atz.sprdt|forged"})
        assert (forged.status_code, forged.json()["errors"][0]["code"]) == (403, "Unauthorized")
        assert http.get("/orders/v0/orders", params=QUERY, headers=lwa).status_code == 200  # LWA still valid


def test_client_with_restricted_data_maps_full_addresses_and_renews_an_expired_rdt(caplog):
    caplog.set_level("DEBUG")
    with sandbox() as market:
        market.seed_demo_orders()
        with client_for(market, restricted_data=("shippingAddress", "buyerInfo")) as client:
            seen = sync(client)
            market.expire_restricted_data_tokens()
            again = sync(client)
    assert sorted(again) == sorted(seen)
    assert (market.tokens_issued, market.restricted_tokens_issued) == (1, 2)
    (order, items, sha), = seen["113-1000001-0000001"]
    mapped = map_amazon_order(order, items, profile=PROFILE, raw_document_id=sha)
    ship_to = mapped.order.party(PartyRole.SHIP_TO)
    street = order["ShippingAddress"]["AddressLine1"]
    assert ship_to.name == order["ShippingAddress"]["Name"] and ship_to.address_lines[0] == street
    assert not any("restricted" in p for p in mapped.problems), mapped.problems
    # The PII read never shows in a log line.
    for secret in (street, order["ShippingAddress"]["Name"], order["ShippingAddress"]["Phone"],
                   order["BuyerInfo"]["BuyerEmail"]):
        assert secret not in caplog.text
