"""The Odoo accounting target against the sandbox ERP: invoices from delivered quantities, lookup by our
reference before any create (a lost reply is found, not doubled), posting, credit notes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from canonical.errors import RejectedDocument, RetriableError
from connectors.erp import OdooConfig, OdooJson2Client
from hub.targets import AccountingTarget, InvoiceDraft, InvoiceKind, InvoiceLine, OdooAccountingTarget
from mappings.odoo import OdooSalesGateway
from sandbox.erp_server import SandboxErp
from tests.fixtures.erp import ERP_API_KEY
from tests.test_erp_sandbox import make_order


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
    """PO 4500012345 of acme in the ERP, confirmed, 3 x WID-100 at 4.40 and 2 x GAD-300 at 19.90 ordered."""
    order = make_order()
    OdooSalesGateway(client).push_sale_order(order, client_order_ref=order.source_ref)
    erp.confirm_sale_order(order.source_ref)
    return order


def draft(reference: str, target: OdooAccountingTarget, order, kind=InvoiceKind.INVOICE, refund_of=None):
    lines = tuple(InvoiceLine(b.line_no, b.sku, b.delivered, b.unit_price, b.source_line)
                  for b in target.billable(order) if b.delivered)
    return InvoiceDraft(reference=reference, kind=kind, lines=lines, refund_of=refund_of)


def test_it_is_an_accounting_target(target):
    assert isinstance(target, AccountingTarget)


def test_billable_lines_are_the_sale_lines_delivered_quantities(erp, target, order):
    erp.deliver(order.source_ref, [2, 0])
    lines = target.billable(order)
    assert [(b.line_no, b.sku, b.delivered, b.unit_price) for b in lines] == [
        ("1", "WID-100", Decimal("2"), Decimal("4.4")), ("2", "Gadget, large", Decimal("0"), Decimal("19.9"))]


def test_an_invoice_is_created_as_draft_then_posted_with_its_number(erp, target, order):
    erp.deliver(order.source_ref, [3, 1])
    booked = target.create(order, draft("orderhub:acme:4500012345/1", target, order))
    assert booked.state == "draft" and booked.record == "/"

    posted = target.post(booked)
    assert posted.state == "posted" and posted.record.startswith("INV/") and posted.record_id == booked.record_id
    (move,) = erp.records("account.move")
    assert move["move_type"] == "out_invoice" and move["ref"] == "orderhub:acme:4500012345/1"
    assert move["invoice_origin"] == "4500012345" and move["amount_total"] == pytest.approx(3 * 4.40 + 19.90)
    assert [line["qty_invoiced"] for line in erp.sale_order_lines(order.source_ref)] == [3.0, 1.0]
    assert target.post(posted) == posted  # posting again changes nothing
    assert erp.calls.count(("account.move", "action_post")) == 1


def test_a_create_whose_reply_was_lost_is_found_by_reference_not_made_twice(erp, target, order):
    erp.deliver(order.source_ref, [3, 2])
    wanted = draft("orderhub:acme:4500012345/1", target, order)
    erp.inject_drop_after_commit(model="account.move", method="create")
    with pytest.raises(RetriableError) as lost:
        target.create(order, wanted)
    assert lost.value.write_in_doubt

    again = target.create(order, wanted)
    assert len(erp.records("account.move")) == 1 and again.reference == wanted.reference
    assert erp.calls.count(("account.move", "create")) == 1  # the retry looked it up and created nothing


def test_invoices_of_the_order_include_those_made_by_hand_with_their_order_lines(erp, target, order):
    erp.deliver(order.source_ref, [3, 2])
    target.post(target.create(order, draft("orderhub:acme:4500012345/1", target, order)))
    (found,) = target.invoices_of(order)
    assert found.kind is InvoiceKind.INVOICE and found.state == "posted"
    assert [(line.line_no, line.quantity) for line in found.lines] == [("1", Decimal("3")), ("2", Decimal("2"))]


def test_a_credit_note_reverses_the_invoice_and_takes_back_what_was_invoiced(erp, target, order):
    erp.deliver(order.source_ref, [3, 2])
    invoice = target.post(target.create(order, draft("orderhub:acme:4500012345/1", target, order)))
    line = target.billable(order)[0]
    credit = InvoiceDraft("orderhub:acme:4500012345/C1", InvoiceKind.CREDIT_NOTE,
                          (InvoiceLine(line.line_no, line.sku, Decimal("1"), line.unit_price, line.source_line),),
                          refund_of=invoice.record_id)
    posted = target.post(target.create(order, credit))
    assert posted.kind is InvoiceKind.CREDIT_NOTE and posted.record.startswith("RINV/")
    refund = next(m for m in erp.records("account.move") if m["move_type"] == "out_refund")
    assert refund["reversed_entry_id"][0] == int(invoice.record_id)
    assert [line["qty_invoiced"] for line in erp.sale_order_lines(order.source_ref)] == [2.0, 2.0]


def test_an_order_not_in_the_erp_cannot_be_invoiced(target):
    with pytest.raises(RejectedDocument, match="no live sale order"):
        target.create(make_order("NOT-THERE"), InvoiceDraft("x", InvoiceKind.INVOICE, ()))


def test_the_sandbox_posts_only_drafts_with_lines(erp, client, order):
    partner = erp.sale_orders()[0]["partner_id"][0]
    [empty] = client.call("account.move", "create", vals_list=[{"move_type": "out_invoice", "partner_id": partner}])
    with pytest.raises(Exception, match="add a line"):
        client.call("account.move", "action_post", ids=[empty])


def test_delivered_quantities_of_many_orders_come_in_two_calls(erp, target, order):
    erp.deliver(order.source_ref, [2, 1])
    before = len(erp.calls)
    found = target.delivered([order, make_order("NOT-THERE")])
    assert found == {("acme", order.source_ref): {"1": Decimal("2"), "2": Decimal("1")}}
    assert len(erp.calls) - before == 2
