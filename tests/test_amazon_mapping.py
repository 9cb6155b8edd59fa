"""Marketplace (SP-API Orders v0) -> canonical: golden getOrders/getOrderItems bodies, exact Decimals, the file join."""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from decimal import Decimal
from pathlib import Path

import pytest

from canonical.model import ChargeKind, PartyRole, Purpose, Source
from mappings.amazon import map_amazon_order, map_amazon_payloads
from mappings.profiles import PartnerProfile

DATA = Path(__file__).parent / "data" / "amazon"
PROFILE = PartnerProfile.model_validate(
    {
        "id": "marketplace-us",
        "name": "Demo marketplace account",
        "channels": [{"kind": "amazon",
            "seller_id": "A1DEMOSELLER",
            "marketplace_ids": ["ATVPDKIKX0DER"],
            "lwa_client_id_env": "AMAZON_CLIENT_ID",
            "lwa_client_secret_env": "AMAZON_CLIENT_SECRET",
            "refresh_token_env": "AMAZON_REFRESH_TOKEN",
        }],
    }
)
RAW_ID = "cd" * 32


def body(name: str) -> bytes:
    return (DATA / name).read_bytes()


def orders(name: str) -> list[dict]:
    return json.loads(body(name))["payload"]["Orders"]


def items(*names: str) -> list[dict]:
    return [item for name in names for item in json.loads(body(name))["payload"]["OrderItems"]]


def charges(line) -> dict[str, tuple[ChargeKind, Decimal]]:
    return {c.code: (c.kind, c.amount) for c in line.charges}


def test_mfn_order_with_promotion_shipping_and_taxes_maps_exactly():
    order = orders("get_orders_page1.json")[0]
    mapped = map_amazon_order(
        order,
        items("order_items_113-0000001-0000001_page1.json", "order_items_113-0000001-0000001_page2.json"),
        profile=PROFILE,
        raw_document_id=RAW_ID,
        document_ref="payload.Orders[0]",
    )
    assert (mapped.state, mapped.push, mapped.reason_not_pushed, mapped.cancelled) == ("ok", True, None, False)
    assert mapped.channel_order_id == "113-0000001-0000001"
    assert mapped.updated_at == dt.datetime(2024, 5, 2, 8, 1, 10, tzinfo=dt.UTC)
    o = mapped.order
    assert (o.source, o.source_ref, o.partner_id, o.purpose) == (Source.AMAZON, "113-0000001-0000001", "marketplace-us",
                                                                  Purpose.ORIGINAL)
    assert (o.order_date, o.currency, o.total, o.order_type) == (dt.date(2024, 5, 1), "USD", Decimal("36.60"),
                                                                  "StandardOrder")
    assert (o.raw_document_id, o.document_ref) == (RAW_ID, "payload.Orders[0]")
    first, second = o.lines
    assert (first.line_no, first.sku, first.buyer_part) == ("68828574383266", "WID-100", "B00WID1000")
    assert first.quantity == 2
    assert first.description == "Widget, blue — 2 pack ✓"
    # ItemPrice is the line total; the unit price is derived exactly.
    assert (first.amount, first.unit_price) == (Decimal("9.00"), Decimal("4.50"))
    assert str(first.unit_price) == "4.50"
    assert charges(first) == {
        "item_tax": (ChargeKind.CHARGE, Decimal("0.72")),
        "shipping": (ChargeKind.CHARGE, Decimal("5.99")),
        "shipping_tax": (ChargeKind.CHARGE, Decimal("0.48")),
        "promotion": (ChargeKind.ALLOWANCE, Decimal("1.00")),
        "promotion_tax": (ChargeKind.ALLOWANCE, Decimal("0.08")),
    }  # zero amounts (ShippingDiscount 0.00) are left out
    # The line's net tax (item + shipping tax - promotion tax) and the order's, taxes on top of prices.
    assert (first.tax_amount, second.tax_amount, o.tax_total, o.taxes_included) == (
        Decimal("1.12"), Decimal("1.59"), Decimal("2.71"), False)
    assert (second.amount, second.unit_price, charges(second)) == (
        Decimal("19.90"), Decimal("19.90"), {"item_tax": (ChargeKind.CHARGE, Decimal("1.59"))})
    ship_to = o.party(PartyRole.SHIP_TO)
    # Restricted address: no name, no street, only what SP-API gives without an RDT.
    assert (ship_to.name, ship_to.address_lines) == (None, [])
    assert (ship_to.city, ship_to.region, ship_to.postal_code, ship_to.country) == ("Canton", "MI", "48187-1234", "US")
    assert o.party(PartyRole.SHIP_FROM).city == "Seattle"
    assert o.references["is_prime"] == "true" and o.references["is_business_order"] == "false"
    assert o.references["fulfillment_channel"] == "MFN" and o.references["seller_id"] == "A1DEMOSELLER"
    assert o.dates == {"earliest_ship": dt.date(2024, 5, 2), "latest_ship": dt.date(2024, 5, 4),
                       "earliest_delivery": dt.date(2024, 5, 6), "latest_delivery": dt.date(2024, 5, 9)}
    assert mapped.problems == [
        "payload.Orders[0].ShippingAddress: restricted: no name or street without a Restricted Data Token "
        "(city, region, postal code, country only)"
    ]
    assert o.warnings == mapped.problems


