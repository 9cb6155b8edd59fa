"""Approval end to end: an X12 850 breaking a rule is held, not delivered; approval delivers it once, rejection never.

Real pieces throughout: the catalogue synced from the sandbox ERP over JSON-2, the X12 intake,
the outbox and the Odoo target against the sandbox ERP, the ``hub approvals`` commands.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import select

from connectors.erp import OdooConfig, OdooJson2Client
from hub import store as st
from hub.cli import main
from hub.delivery import push_due_orders
from hub.intake import process_x12_receipt, receive_document
from hub.validation import approve, reject, sync_catalogue
from mappings.odoo import OdooSalesGateway
from mappings.profiles import PartnerDirectory
from mappings.x12.samples import SampleLine, build_850
from tests.fixtures.erp import ERP_API_KEY

REPO = Path(__file__).resolve().parent.parent
PARTNERS = PartnerDirectory.load(REPO / "mappings" / "partners")
ACME = PARTNERS.get("acme")
T0 = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
NO_855 = "not sent: acme's profile does not ask for 855s (send_855); tell the partner another way"


@pytest.fixture
def client(erp):
    config = OdooConfig(database=erp.database, api_key=ERP_API_KEY, http={"base_url": erp.base_url})
    with OdooJson2Client(config) as odoo:
        yield odoo


def receive(store: st.HubStore, po: str, lines: list[SampleLine], control: int, purpose: str = "00") -> None:
    data = build_850(ACME, po_number=po, control_number=control, lines=lines, purpose=purpose)
    receipt = receive_document(store, channel="sftp", partner_id="acme", source_name=f"{po}.x12", data=data,
                               max_bytes=1_000_000)
    process_x12_receipt(store, PARTNERS, receipt.id, now=T0)


def outbox(store: st.HubStore) -> dict[str, str]:
    """PO number -> delivery state."""
    o, x = st.tables.orders, st.tables.outbox
    with store.transaction() as conn:
        return dict(conn.execute(select(o.c.source_ref, x.c.state).join(x, x.c.order_id == o.c.id)).all())


def erp_refs(erp) -> list[str]:
    return sorted(order["client_order_ref"] for order in erp.sale_orders())


def test_the_catalogue_and_credit_are_synced_from_the_erp(store, erp, client):
    pid = erp.records("product.product")[0]["id"]
    client.call("product.packaging", "create", vals_list=[{"name": "box of 6", "product_id": pid, "qty": 6}])
    erp.set_partner_credit("acme", limit=5000, owed=1200)
    summary = sync_catalogue(store, client, partner_ids=["acme", "nobody"], now=T0)
    with store.transaction() as conn:
        products = {p.sku: p for p in st.catalogue(conn)}
        credit = st.credit_of(conn, "acme")
    assert summary.products == len(products) >= 10 and summary.packagings == 1
    assert products["WID-100"].list_price == D("4.5") and products["WID-100"].currency == "USD"
    assert [p.pack_qty for p in products.values() if p.pack_qty] == [D("6")]
    assert credit == st.CustomerCredit("acme", D("5000"), D("1200"), "USD")
    assert summary.customers_not_found == ["nobody"]


def test_an_850_with_an_unknown_sku_waits_for_approval_then_reaches_the_erp_once(store, erp, client, monkeypatch,
                                                                             store_url, capsys):
    sync_catalogue(store, client, partner_ids=["acme"], now=T0)
    receive(store, "PO-OK-1", [SampleLine("WID-100", "2", "4.50")], 1)
    receive(store, "PO-NEW-1", [SampleLine("WID-100", "2", "4.50"), SampleLine("ZZ-NEW", "3", "7.00")], 2)
    gateway = OdooSalesGateway(client)

    push_due_orders(store, gateway, now=T0)
    assert erp_refs(erp) == ["PO-OK-1"], "the order breaking a rule is not delivered"
    assert outbox(store) == {"PO-OK-1": "done"}
    with store.transaction() as conn:
        (held,) = st.list_approvals(conn)
        order = st.load_order(conn, held.order_id)
        expected = st.orders_expected_at(conn, target="erp", partner_ids=["acme"])
    assert held.source_ref == "PO-NEW-1" and held.targets == ["erp"]
    assert held.findings == [{"rule": "unknown_sku", "line": "2", "expected": "a SKU in the ERP catalogue",
                              "found": "ZZ-NEW"}]
    assert [line.sku for line in order.lines] == ["WID-100", "ZZ-NEW"], "the flagged line is kept"
    assert ("acme", "PO-NEW-1") not in expected.open, "the exactly-once check does not miss a held order"

    # The person looks, has the product created in the ERP, approves.
    monkeypatch.setenv("HUB_DATABASE_URL", store_url)
    assert main(["approvals", "list"]) == 0
    listed = capsys.readouterr().out
    assert "PO-NEW-1" in listed and "unknown_sku" in listed and "PO-OK-1" not in listed
    assert main(["approvals", "show", str(held.id)]) == 0
    shown = capsys.readouterr().out
    assert "unknown_sku" in shown and "line 2" in shown and "found ZZ-NEW" in shown
    erp.seed_products([("ZZ-NEW", "New thing", 7.0, None)])
    monkeypatch.setenv("USER", "dana")
    assert main(["approvals", "approve", str(held.id), "--note", "product created in the ERP"]) == 0
    assert "approved" in capsys.readouterr().out

    push_due_orders(store, gateway, now=T0 + dt.timedelta(minutes=1))
    assert erp_refs(erp) == ["PO-NEW-1", "PO-OK-1"]

    # Approving again changes nothing and delivers nothing twice.
    assert main(["approvals", "approve", str(held.id), "--by", "eve"]) == 1
    assert "already approved" in capsys.readouterr().out
    push_due_orders(store, gateway, now=T0 + dt.timedelta(minutes=2))
    assert erp_refs(erp) == ["PO-NEW-1", "PO-OK-1"]
    with store.transaction() as conn:
        history = st.approval_history(conn, held.id)
        decided = st.get_approval(conn, held.id)
        expected = st.orders_expected_at(conn, target="erp", partner_ids=["acme"])
    assert [(h.action, h.actor, h.note) for h in history] == [
        ("held", "hub", "1 rule(s) broken"), ("approved", "dana", "product created in the ERP")]
    assert decided.decided_by == "dana" and decided.state == st.ApprovalState.APPROVED
    assert ("acme", "PO-NEW-1") in expected.open


def test_a_rejected_order_is_never_delivered_and_the_edi_reply_is_not_claimed(store, erp, client):
    sync_catalogue(store, client, partner_ids=["acme"], now=T0)
    receive(store, "PO-BAD-1", [SampleLine("NOPE-1", "1", "1.00")], 1)
    with store.transaction() as conn:
        (held,) = st.list_approvals(conn)
    decision = reject(store, held.id, by="sam", note="not our product", now=T0, partners=PARTNERS)
    assert decision.done and decision.reply == NO_855
    assert not approve(store, held.id, by="sam", now=T0).done, "a rejected order cannot be approved after"
    push_due_orders(store, OdooSalesGateway(client), now=T0 + dt.timedelta(minutes=1))
    assert erp_refs(erp) == [] and outbox(store) == {}
    with store.transaction() as conn:
        decided = st.get_approval(conn, held.id)
        actions = [h.action for h in st.approval_history(conn, held.id)]
    assert decided.state == st.ApprovalState.REJECTED and decided.note == "not our product"
    assert decided.reply == NO_855 and actions == ["held", "rejected", "reply"]

    # The partner resends the same PO with a fix in another file (a replacement): it stays rejected.
    data = build_850(ACME, po_number="PO-BAD-1", control_number=2, lines=[SampleLine("WID-100", "1", "4.50")],
                     purpose="05")
    receipt = receive_document(store, channel="sftp", partner_id="acme", source_name="fix.x12", data=data,
                               max_bytes=1_000_000)
    process_x12_receipt(store, PARTNERS, receipt.id, now=T0)
    with store.transaction() as conn:
        assert st.load_order(conn, held.order_id).lines[0].sku == "WID-100", "the replacement is stored"
    assert outbox(store) == {}, "but not delivered"


def test_without_a_synced_catalogue_orders_flow_as_before(store, erp, client):
    receive(store, "PO-X-1", [SampleLine("ANY-SKU", "1", "1.00")], 1)
    with store.transaction() as conn:
        assert st.list_approvals(conn) == []
    assert outbox(store) == {"PO-X-1": "pending"}


def test_cli_usage_errors(sqlite_store, monkeypatch, capsys):
    monkeypatch.setenv("HUB_DATABASE_URL", str(sqlite_store.engine.url))
    assert main(["approvals", "reject", "1", "--note", "  "]) == 2
    assert main(["approvals", "show", "99"]) == 1
    assert main(["approvals", "approve", "99"]) == 1
    assert "not found" in capsys.readouterr().out
    assert main(["approvals", "list", "--state", "bogus"]) == 2
    assert main(["approvals", "list", "--state", "all"]) == 0
    assert "no approvals" in capsys.readouterr().out


def test_an_order_cancelled_while_it_waits_is_not_delivered_when_approved(store, erp, client):
    sync_catalogue(store, client, partner_ids=["acme"], now=T0)
    receive(store, "PO-C-1", [SampleLine("NOPE-2", "1", "1.00")], 1)
    cancel = build_850(ACME, po_number="PO-C-1", control_number=2, lines=[SampleLine("NOPE-2", "1", "1.00")],
                       purpose="01")
    receipt = receive_document(store, channel="sftp", partner_id="acme", source_name="cancel.x12", data=cancel,
                               max_bytes=1_000_000)
    process_x12_receipt(store, PARTNERS, receipt.id, now=T0)
    with store.transaction() as conn:
        (held,) = st.list_approvals(conn)
        assert conn.execute(select(st.tables.orders.c.status)).scalar_one() == st.OrderStatus.CANCELLED
    assert approve(store, held.id, by="sam", now=T0).done
    push_due_orders(store, OdooSalesGateway(client), now=T0 + dt.timedelta(minutes=1))
    assert outbox(store) == {} and erp_refs(erp) == []


def test_approval_states_are_the_strings_the_store_holds():
    # Renaming a value would orphan the rows written before (as tests/test_store_enums.py pins the others).
    assert {state.value for state in st.ApprovalState} == {"pending", "approved", "rejected"}
    assert st.AWAITING_APPROVAL == "awaiting approval"
