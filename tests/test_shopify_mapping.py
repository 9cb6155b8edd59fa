"""Shopify order JSON -> canonical orders: golden files with exact amounts, and the edge cases real stores send."""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
from decimal import Decimal
from pathlib import Path

import pytest

from canonical.errors import RejectedDocument
from canonical.model import ChargeKind, PartyRole, Purpose, order_total
from mappings.profiles import PartnerProfile
from mappings.shopify import map_shopify_order, map_shopify_orders, map_shopify_payload, order_objects

DATA = Path(__file__).parent / "data" / "shopify"
GOLDEN = sorted(p for p in DATA.glob("*.json") if not p.name.endswith(".expected.json"))
PROFILE = PartnerProfile(id="acme-shop", name="Acme Store", channels=[{"kind": "shopify",
    "shop_domain": "acme-store.myshopify.com", "access_token_env": "ACME_SHOPIFY_TOKEN",
    "webhook_secret_env": "ACME_SHOPIFY_WEBHOOK_SECRET"}])
D = Decimal


def load(name: str) -> bytes:
    return (DATA / name).read_bytes()


def only(name: str):
    result = map_shopify_payload(load(name), profile=PROFILE)
    assert len(result.documents) == 1
    return result.documents[0]


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_golden_files_map_to_their_expected_canonical_json(path):
    mapped = map_shopify_payload(path.read_bytes(), profile=PROFILE)
    result = mapped.to_json()
    # Orders without their default-valued fields: new optional model fields do not churn the goldens.
    for document, found in zip(result["documents"], mapped.documents, strict=True):
        if found.order is not None:
            document["order"] = found.order.model_dump(mode="json", exclude_defaults=True)
    expected_path = path.with_suffix(".expected.json")
    if os.environ.get("UPDATE_GOLDEN"):
        expected_path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    assert result == json.loads(expected_path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_lines_and_charges_always_add_up_to_the_total(path):
    orders = map_shopify_payload(path.read_bytes(), profile=PROFILE).orders
    assert orders, f"{path.name} maps to no order: nothing would be checked"
    for order in orders:
        assert order_total(order.lines, order.charges) == order.total


def test_multi_currency_order_keeps_shop_money_and_presentment_total():
    result = map_shopify_payload(load("orders_page_multicurrency.json"), profile=PROFILE)
    assert result.outcome == "accepted"
    order = result.documents[0].order
    assert (order.source.value, order.source_ref, order.partner_id) == ("shopify", "5512345678901", "acme-shop")
    assert order.references["name"] == "#1001" and order.document_ref == "orders[0]"
    assert order.currency == "USD" and order.total == D("98.28")
    assert (order.presentment_currency, order.presentment_total) == ("EUR", D("90.02"))
    assert order.taxes_included is False and order.tax_total == D("7.28")
    widget, gadget = order.lines
    assert (widget.line_no, widget.sku, widget.quantity, widget.unit_price, widget.amount) == (
        "13101230000001", "WID-100", D(2), D("20.00"), D("40.00"))
    assert [(c.kind, c.code, c.amount) for c in widget.charges] == [(ChargeKind.ALLOWANCE, "discount", D("4.00"))]
    assert widget.tax_amount == D("2.88") and gadget.tax_amount == D("3.60")
    assert [(c.kind.value, c.code, c.amount) for c in order.charges] == [
        ("charge", "shipping", D("10.00")), ("charge", "tax", D("7.28"))]
    assert order.order_date.isoformat() == "2024-10-01"
    assert result.documents[0].mapped.updated_at.isoformat() == "2024-10-01T09:16:40-04:00"
    ship_to = order.party(PartyRole.SHIP_TO)
    assert ship_to.address_lines == ["Doe Ltd", "123 Amoeba Way", "Suite 4"]
    assert (ship_to.city, ship_to.region, ship_to.postal_code, ship_to.country) == ("New York", "NY", "10001", "US")
    assert order.party(PartyRole.BUYER).id == "7001"


def test_test_order_with_a_deleted_product_and_unicode_names_is_kept_but_not_pushed():
    document = map_shopify_payload(load("orders_page_multicurrency.json"), profile=PROFILE).documents[1]
    order, mapped = document.order, document.mapped
    assert order.is_test and mapped.push is False and mapped.reason_not_pushed == "test order"
    assert order.lines[0].sku == "LEGACY-9" and order.lines[0].description == "Legacy Lamp"
    assert order.party(PartyRole.BUYER).name == "Zoë Ångström-李"
    assert order.presentment_currency is None  # paid in the shop currency
    pushing = PROFILE.model_copy(update={"shopify": PROFILE.shopify.model_copy(update={"push_test_orders": True})})
    again = map_shopify_payload(load("orders_page_multicurrency.json"), profile=pushing).documents[1].mapped
    assert again.push is True and again.order.is_test


def test_taxes_included_refunded_unit_and_removed_line():
    document = only("order_taxes_included_refunded.json")
    order = document.order
    assert document.ref == "order" and document.outcome == "accepted"
    assert order.currency == "GBP" and order.total == D("44.00") and order.taxes_included is True
    assert order.tax_total == D("7.33")
    (teapot,) = order.lines  # the tea towel was removed by an edit: current_quantity 0
    assert order.references["removed_line_items"] == "13101230000005"
    assert (teapot.quantity, teapot.unit_price, teapot.amount) == (D(2), D("24.00"), D("48.00"))
    # 6.00 of discount and 11.00 of VAT were allocated to 3 units; 2 are left.
    assert teapot.charges[0].amount == D("4.00") and teapot.tax_amount == D("7.33")
    # Prices include VAT: no tax charge; free-shipping code cancels the shipping.
    assert [(c.kind.value, c.code, c.amount) for c in order.charges] == [
        ("charge", "shipping", D("4.99")), ("allowance", "shipping_discount", D("4.99"))]
    assert document.mapped.push is True


def test_webhook_body_with_gift_card_and_digital_goods_has_no_ship_to():
    document = only("webhook_orders_create_digital.json")
    order = document.order
    assert document.ref == "$" and order.document_ref == "$"
    assert order.party(PartyRole.SHIP_TO) is None and order.party(PartyRole.BILL_TO).city == "Montréal"
    gift_card, ebook = order.lines
    assert gift_card.sku is None and gift_card.amount == D("50.00") and gift_card.tax_amount is None
    assert ebook.tax_amount == D("0.80")
    assert (order.currency, order.total, order.presentment_currency, order.presentment_total) == (
        "CAD", D("66.79"), "USD", D("49.29"))
    assert order.warnings == []  # a gift card without SKU is normal


def test_cancelled_order_is_a_cancellation_with_the_original_lines_and_not_pushed():
    document = only("order_cancelled.json")
    order, mapped = document.order, document.mapped
    assert order.purpose is Purpose.CANCELLATION and order.total == D("0.00")
    assert [(line.sku, line.quantity) for line in order.lines] == [("WID-200", D(2))]
    assert order.dates["cancelled"].isoformat() == "2024-10-04"
    assert order.references["cancel_reason"] == "customer"
    assert mapped.push is False and mapped.reason_not_pushed == "cancelled in Shopify"


def test_partly_broken_page_maps_what_it_can_and_locates_the_rest():
    result = map_shopify_payload(load("orders_page_partly_broken.json"), profile=PROFILE)
    assert result.outcome == "partially_accepted"
    assert [d.outcome for d in result.documents] == ["accepted", "rejected", "rejected"]
    assert result.documents[1].errors[0].location == "orders[1].line_items[0].price_set.shop_money.amount"
    assert result.documents[2].mapped.problems == ["orders[2].line_items: the order has no line items"]
    assert result.to_json()["documents"][1] == {
        "ref": "orders[1]", "transaction_set": None, "outcome": "rejected", "order": None,
        "errors": [{"severity": "error", "location": "orders[1].line_items[0].price_set.shop_money.amount",
                    "message": "not a number: '12,00'"}]}


def order_json(name: str = "order_taxes_included_refunded.json") -> dict:
    return json.loads(load(name))["order"]


def test_without_current_quantity_the_refunds_are_subtracted():
    data = order_json()
    for item in data["line_items"]:
        del item["current_quantity"]
    mapped = map_shopify_order(data, profile=PROFILE)
    assert [(line.line_no, line.quantity) for line in mapped.order.lines] == [("13101230000004", D(2))]


def test_nothing_left_on_an_open_order_is_a_cancellation():
    data = order_json()
    data["line_items"][0]["current_quantity"] = 0
    mapped = map_shopify_order(data, profile=PROFILE)
    assert mapped.order.purpose is Purpose.CANCELLATION
    assert mapped.push is False and mapped.reason_not_pushed == "every line was removed or refunded"


def test_unexplained_gap_to_the_total_is_an_adjustment_and_a_warning():
    data = json.loads(load("orders_page_multicurrency.json"))["orders"][0]
    data["current_total_price_set"]["shop_money"]["amount"] = "100.28"  # e.g. a fee we do not know about
    mapped = map_shopify_order(data, profile=PROFILE, document_ref="orders[0]")
    assert mapped.order.charges[-1].code == "adjustment" and mapped.order.charges[-1].amount == D("2.00")
    assert mapped.order.warnings == [
        "orders[0].current_total_price: lines and charges add up to 98.28, Shopify's current total is 100.28"]


def test_shop_money_in_another_currency_is_refused():
    data = copy.deepcopy(order_json())
    data["line_items"][0]["price_set"]["shop_money"]["currency_code"] = "EUR"
    mapped = map_shopify_order(data, profile=PROFILE)
    assert mapped.state == "rejected" and mapped.order is None
    assert "is not the shop currency GBP" in mapped.problems[0]


@pytest.mark.parametrize(("change", "problem"), [
    (lambda o: o.pop("updated_at"), "order.updated_at: missing"),
    (lambda o: o.update(created_at="yesterday"), "order.created_at: not an ISO 8601 timestamp"),
    (lambda o: o.update(currency=None), "order.currency: missing"),
    (lambda o: o["line_items"][0].update(quantity=0), "order.line_items[0].quantity"),
    (lambda o: o["line_items"][0].update(current_quantity=9), "order.line_items[0].current_quantity"),
])
def test_broken_orders_are_rejected_with_a_location(change, problem):
    data = order_json()
    change(data)
    mapped = map_shopify_order(data, profile=PROFILE)
    assert mapped.state == "rejected" and mapped.push is False
    assert any(p.startswith(problem) for p in mapped.problems), mapped.problems


def test_intake_mapping_uses_the_archived_sha_and_refuses_foreign_bodies():
    mapped = map_shopify_orders(load("order_cancelled.json"), profile=PROFILE, raw_document_id="a" * 64)
    assert mapped[0].order.raw_document_id == "a" * 64
    with pytest.raises(RejectedDocument):
        map_shopify_orders(b'{"payload": {"Orders": []}}', profile=PROFILE)
    assert map_shopify_payload(b"<html>", profile=PROFILE).outcome == "not_shopify"
    assert map_shopify_payload(b'{"orders": []}', profile=PROFILE).to_json() == {
        "outcome": "accepted", "reason": "the body holds no orders", "documents": [], "acks": []}


# -- GraphQL Admin API (2026-10) answers and the webhook bodies of the same orders ----------------

PARITY = [("graphql_orders_taxes_included_refunded.json", "order_taxes_included_refunded.json"),
          ("graphql_order_digital.json", "webhook_orders_create_digital.json")]


def comparable(order) -> dict:
    # Where each came from differs by design (the archived body, the JSON path); the order itself must not.
    return order.model_dump(mode="json", exclude={"raw_document_id", "document_ref"})


@pytest.mark.parametrize(("graphql", "rest"), PARITY)
def test_a_graphql_order_and_its_webhook_body_are_the_same_canonical_order(graphql, rest):
    (by_query,) = map_shopify_orders(load(graphql), profile=PROFILE)
    (by_webhook,) = map_shopify_orders(load(rest), profile=PROFILE)
    assert by_query.state == by_webhook.state == "ok"
    assert by_query.channel_order_id == by_webhook.channel_order_id  # the numeric id: one order in the store
    assert by_query.updated_at == by_webhook.updated_at and by_query.push == by_webhook.push
    assert comparable(by_query.order) == comparable(by_webhook.order)


def test_graphql_ids_keep_their_numeric_form_and_times_the_shops_offset():
    (mapped,) = map_shopify_orders(load("graphql_orders_taxes_included_refunded.json"), profile=PROFILE)
    order = mapped.order
    assert mapped.channel_order_id == order.source_ref == "5512345678903"
    assert mapped.updated_at.isoformat() == "2024-10-05T11:30:00+01:00"  # 10:30Z in London's summer time
    assert [line.line_no for line in order.lines] == ["13101230000004"]
    assert order.references["removed_line_items"] == "13101230000005"
    assert order.references["financial_status"] == "partially_refunded" and "fulfillment_status" not in order.references
    assert next(p for p in order.parties if p.role is PartyRole.BUYER).id == "7003"
    # "11.0" from GraphQL is prorated like the webhook's "11.00": two-thirds of it is 7.33, not 7.3.
    assert order.lines[0].tax_amount == D("7.33")


def test_a_late_evening_order_has_the_shops_date_not_utcs():
    body = json.loads(load("graphql_order_digital.json"))
    (mapped,) = map_shopify_orders(json.dumps(body).encode(), profile=PROFILE)
    assert mapped.order.order_date.isoformat() == "2024-10-03"  # 00:45Z on the 4th is 20:45 in Toronto
    body["data"]["shop"]["ianaTimezone"] = None  # unknown zone: UTC, said plainly by the offset
    (utc,) = map_shopify_orders(json.dumps(body).encode(), profile=PROFILE)
    assert utc.order.order_date.isoformat() == "2024-10-04" and utc.updated_at.utcoffset() == dt.timedelta(0)


def test_a_graphql_order_with_more_line_items_than_were_read_is_rejected_not_cut():
    body = json.loads(load("graphql_order_digital.json"))
    body["data"]["order"]["lineItems"]["pageInfo"]["hasNextPage"] = True
    (mapped,) = map_shopify_orders(json.dumps(body).encode(), profile=PROFILE)
    assert mapped.state == "rejected" and mapped.order is None
    assert any("data.order.line_items" in p and "line_items_limit" in p for p in mapped.problems)


@pytest.mark.parametrize(("change", "where"), [
    (lambda o: o["lineItems"]["nodes"][1].update(quantity=None), "data.order.line_items[1].quantity"),
    (lambda o: o["lineItems"]["nodes"][1]["originalUnitPriceSet"]["shopMoney"].update(amount="abc"),
     "data.order.line_items[1].price_set.shop_money.amount"),
    (lambda o: o.update(currencyCode=None), "data.order.currency"),
    (lambda o: o.update(legacyResourceId=None, id=None), "data.order.id"),
])
def test_broken_graphql_orders_are_rejected_with_a_location(change, where):
    body = json.loads(load("graphql_order_digital.json"))
    change(body["data"]["order"])
    (mapped,) = map_shopify_orders(json.dumps(body).encode(), profile=PROFILE)
    assert mapped.state == "rejected" and any(p.startswith(where) for p in mapped.problems), mapped.problems


def test_graphql_answers_are_recognised_and_foreign_data_answers_are_not():
    assert order_objects({"data": {"orders": {"nodes": []}}}) == []
    assert order_objects({"data": {"products": {"nodes": []}}}) is None
    result = map_shopify_payload(b'{"data": {"products": {"nodes": []}}}', profile=PROFILE)
    assert result.outcome == "not_shopify" and "GraphQL" in (result.reason or "")