def test_afn_order_is_recorded_but_not_pushed():
    mapped = map_amazon_order(orders("get_orders_page1.json")[1], items("order_items_113-0000002-0000002.json"),
                              profile=PROFILE, raw_document_id=RAW_ID)
    assert (mapped.state, mapped.push, mapped.reason_not_pushed) == ("ok", False, "fulfilled by the marketplace (AFN)")
    line = mapped.order.lines[0]
    assert (line.quantity, line.amount, line.unit_price) == (3, Decimal("21.75"), Decimal("7.25"))
    assert mapped.order.total == Decimal("23.49")


def test_pending_order_without_prices_or_address_is_held():
    mapped = map_amazon_order(orders("get_orders_page1.json")[2], items("order_items_113-0000003-0000003.json"),
                              profile=PROFILE, raw_document_id=RAW_ID)
    assert (mapped.state, mapped.order, mapped.push) == ("held", None, False)
    assert mapped.reason_not_pushed == "pending: waiting for prices and an address"
    assert mapped.updated_at == dt.datetime(2024, 5, 2, 11, 58, 31, tzinfo=dt.UTC)


def test_pending_order_is_released_once_it_has_prices_and_an_address():
    order = copy.deepcopy(orders("get_orders_page1.json")[2])
    order["OrderTotal"] = {"CurrencyCode": "USD", "Amount": "4.75"}
    order["ShippingAddress"] = {"City": "Boise", "StateOrRegion": "ID", "PostalCode": "83702", "CountryCode": "US"}
    line_items = items("order_items_113-0000003-0000003.json")
    line_items[0]["ItemPrice"] = {"CurrencyCode": "USD", "Amount": "4.75"}
    only_address = map_amazon_order(order, items("order_items_113-0000003-0000003.json"), profile=PROFILE,
                                     raw_document_id=RAW_ID)
    assert (only_address.state, only_address.reason_not_pushed) == ("held", "pending: waiting for prices")
    mapped = map_amazon_order(order, line_items, profile=PROFILE, raw_document_id=RAW_ID)
    assert (mapped.state, mapped.push, mapped.order.total) == ("ok", True, Decimal("4.75"))


def test_cancelled_order_with_zeroed_items_is_a_cancellation_without_lines():
    mapped = map_amazon_order(orders("get_orders_page2.json")[0], items("order_items_113-0000004-0000004.json"),
                              profile=PROFILE, raw_document_id=RAW_ID)
    assert (mapped.state, mapped.cancelled, mapped.push, mapped.order) == ("ok", True, False, None)
    assert mapped.reason_not_pushed == "cancelled by the marketplace"


def test_cancelled_order_that_still_shows_quantities_maps_to_purpose_cancellation():
    order = orders("get_orders_page2.json")[0]
    line_items = items("order_items_113-0000004-0000004.json")
    line_items[0]["QuantityOrdered"] = 2
    mapped = map_amazon_order(order, line_items, profile=PROFILE, raw_document_id=RAW_ID)
    assert (mapped.state, mapped.cancelled, mapped.push) == ("ok", True, False)
    assert mapped.order.purpose is Purpose.CANCELLATION
    assert (mapped.order.lines[0].quantity, mapped.order.lines[0].amount, mapped.order.total) == (2, None, 0)


