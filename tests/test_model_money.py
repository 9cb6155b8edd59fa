"""Wrong money refused at intake (issue 8 point 12): ISO 4217 currency codes and configurable amount limits,
through the model, the 850 mapper (a rejected set, located in the 997) and the intake's exception queue."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from canonical.model import AmountLimits, Order, is_currency
from hub import store as st
from hub.intake import process_x12_receipt, receive_document
from hub.settings import HubSettings
from mappings.profiles import PartnerDirectory, PartnerProfile
from mappings.x12 import process_interchange_file

REPO = Path(__file__).resolve().parent.parent
GOLDEN = (REPO / "tests" / "data" / "x12" / "acme_850_4010.x12").read_bytes()
NOW = dt.datetime(2024, 1, 6, 9, 30, tzinfo=dt.UTC)
HUGE_FREIGHT = b"SAC*C*D240***99999999999999"  # SAC05 has two implied decimals: 999,999,999,999.99


def partners() -> PartnerDirectory:
    """Loaded now, so the deployment limits come from the environment as it is in the test."""
    return PartnerDirectory.load(REPO / "mappings" / "partners")


def edited(old: bytes, new: bytes) -> bytes:
    assert old in GOLDEN
    return GOLDEN.replace(old, new, 1)


def only_document(data: bytes, directory: PartnerDirectory | None = None):
    result = process_interchange_file(data, partners=directory or partners(), now=NOW)
    assert len(result.documents) == 1, result.reason
    ack = next(a for a in result.acks if a.kind == "997")
    return result.documents[0], [line.rstrip("~") for line in ack.text.splitlines()]


def order_data(**changes) -> dict:
    data = {"source": "x12", "source_ref": "PO-1", "partner_id": "acme", "order_date": dt.date(2026, 3, 2),
            "lines": [{"line_no": "1", "quantity": 1, "unit_price": "5", "amount": "5"}], "total": "5"}
    return {**data, **changes}


# -- the canonical model --------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["XQZ", "usd", "EURO", "XXX", "XTS", "XAU"])
def test_a_currency_that_is_not_iso_4217_money_is_refused_by_the_model(code):
    with pytest.raises(ValidationError, match="currency"):
        Order.model_validate(order_data(currency=code))
    with pytest.raises(ValidationError, match="presentment_currency"):
        Order.model_validate(order_data(presentment_currency=code))


@pytest.mark.parametrize("code", ["USD", "EUR", "GBP", "JPY", "CHF", "XCG", "ZWG", "SLE"])
def test_iso_4217_currencies_are_accepted(code):
    assert Order.model_validate(order_data(currency=code)).currency == code and is_currency(code)


def test_amount_limits_name_every_amount_over_them():
    order = Order.model_validate(order_data(
        lines=[{"line_no": "1", "quantity": 2, "unit_price": "600", "amount": "1200",
                "charges": [{"kind": "charge", "code": "H850", "amount": "700"}]}],
        charges=[{"kind": "allowance", "code": "C310", "amount": "999999999999.99"}],
        total="-999999998099.99"))
    breaches = AmountLimits(max_order_total=Decimal("1000"), max_amount=Decimal("500")).breaches(order)
    assert [(b.field, b.line_no, b.charge_code) for b in breaches] == [
        ("unit price", "1", None), ("line amount", "1", None), ("charge", "1", "H850"), ("charge", None, "C310"),
        ("total", None, None)]
    assert "allowance C310 of 999999999999.99 USD is over the limit of 500 USD" in breaches[3].message
    assert AmountLimits().breaches(Order.model_validate(order_data())) == []


def test_limits_come_from_the_environment_and_a_profile_overrides_them(monkeypatch):
    monkeypatch.setenv("HUB_MAX_ORDER_TOTAL", "2500")
    monkeypatch.setenv("HUB_MAX_AMOUNT", "900.50")
    assert HubSettings().amount_limits() == AmountLimits(max_order_total=Decimal(2500), max_amount=Decimal("900.50"))
    acme = partners().get("acme")
    assert acme.limits == AmountLimits(max_order_total=Decimal(2500), max_amount=Decimal("900.50"))
    custom = PartnerProfile.model_validate({**acme.model_dump(), "amount_limits": {"max_order_total": "50000"}})
    assert custom.limits == AmountLimits(max_order_total=Decimal(50000), max_amount=Decimal("900.50"))
    with pytest.raises(ValidationError, match="ISO 4217"):
        PartnerProfile.model_validate({**acme.model_dump(), "currency": "XQZ"})


# -- the 850 mapper and its 997 ---------------------------------------------------------------------


def test_an_850_in_currency_xqz_is_rejected_at_cur02():
    document, ack = only_document(edited(b"CUR*BY*USD", b"CUR*BY*XQZ"))
    assert document.outcome == "rejected" and document.order is None
    [problem] = [p for p in document.errors if p.severity == "error"]
    assert (problem.segment_id, problem.element_position, problem.code) == ("CUR", 2, "7")
    assert "'XQZ' is not an ISO 4217 currency code" in problem.message
    notes = [line for line in ack if line.startswith(("AK3", "AK4", "AK5"))]
    assert notes == ["AK3*CUR*3**8", "AK4*2*100*7", "AK5*R*5"]


def test_an_850_with_a_charge_of_999_999_999_999_99_is_rejected_at_its_sac05():
    document, ack = only_document(edited(b"SAC*C*D240***2500", HUGE_FREIGHT))
    assert document.outcome == "rejected" and document.order is None
    errors = [p for p in document.errors if p.severity == "error"]
    assert [(p.segment_id, p.element_position, p.code) for p in errors] == [("SAC", 5, "6"), ("CTT", None, None)]
    assert "charge D240 of 999999999999.99 USD is over the limit of 10000000 USD" in errors[0].message
    assert [line for line in ack if line.startswith(("AK3", "AK4", "AK5"))] == [
        "AK3*SAC*8**8", "AK4*5*610*6", "AK3*CTT*30", "AK5*R*5"]


def test_a_partner_limit_below_an_order_rejects_it_and_the_default_accepts_it(monkeypatch):
    document, _ = only_document(GOLDEN)
    assert document.outcome in ("accepted", "accepted_with_warnings") and document.order.total > 100
    monkeypatch.setenv("HUB_MAX_ORDER_TOTAL", "100")
    document, ack = only_document(GOLDEN)
    assert document.outcome == "rejected"
    assert any("order total" in p.message and "over the limit of 100 USD" in p.message for p in document.errors)
    assert "AK5*R*5" in ack


# -- intake: the exception queue, on SQLite and PostgreSQL -----------------------------------------------


@pytest.mark.parametrize("old, new, reason", [
    (b"CUR*BY*USD", b"CUR*BY*XQZ", "not an ISO 4217 currency code"),
    (b"SAC*C*D240***2500", HUGE_FREIGHT, "over the limit of 10000000 USD"),
])
def test_intake_sends_wrong_money_to_the_exception_queue_and_stores_nothing(store, old, new, reason):
    receipt = receive_document(store, channel="sftp", partner_id="acme", source_name="po.x12", data=edited(old, new),
                               max_bytes=1_000_000)
    summary = process_x12_receipt(store, partners(), receipt.id, now=NOW)

    assert summary.orders_created == 0 and summary.outcome == "rejected"
    with store.transaction() as conn:
        [exception] = st.list_exceptions(conn)
        orders = conn.execute(select(func.count()).select_from(st.tables.orders)).scalar_one()
        outbox = conn.execute(select(func.count()).select_from(st.tables.outbox)).scalar_one()
        [ack] = st.pending_outbound(conn)
    assert (orders, outbox) == (0, 0)
    assert exception.kind == "rejected_document" and reason in exception.reason and exception.location
    assert "AK5*R*5" in ack.content


# -- API channels: the same limits, one rejected order each ----------------------------------------


def test_a_shopify_order_over_the_partners_limit_is_a_rejected_order_and_the_page_goes_on(store):
    from hub.intake import ChannelSummary, process_queued_receipt
    from mappings.shopify import map_shopify_orders

    trailhead = partners().get("trailhead")
    strict = PartnerProfile.model_validate({**trailhead.model_dump(), "amount_limits": {"max_order_total": "20"}})
    body = (REPO / "tests" / "data" / "shopify" / "orders_page_multicurrency.json").read_bytes()
    mapped = map_shopify_orders(body, profile=trailhead)
    totals = {m.channel_order_id: m.order.total for m in mapped if m.order is not None}
    assert any(total > 20 for total in totals.values()) and any(total <= 20 for total in totals.values()), totals

    receipt = receive_document(store, channel="shopify", partner_id="trailhead", source_name="page-1", data=body,
                               max_bytes=1_000_000)
    summary = ChannelSummary()
    process_queued_receipt(store, receipt.id, lambda raw, sha, _r: map_shopify_orders(
        raw, profile=strict, raw_document_id=sha), summary)

    over = {ref for ref, total in totals.items() if total > 20}
    with store.transaction() as conn:
        stored = set(conn.execute(select(st.tables.orders.c.source_ref)).scalars())
        queued = st.list_exceptions(conn)
    assert stored == set(totals) - over
    assert len(queued) == len(over) and all("over the limit of 20" in e.reason for e in queued)


def test_a_marketplace_order_over_the_limit_is_rejected_with_the_reason(monkeypatch):
    from mappings.amazon import map_amazon_order

    data = REPO / "tests" / "data" / "amazon"
    order = json.loads((data / "get_orders_page1.json").read_bytes())["payload"]["Orders"][0]
    items = [item for name in ("order_items_113-0000001-0000001_page1.json",
                               "order_items_113-0000001-0000001_page2.json")
             for item in json.loads((data / name).read_bytes())["payload"]["OrderItems"]]
    profile = partners().get("marketplace_us")
    assert map_amazon_order(order, items, profile=profile, raw_document_id=None).state == "ok"

    monkeypatch.setenv("HUB_MAX_AMOUNT", "10")
    mapped = map_amazon_order(order, items, profile=partners().get("marketplace_us"), raw_document_id=None)

    assert mapped.state == "rejected" and mapped.order is None
    assert any("over the limit of 10 USD" in problem for problem in mapped.problems)
