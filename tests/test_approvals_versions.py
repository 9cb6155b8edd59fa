"""A new version of a held or approved order is judged again on its content (hub.validation.admit_new_version):
a decision is about what a person saw, never applied to changed content. X12 replacements (BEG01 05) through
the real intake, the outbox and the sandbox ERP."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.erp import OdooConfig, OdooJson2Client
from hub import store as st
from hub.delivery import push_due_orders
from hub.validation import approve, sync_catalogue
from mappings.odoo import OdooSalesGateway
from mappings.x12.samples import SampleLine
from tests.fixtures.erp import ERP_API_KEY
from tests.test_approvals import T0, erp_refs, outbox, receive

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