def test_business_order_keeps_its_po_and_an_uneven_unit_price_is_rounded_with_a_warning():
    mapped = map_amazon_order(orders("get_orders_page2.json")[1], items("order_items_113-0000005-0000005.json"),
                              profile=PROFILE, raw_document_id=RAW_ID, document_ref="payload.Orders[1]",
                              items_ref="payload.OrderItems")
    o = mapped.order
    assert o.references["is_business_order"] == "true"
    assert o.references["purchase_order_number"] == "PO-77881"
    line = o.lines[0]
    # 10.00 / 3: the line amount stays Amazon's exact figure, the unit price is rounded to 4 places.
    assert (line.amount, line.unit_price) == (Decimal("10.00"), Decimal("3.3333"))
    assert o.total == Decimal("14.80")
    assert "payload.OrderItems[0].ItemPrice.Amount: 10.00 for 3 does not divide evenly: unit price rounded to " \
           "3.3333, line amount kept exact" in mapped.problems


def test_order_total_that_disagrees_with_the_items_is_a_warning_not_a_guess():
    order = copy.deepcopy(orders("get_orders_page1.json")[1])
    order["OrderTotal"]["Amount"] = "25.00"
    mapped = map_amazon_order(order, items("order_items_113-0000002-0000002.json"), profile=PROFILE,
                              raw_document_id=RAW_ID, document_ref="payload.Orders[1]")
    assert mapped.state == "ok" and mapped.order.total == Decimal("25.00")
    assert ("payload.Orders[1].OrderTotal: OrderTotal 25.00 differs from the items' prices, taxes and discounts "
            "(23.49)") in mapped.problems


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda o, i: i[0].pop("ItemPrice"),
         "payload.OrderItems[0].ItemPrice: missing: an item that is not cancelled must have a price"),
        (lambda o, i: i[0]["ItemPrice"].update(Amount="12,50"),
         "payload.OrderItems[0].ItemPrice.Amount: not a decimal amount: '12,50'"),
        (lambda o, i: i[0]["ItemTax"].update(CurrencyCode="EUR"),
         "payload.OrderItems[0].ItemTax.CurrencyCode: EUR differs from the order's USD"),
        (lambda o, i: i[0].update(QuantityOrdered="3"),
         "payload.OrderItems[0].QuantityOrdered: not a whole quantity: '3'"),
        (lambda o, i: o.pop("LastUpdateDate"), "payload.Orders[1].LastUpdateDate: missing"),
        (lambda o, i: o.update(PurchaseDate="yesterday"),
         "payload.Orders[1].PurchaseDate: not an ISO 8601 date-time: 'yesterday'"),
    ],
)
def test_broken_fields_reject_the_order_with_their_json_path(change, expected):
    order = copy.deepcopy(orders("get_orders_page1.json")[1])
    line_items = items("order_items_113-0000002-0000002.json")
    change(order, line_items)
    mapped = map_amazon_order(order, line_items, profile=PROFILE, raw_document_id=RAW_ID,
                              document_ref="payload.Orders[1]")
    assert (mapped.state, mapped.order, mapped.push) == ("rejected", None, False)
    assert expected in mapped.problems


def test_payloads_join_items_to_orders_across_files_and_pages_and_report_missing_items():
    names = [
        "order_items_113-0000001-0000001_page2.json",  # pages and files in any order
        "get_orders_page1.json",
        "order_items_113-0000001-0000001_page1.json",
        "order_items_113-0000002-0000002.json",
        "order_items_113-0000003-0000003.json",
        "get_orders_page2.json",
        "order_items_113-0000004-0000004.json",
        "order_items_113-0000005-0000005.json",
    ]
    result = map_amazon_payloads([body(n) for n in names], profile=PROFILE, names=names)
    out = result.to_json()
    assert out["outcome"] == "partially_accepted" and out["acks"] == []
    assert out["reason"] == "1 of 6 documents could not be mapped"
    summary = [(d["ref"], d["outcome"], d["transaction_set"]) for d in out["documents"]]
    assert summary == [
        ("get_orders_page1.json:payload.Orders[0]", "accepted_with_warnings", None),
        ("get_orders_page1.json:payload.Orders[1]", "accepted", None),
        ("get_orders_page1.json:payload.Orders[2]", "held", None),
        ("get_orders_page2.json:payload.Orders[0]", "accepted", None),
        ("get_orders_page2.json:payload.Orders[1]", "accepted_with_warnings", None),
        ("get_orders_page2.json:payload.Orders[2]", "incomplete", None),
    ]
    first = out["documents"][0]["order"]
    # Pages of items were given in reverse file order; the join follows NextToken order only if the files do.
    assert [line["sku"] for line in first["lines"]] == ["GAD-300", "WID-100"]
    assert first["total"] == "36.60"
    assert first["raw_document_id"] == hashlib.sha256(body("get_orders_page1.json")).hexdigest()
    missing = out["documents"][5]
    assert missing["order"] is None
    assert missing["errors"] == [{
        "severity": "error",
        "message": "no getOrderItems response for order 113-0000006-0000006 among the files: items unknown",
        "location": "get_orders_page2.json:payload.Orders[2]",
    }]
    business = out["documents"][4]
    assert {"severity": "warning",
            "location": "order_items_113-0000005-0000005.json:payload.OrderItems[0].ItemPrice.Amount",
            "message": "10.00 for 3 does not divide evenly: unit price rounded to 3.3333, line amount kept exact"} \
        in business["errors"]
    json.dumps(out)  # plain JSON all the way down


