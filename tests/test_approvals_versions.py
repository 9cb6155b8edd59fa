"""Every new version of an order is judged on its content (hub.validation.admit_new_version): a decision, or the
absence of a question, is about what was seen then, never applied to changed content. X12 replacements (BEG01 05)
and Shopify order updates through the real intake, the outbox and the sandbox ERP."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from connectors.erp import OdooConfig, OdooJson2Client
from hub import store as st
from hub.delivery import push_due_orders
from hub.intake import ChannelSummary, store_channel_document
from hub.validation import approve, sync_catalogue
from mappings.odoo import OdooSalesGateway
from mappings.shopify import map_shopify_orders
from mappings.x12.samples import SampleLine
from tests.fixtures.erp import ERP_API_KEY
from tests.test_approvals import PARTNERS, T0, erp_refs, outbox, receive

GOOD, BAD = SampleLine("WID-100", "2", "4.50"), SampleLine("NOPE-9", "1", "1.00")


@pytest.fixture
def gateway(erp, store):
    config = OdooConfig(database=erp.database, api_key=ERP_API_KEY, http={"base_url": erp.base_url})
    with OdooJson2Client(config) as client:
        sync_catalogue(store, client, partner_ids=["acme"], now=T0)
        yield OdooSalesGateway(client)


def approval(store: st.HubStore) -> st.Approval:
    with store.transaction() as conn:
        (only,) = st.list_approvals(conn, state=None)
        return only


def replace(store: st.HubStore, po: str, lines: list[SampleLine], control: int) -> None:
    receive(store, po, lines, control, purpose="05")


def test_a_held_draft_is_judged_again_findings_replaced_then_released_when_it_breaks_no_rule(store, gateway, erp):
    receive(store, "PO-V-1", [GOOD, BAD], 1)
    held = approval(store)
    assert [f["found"] for f in held.findings] == ["NOPE-9"]

    replace(store, "PO-V-1", [GOOD, SampleLine("NOPE-10", "1", "1.00")], 2)
    again = approval(store)
    assert again.state == st.ApprovalState.PENDING and [f["found"] for f in again.findings] == ["NOPE-10"], \
        "the person sees the findings of the content now stored"
    assert outbox(store) == {}

    replace(store, "PO-V-1", [GOOD], 3)
    released = approval(store)
    assert (released.state, released.decided_by) == (st.ApprovalState.APPROVED, "hub")
    push_due_orders(store, gateway, now=T0 + dt.timedelta(minutes=1))
    assert erp_refs(erp) == ["PO-V-1"]
    with store.transaction() as conn:
        actions = [(h.action, h.actor) for h in st.approval_history(conn, held.id)]
    assert actions == [("held", "hub"), ("revalidated", "hub"), ("approved", "hub")]


def test_an_approval_is_not_applied_to_a_changed_version_that_breaks_a_rule(store, gateway, erp):
    receive(store, "PO-V-2", [GOOD, BAD], 1)
    held = approval(store)
    erp.seed_products([("NOPE-9", "Nope nine", 1.0, None)])
    assert approve(store, held.id, by="dana", note="created in the ERP").done
    push_due_orders(store, gateway, now=T0 + dt.timedelta(minutes=1))
    assert erp_refs(erp) == ["PO-V-2"]
    before = {line["product_uom_qty"] for line in erp.records("sale.order.line")}

    # The partner replaces the PO with ten times the quantity of a product still unknown to the hub's catalogue.
    replace(store, "PO-V-2", [GOOD, SampleLine("NOPE-9", "10", "1.00")], 2)
    again = approval(store)
    assert again.state == st.ApprovalState.PENDING and again.decided_by is None
    assert [f["found"] for f in again.findings] == ["NOPE-9"]
    push_due_orders(store, gateway, now=T0 + dt.timedelta(minutes=2))
    assert {line["product_uom_qty"] for line in erp.records("sale.order.line")} == before, \
        "the ERP keeps the approved version until a person approves the new one"
    with store.transaction() as conn:
        note = st.approval_history(conn, held.id)[-1].note
    assert note is not None and "the approved decision was for an earlier version" in note

    assert approve(store, held.id, by="dana", note="ten is right").done
    push_due_orders(store, gateway, now=T0 + dt.timedelta(minutes=3))
    assert 10 in {line["product_uom_qty"] for line in erp.records("sale.order.line")}, "approved: the update goes"
    assert erp_refs(erp) == ["PO-V-2"], "updated, not created twice"


def test_an_approved_order_whose_new_version_breaks_no_rule_flows_on(store, gateway, erp):
    receive(store, "PO-V-3", [GOOD, BAD], 1)
    held = approval(store)
    assert approve(store, held.id, by="dana").done
    replace(store, "PO-V-3", [GOOD], 2)
    assert approval(store).state == st.ApprovalState.APPROVED and approval(store).decided_by == "dana"
    assert outbox(store) == {"PO-V-3": "pending"}


def erp_quantities(erp) -> list[float]:
    return sorted(line["product_uom_qty"] for line in erp.records("sale.order.line"))


def test_a_replacement_of_an_order_never_held_that_breaks_a_rule_waits_and_the_erp_keeps_the_earlier_one(
        store, gateway, erp):
    receive(store, "PO-V-4", [GOOD], 1)
    push_due_orders(store, gateway, now=T0 + dt.timedelta(minutes=1))
    assert erp_refs(erp) == ["PO-V-4"] and erp_quantities(erp) == [2.0]
    with store.transaction() as conn:
        assert st.list_approvals(conn, state=None) == []

    # A clean replacement flows as before: not flagged as a duplicate of its own earlier version.
    replace(store, "PO-V-4", [SampleLine("WID-100", "3", "4.50")], 2)
    with store.transaction() as conn:
        assert st.list_approvals(conn, state=None) == []
    push_due_orders(store, gateway, now=T0 + dt.timedelta(minutes=2))
    assert erp_quantities(erp) == [3.0]

    # Then the price is halved: off the list price, so a person must say yes first.
    replace(store, "PO-V-4", [SampleLine("WID-100", "5", "2.25")], 3)
    held = approval(store)
    assert held.state == st.ApprovalState.PENDING and held.source_ref == "PO-V-4"
    assert [f["rule"] for f in held.findings] == ["price_off_list"]
    push_due_orders(store, gateway, now=T0 + dt.timedelta(minutes=3))
    assert erp_quantities(erp) == [3.0], "the ERP keeps the earlier version until approved"
    with store.transaction() as conn:
        assert st.approval_history(conn, held.id)[0].note == "revision 3: 1 rule(s) broken"

    assert approve(store, held.id, by="dana", note="agreed discount").done
    push_due_orders(store, gateway, now=T0 + dt.timedelta(minutes=4))
    assert erp_quantities(erp) == [5.0] and erp_refs(erp) == ["PO-V-4"], "approved: updated, not created twice"


def test_a_replacement_waiting_before_its_first_push_is_paused_not_pushed(store, gateway, erp):
    receive(store, "PO-V-5", [GOOD], 1)
    replace(store, "PO-V-5", [GOOD, BAD], 2)
    assert approval(store).state == st.ApprovalState.PENDING
    assert outbox(store) == {"PO-V-5": "skipped"}
    push_due_orders(store, gateway, now=T0 + dt.timedelta(minutes=1))
    assert erp_refs(erp) == []


TRAILHEAD = PARTNERS.get("trailhead")


def shopify_body(price: str, updated: str) -> bytes:
    """A Shopify order (REST shape) for two widgets at ``price``, last changed at ``updated``."""
    total = f"{2 * float(price):.2f}"
    return json.dumps({"order": {
        "id": 7001, "name": "#7001", "created_at": "2026-12-04T08:00:00Z", "updated_at": updated,
        "currency": "USD", "total_price": total, "subtotal_price": total, "taxes_included": False,
        "total_tax": "0.00", "financial_status": "paid",
        "customer": {"id": 55, "first_name": "Jane", "last_name": "Shopper", "email": "jane@example.test"},
        "shipping_address": {"name": "Jane Shopper", "address1": "1 Main St", "city": "Springfield",
                             "zip": "12345", "country_code": "US"},
        "line_items": [{"id": 1, "sku": "WID-100", "quantity": 2, "price": price, "title": "Widget"}]}}).encode()


def shopify_sync(store: st.HubStore, name: str, raw: bytes) -> ChannelSummary:
    summary = ChannelSummary()
    store_channel_document(store, channel="shopify", partner_id="trailhead", source_name=name, raw=raw,
                           map_orders=lambda sha: map_shopify_orders(raw, profile=TRAILHEAD, raw_document_id=sha),
                           summary=summary, profile=TRAILHEAD, now=T0)
    return summary


def test_a_shopify_update_that_breaks_a_rule_waits_for_approval(store, gateway, erp):
    assert shopify_sync(store, "page-1", shopify_body("4.50", "2026-12-04T08:00:00Z")).orders_new == 1
    push_due_orders(store, gateway, now=T0 + dt.timedelta(minutes=1))
    assert [line["price_unit"] for line in erp.records("sale.order.line")] == [4.5]

    assert shopify_sync(store, "page-2", shopify_body("1.00", "2026-12-04T08:30:00Z")).orders_updated == 1
    held = approval(store)
    assert (held.source, held.source_ref, held.state) == ("shopify", "7001", st.ApprovalState.PENDING)
    assert [f["rule"] for f in held.findings] == ["price_off_list"]
    push_due_orders(store, gateway, now=T0 + dt.timedelta(minutes=2))
    assert [line["price_unit"] for line in erp.records("sale.order.line")] == [4.5], "not pushed"

    # The shop fixes the price: the hub releases its own hold, audited, and the fix goes to the ERP.
    shopify_sync(store, "page-3", shopify_body("4.50", "2026-12-04T09:00:00Z"))
    assert (approval(store).state, approval(store).decided_by) == (st.ApprovalState.APPROVED, "hub")
    assert outbox(store) == {"7001": "pending"}
