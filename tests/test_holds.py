"""Invoicing delivered orders with the hold gate, against the sandbox ERP and a real store: invoices posted
once, held on an exception, released by a person with a note or by a clean re-match, credit notes for
returns and cancellations, a lost reply found by its reference; every change audited. ``store`` is the
shared fixture: each test runs on SQLite and on real PostgreSQL."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.erp import OdooConfig, OdooJson2Client
from hub import store as st
from hub.accounting import invoice_order
from hub.matching import Tolerances
from hub.store import InvoiceState
from hub.targets import OdooAccountingTarget
from mappings.odoo import OdooSalesGateway
from sandbox.erp_server import SandboxErp
from tests.fixtures.erp import ERP_API_KEY
from tests.test_erp_sandbox import make_order

PO = "4500012345"


@pytest.fixture
def client(erp: SandboxErp):
    config = OdooConfig(database=erp.database, api_key=ERP_API_KEY,
                        http={"base_url": erp.base_url, "timeout_seconds": 5})
    with OdooJson2Client(config) as client:
        yield client


@pytest.fixture
def target(client) -> OdooAccountingTarget:
    return OdooAccountingTarget(client)


@pytest.fixture
def order(erp, client):
    """PO 4500012345 of acme, confirmed: line 1 3 x WID-100 at 4.40, line 2 2 x GAD-300 at the list price."""
    order = make_order(PO)
    OdooSalesGateway(client).push_sale_order(order, client_order_ref=PO)
    erp.confirm_sale_order(PO)
    return order


def moves(erp, move_type="out_invoice"):
    return [m for m in erp.records("account.move") if m["move_type"] == move_type]


def ours(store):
    with store.transaction() as conn:
        return st.list_invoices(conn)


def events(store, invoice_id):
    with store.transaction() as conn:
        return [(e.actor, e.action, e.to_state, e.note) for e in st.invoice_events_of(conn, invoice_id)]


def invoice_by_hand(erp, client, quantities):
    """An invoice a person made in the ERP for this PO, posted: the hub did not make it."""
    lines = erp.sale_order_lines(PO)
    partner = erp.sale_orders()[0]["partner_invoice_id"][0]
    [move_id] = client.call("account.move", "create", vals_list=[{
        "move_type": "out_invoice", "partner_id": partner, "invoice_origin": PO, "ref": "typed by hand",
        "invoice_line_ids": [[0, 0, {"product_id": line["product_id"][0], "quantity": qty,
                                     "price_unit": line["price_unit"], "sale_line_ids": [[6, 0, [line["id"]]]]}]
                             for line, qty in zip(lines, quantities, strict=True) if qty]}])
    client.call("account.move", "action_post", ids=[move_id])
    return move_id


def test_a_delivered_order_is_invoiced_and_posted_once(erp, target, store, order):
    erp.deliver(PO, [3, 2])
    (first,) = invoice_order(store, target, order)
    assert first.action == "posted" and first.record.startswith("INV/") and first.reference == f"orderhub:acme:{PO}/1"

    assert invoice_order(store, target, order) == []  # nothing delivered beyond what is billed
    (move,) = moves(erp)
    assert move["state"] == "posted" and move["invoice_origin"] == PO
    (invoice,) = ours(store)
    assert invoice.state is InvoiceState.POSTED and invoice.record == first.record
    assert [a for _, a, _, _ in events(store, invoice.id)] == ["created", "posted"]


def test_nothing_delivered_nothing_invoiced_and_partial_deliveries_are_billed_as_they_ship(erp, target, store, order):
    assert invoice_order(store, target, order) == []
    erp.deliver(PO, [1, 0])
    (first,) = invoice_order(store, target, order)
    erp.deliver(PO, [3, 2])
    (second,) = invoice_order(store, target, order)
    assert (first.action, second.action) == ("posted", "posted") and second.reference.endswith("/2")
    assert [line["qty_invoiced"] for line in erp.sale_order_lines(PO)] == [3.0, 2.0]
    assert [(i.lines[0]["quantity"], len(i.lines)) for i in ours(store)] == [("1", 1), ("2", 2)]


def test_over_billing_is_held_in_the_store_and_nothing_reaches_the_erp(erp, client, target, store, order):
    erp.deliver(PO, [3, 2])
    invoice_by_hand(erp, client, [3, 2])  # someone billed it already in the ERP
    (held,) = invoice_order(store, target, order)
    assert held.action == "held" and held.findings == ("over_billed",)
    assert len(moves(erp)) == 1  # only the one made by hand
    (invoice,) = ours(store)
    assert invoice.state is InvoiceState.HELD
    assert {f["category"] for f in invoice.findings} == {"over_billed"}
    (created,) = events(store, invoice.id)
    assert created[:3] == ("hub", "created", "held") and "over_billed on line 1" in created[3]

    assert invoice_order(store, target, order)[0].action == "held"  # a re-run keeps it held, adds nothing
    assert len(ours(store)) == 1 and len(moves(erp)) == 1


def test_a_person_releases_a_held_invoice_with_a_note_and_the_next_pass_posts_it(erp, client, target, store, order):
    erp.deliver(PO, [3, 2])
    invoice_by_hand(erp, client, [3, 2])
    invoice_order(store, target, order)
    (invoice,) = ours(store)
    with store.transaction() as conn:
        with pytest.raises(ValueError):
            st.release_invoice(conn, invoice.id, actor="maria", note="  ", now=st.utcnow())
        assert st.release_invoice(conn, invoice.id, actor="maria", note="customer lost the first copy",
                                  now=st.utcnow())
        assert not st.release_invoice(conn, invoice.id, actor="maria", note="again", now=st.utcnow())

    (posted,) = invoice_order(store, target, order)
    assert posted.action == "posted" and len(moves(erp)) == 2
    trail = events(store, invoice.id)
    assert trail[1] == ("maria", "released", "released", "customer lost the first copy")
    assert [(actor, action) for actor, action, _, _ in trail] == [
        ("hub", "created"), ("maria", "released"), ("hub", "sending"), ("hub", "posted")]


def test_a_held_invoice_is_released_by_itself_when_a_re_match_finds_it_within_tolerance(erp, client, target, store,
                                                                                            order):
    erp.deliver(PO, [3, 2])
    by_hand = invoice_by_hand(erp, client, [3, 2])
    assert invoice_order(store, target, order)[0].action == "held"
    client.call("account.move", "button_draft", ids=[by_hand])  # the ERP's people take their invoice back
    client.call("account.move", "button_cancel", ids=[by_hand])

    (posted,) = invoice_order(store, target, order)
    assert posted.action == "posted"
    (invoice,) = ours(store)
    assert invoice.state is InvoiceState.POSTED and invoice.findings == []
    assert ("hub", "auto_released", "released", "a re-match found it within tolerance") in events(store, invoice.id)


def test_a_price_off_the_po_is_held_unless_within_the_tolerance(erp, client, target, store, order):
    so = erp.sale_orders()[0]
    line = erp.sale_order_lines(PO)[0]
    client.call("sale.order", "write", ids=[so["id"]], vals={"order_line": [[1, line["id"], {"price_unit": 4.51}]]})
    erp.deliver(PO, [3, 2])
    (held,) = invoice_order(store, target, order)
    assert held.findings == ("price_variance",)  # 4.51 against the PO's 4.40 is 2.5 % over

    loose = Tolerances.parse({"global": {"price_pct": "2.5"}})
    (posted,) = invoice_order(store, target, order, tolerances=loose)  # exactly at the tolerance is within
    assert posted.action == "posted"


def test_a_return_after_invoicing_is_credited_against_the_invoice(erp, target, store, order):
    erp.deliver(PO, [3, 2])
    (invoice,) = invoice_order(store, target, order)
    erp.deliver(PO, [1, 2])  # two of line 1 came back
    (credit,) = invoice_order(store, target, order)
    assert credit.action == "posted" and credit.kind == "credit_note" and credit.record.startswith("RINV/")
    (refund,) = moves(erp, "out_refund")
    assert refund["reversed_entry_id"][1] == invoice.record and refund["amount_total"] == pytest.approx(2 * 4.40)
    assert [line["qty_invoiced"] for line in erp.sale_order_lines(PO)] == [1.0, 2.0]
    assert invoice_order(store, target, order) == []


def test_a_cancellation_after_invoicing_credits_everything_billed(erp, target, store, order):
    erp.deliver(PO, [3, 2])
    invoice_order(store, target, order)
    (credit,) = invoice_order(store, target, order, cancelled=True)
    assert credit.kind == "credit_note" and credit.action == "posted"
    assert [line["qty_invoiced"] for line in erp.sale_order_lines(PO)] == [0.0, 0.0]
    assert invoice_order(store, target, order, cancelled=True) == []


def test_a_lost_reply_on_create_is_found_by_reference_on_the_next_pass_not_doubled(erp, target, store, order):
    erp.deliver(PO, [3, 2])
    erp.inject_drop_after_commit(model="account.move", method="create")
    (lost,) = invoice_order(store, target, order)
    assert lost.action == "in_doubt"
    (invoice,) = ours(store)
    assert invoice.state is InvoiceState.SENDING

    (posted,) = invoice_order(store, target, order)
    assert posted.action == "posted" and posted.reference == invoice.reference
    assert len(moves(erp)) == 1 and erp.calls.count(("account.move", "create")) == 1
    assert [i.state for i in ours(store)] == [InvoiceState.POSTED]


def test_held_invoices_are_counted_by_category(erp, client, target, store, order):
    erp.deliver(PO, [3, 2])
    invoice_by_hand(erp, client, [3, 2])
    invoice_order(store, target, order)
    with store.transaction() as conn:
        assert st.held_by_category(conn) == {"over_billed": 1}
        assert st.list_invoices(conn, state=InvoiceState.HELD)[0].amount == Decimal("53.00")  # 3 x 4.40 + 2 x 19.90


def test_invoice_states_are_pinned_strings():
    assert [str(state) for state in InvoiceState] == ["held", "released", "sending", "posted"]