def test_payloads_report_items_without_their_order_and_files_that_are_not_sp_api():
    names = ["order_items_113-0000002-0000002.json", "quota_exceeded.json", "junk.txt"]
    files = [body(names[0]), body(names[1]), b"ISA*00*..."]
    out = map_amazon_payloads(files, profile=PROFILE, names=names).to_json()
    assert out["outcome"] == "rejected"
    assert [(d["ref"], d["outcome"]) for d in out["documents"]] == [
        ("order_items_113-0000002-0000002.json", "incomplete"),
        ("quota_exceeded.json", "rejected"),
        ("junk.txt", "rejected"),
    ]
    assert out["documents"][1]["errors"][0]["message"] == "an SP-API error response, not orders"
    assert map_amazon_payloads([b"{}"], profile=PROFILE).to_json()["outcome"] == "not_amazon"


def test_full_address_from_a_restricted_data_token_carries_no_restricted_warning():
    order = copy.deepcopy(orders("get_orders_page1.json")[0])
    order["ShippingAddress"].update(Name="Jane Doe", AddressLine1="1234 Elm St", AddressLine2="Apt 5B",
                                    Phone="+1 734-555-0142", AddressType="Residential")
    order["BuyerInfo"] = {"BuyerEmail": "0a1b2c3d4e5f6a7b@marketplace.amazon.com", "BuyerName": "Jane Doe"}
    mapped = map_amazon_order(
        order,
        items("order_items_113-0000001-0000001_page1.json", "order_items_113-0000001-0000001_page2.json"),
        profile=PROFILE,
        raw_document_id=RAW_ID,
        document_ref="payload.Orders[0]",
    )
    assert (mapped.state, mapped.push) == ("ok", True)
    assert mapped.problems == [] and mapped.order.warnings == []
    ship_to = mapped.order.party(PartyRole.SHIP_TO)
    assert (ship_to.name, ship_to.address_lines) == ("Jane Doe", ["1234 Elm St", "Apt 5B"])
    assert (ship_to.city, ship_to.region, ship_to.postal_code, ship_to.country) == ("Canton", "MI", "48187-1234", "US")
    assert [(c.phone, c.name) for c in ship_to.contacts] == [("+1 734-555-0142", None)]  # for the carrier's label
    # Everything else maps exactly as without the token.
    plain = map_amazon_order(
        orders("get_orders_page1.json")[0],
        items("order_items_113-0000001-0000001_page1.json", "order_items_113-0000001-0000001_page2.json"),
        profile=PROFILE, raw_document_id=RAW_ID, document_ref="payload.Orders[0]",
    )
    assert mapped.order.model_dump(exclude={"parties", "warnings"}) == plain.order.model_dump(
        exclude={"parties", "warnings"})


def test_pii_never_reaches_problem_messages_even_when_the_order_is_rejected():
    order = copy.deepcopy(orders("get_orders_page1.json")[0])
    order["ShippingAddress"].update(Name="Jane Doe", AddressLine1="1234 Elm St", Phone="+1 734-555-0142")
    order["BuyerInfo"] = {"BuyerEmail": "0a1b2c3d4e5f6a7b@marketplace.amazon.com"}
    order["PurchaseDate"] = "not a date"
    mapped = map_amazon_order(order, items("order_items_113-0000001-0000001_page1.json"), profile=PROFILE,
                              raw_document_id=RAW_ID)
    assert mapped.state == "rejected"
    text = " ".join(mapped.problems)
    for pii in ("Jane Doe", "1234 Elm St", "555-0142", "0a1b2c3d4e5f6a7b"):
        assert pii not in text
