"""Changes and cancellations after an order reached the ERP: intake -> store -> delivery -> sandbox ERP (Odoo JSON-2).

The real connector talks to the sandbox ERP over loopback; the store is SQLite, and PostgreSQL too
for the tests on the ``store`` fixture.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from canonical.model import Order, OrderLine, Party, PartyRole, Source
from connectors.erp import OdooConfig, OdooJson2Client
from hub import store as st
from hub.delivery import push_due_orders
from hub.intake import (
    ChannelSummary,
    process_x12_receipt,
    receive_document,
    store_channel_document,
)
from hub.reconciliation import reconcile_erp_orders
from hub.replay import replay_exception
from mappings.odoo import OdooSalesGateway
from mappings.profiles import PartnerDirectory
from mappings.x12.samples import SampleLine, build_850
from sandbox.erp_server import SandboxErp
from tests.fixtures.erp import ERP_API_KEY

REPO = Path(__file__).resolve().parent.parent
PARTNERS = PartnerDirectory.load(REPO / "mappings" / "partners")
ACME = PARTNERS.get("acme")
API_KEY = ERP_API_KEY
PO = "PO-77"

ORIGINAL = build_850(ACME, po_number=PO, control_number=1,
                     lines=[SampleLine("WID-100", "2", "4.50"), SampleLine("GAD-300", "1", "19.90")])
REPLACEMENT = build_850(ACME, po_number=PO, purpose="05", control_number=2,
                        lines=[SampleLine("WID-100", "5", "4.50"), SampleLine("NUT-M8", "3", "3.15")])
CANCELLATION = build_850(ACME, po_number=PO, purpose="01", control_number=3)


@pytest.fixture
def gateway(erp: SandboxErp):
    config = OdooConfig(database=erp.database, api_key=API_KEY, http={"base_url": erp.base_url, "timeout_seconds": 10})
    with OdooJson2Client(config) as client:
        yield OdooSalesGateway(client)


def send(store: st.HubStore, data: bytes, name: str):
    receipt = receive_document(store, channel="sftp", partner_id="acme", source_name=name, data=data,
                               max_bytes=1_000_000)
    return process_x12_receipt(store, PARTNERS, receipt.id)


def lines_in_erp(erp: SandboxErp, ref: str = PO) -> list[tuple[str, float]]:
    return [(line["product_id"][1], line["product_uom_qty"]) for line in erp.sale_order_lines(ref)]


def outbox_row(store: st.HubStore):
    with store.transaction() as conn:
        return conn.execute(select(st.tables.outbox)).one()


def events(store: st.HubStore) -> list[tuple[str, dict]]:
    with store.transaction() as conn:
        order_id = conn.execute(select(st.tables.orders.c.id)).scalar_one()
        return [(e["kind"], e["detail"]) for e in st.order_events_of(conn, order_id)]


def open_exceptions(store: st.HubStore) -> list[st.QueuedException]:
    with store.transaction() as conn:
        return st.list_exceptions(conn, state=st.OPEN)


def writes(erp: SandboxErp) -> int:
    return sum(1 for call in erp.calls if call[1] in ("write", "create", "action_cancel"))


# -- replacements ----------------------------------------------------------------------------------


def test_a_replacement_after_the_push_rewrites_the_quotation(store, erp, gateway):
    send(store, ORIGINAL, "1.x12")
    assert push_due_orders(store, gateway).pushed == 1
    assert lines_in_erp(erp) == [("Widget, blue", 2.0), ("Gadget, large", 1.0)]

    assert send(store, REPLACEMENT, "2.x12").orders_replaced == 1
    assert outbox_row(store).state == st.PENDING, "a replacement queues the delivery again"
    summary = push_due_orders(store, gateway)

    assert summary.updated == 1 and summary.pushed == 0
    (sale_order,) = erp.sale_orders()
    assert sale_order["state"] == "draft"
    assert lines_in_erp(erp) == [("Widget, blue", 5.0), ("Nut M8, box of 100", 3.0)]
    kind, detail = events(store)[-1]
    assert kind == "erp_updated" and detail["sale_order"] == sale_order["name"]
    assert detail["changes"] == ["line 1: quantity 2 -> 5", "line 2: product Gadget, large -> NUT-M8",
                                 "line 2: quantity 1 -> 3", "line 2: unit price 19.9 -> 3.15"]
    row = outbox_row(store)
    assert row.state == st.DONE and row.external_ref == sale_order["name"]
    assert reconcile_erp_orders(store, gateway).passed


def test_running_the_pass_again_changes_nothing(sqlite_store, erp, gateway):
    send(sqlite_store, ORIGINAL, "1.x12")
    send(sqlite_store, REPLACEMENT, "2.x12")
    push_due_orders(sqlite_store, gateway)
    before, kinds = writes(erp), [kind for kind, _ in events(sqlite_store)]

    assert push_due_orders(sqlite_store, gateway).attempted == 0
    with sqlite_store.transaction() as conn:  # even when asked to deliver again, the ERP already matches
        st.requeue_delivery(conn, order_id=outbox_row(sqlite_store).order_id, target="erp", now=st.utcnow())
    again = push_due_orders(sqlite_store, gateway)

    assert again.unchanged == 1 and again.updated == 0
    assert writes(erp) == before
    assert [kind for kind, _ in events(sqlite_store)] == kinds
    assert lines_in_erp(erp) == [("Widget, blue", 5.0), ("Nut M8, box of 100", 3.0)]


def test_a_replacement_after_confirmation_waits_for_review_and_the_erp_is_untouched(sqlite_store, erp, gateway):
    send(sqlite_store, ORIGINAL, "1.x12")
    push_due_orders(sqlite_store, gateway)
    name = erp.confirm_sale_order(PO)
    send(sqlite_store, REPLACEMENT, "2.x12")
    before = writes(erp)

    summary = push_due_orders(sqlite_store, gateway)

    assert summary.dead == 1
    (queued,) = open_exceptions(sqlite_store)
    assert queued.kind == "erp_update_needs_review" and queued.partner_id == "acme"
    assert queued.reason == (
        f"sale order {name} is confirmed in the ERP; the hub does not change it on its own; order revision 2 "
        "differs: line 1: quantity 2 -> 5; line 2: product Gadget, large -> NUT-M8; line 2: quantity 1 -> 3; "
        "line 2: unit price 19.9 -> 3.15")
    assert writes(erp) == before
    assert lines_in_erp(erp) == [("Widget, blue", 2.0), ("Gadget, large", 1.0)]
    assert erp.sale_orders()[0]["state"] == "sale"
    assert outbox_row(sqlite_store).state == st.DEAD

    # Ops take it back to a quotation in the ERP (cancel, then "Set to Quotation") and replay.
    (sale_order,) = erp.sale_orders()
    gateway._client.call("sale.order", "action_cancel", ids=[sale_order["id"]],
                         context={"disable_cancel_warning": True})
    gateway._client.call("sale.order", "action_draft", ids=[sale_order["id"]])
    assert replay_exception(sqlite_store, PARTNERS, queued.id).done
    assert push_due_orders(sqlite_store, gateway).updated == 1
    assert lines_in_erp(erp) == [("Widget, blue", 5.0), ("Nut M8, box of 100", 3.0)]
    assert open_exceptions(sqlite_store) == []


def test_a_replay_that_still_differs_keeps_one_open_exception(sqlite_store, erp, gateway):
    send(sqlite_store, ORIGINAL, "1.x12")
    push_due_orders(sqlite_store, gateway)
    erp.confirm_sale_order(PO, lock=True)
    send(sqlite_store, REPLACEMENT, "2.x12")
    push_due_orders(sqlite_store, gateway)
    (queued,) = open_exceptions(sqlite_store)
    assert "is locked in the ERP" in queued.reason

    replay_exception(sqlite_store, PARTNERS, queued.id)
    assert push_due_orders(sqlite_store, gateway).dead == 1

    assert [e.id for e in open_exceptions(sqlite_store)] == [queued.id]


# -- cancellations ---------------------------------------------------------------------------------


def test_a_cancellation_after_the_push_cancels_the_sale_order(store, erp, gateway):
    send(store, ORIGINAL, "1.x12")
    push_due_orders(store, gateway)
    name = erp.sale_orders()[0]["name"]

    assert send(store, CANCELLATION, "3.x12").orders_cancelled == 1
    assert outbox_row(store).state == st.PENDING, "a cancellation of a delivered order goes to the ERP"
    summary = push_due_orders(store, gateway)

    assert summary.cancelled == 1
    assert [o["state"] for o in erp.sale_orders()] == ["cancel"]
    assert events(store)[-1] == ("erp_cancelled", {"target": "erp", "sale_order": name, "revision": 2})
    assert outbox_row(store).state == st.DONE
    check = reconcile_erp_orders(store, gateway)
    assert check.passed and check.cancelled_expected == 1
    assert push_due_orders(store, gateway).attempted == 0


def test_a_cancellation_before_the_push_never_reaches_the_erp(sqlite_store, erp, gateway):
    send(sqlite_store, ORIGINAL, "1.x12")
    send(sqlite_store, CANCELLATION, "3.x12")

    assert outbox_row(sqlite_store).state == st.SKIPPED
    assert push_due_orders(sqlite_store, gateway).attempted == 0
    assert erp.sale_orders() == [] and erp.calls == []
    assert reconcile_erp_orders(sqlite_store, gateway).passed


def test_a_cancellation_after_a_failed_attempt_looks_in_the_erp_first(sqlite_store, erp, gateway):
    send(sqlite_store, ORIGINAL, "1.x12")
    erp.inject_failures(503, times=1)
    assert push_due_orders(sqlite_store, gateway).retrying == 1  # the ERP may or may not have the order now
    send(sqlite_store, CANCELLATION, "3.x12")

    summary = push_due_orders(sqlite_store, gateway)

    assert summary.skipped == 1
    row = outbox_row(sqlite_store)
    assert row.state == st.SKIPPED and row.last_error == "order cancelled before it reached the ERP"
    assert erp.sale_orders() == []


def test_an_invoiced_order_is_not_cancelled_but_queued_for_a_person(sqlite_store, erp, gateway):
    send(sqlite_store, ORIGINAL, "1.x12")
    push_due_orders(sqlite_store, gateway)
    name = erp.confirm_sale_order(PO)
    erp.deliver_and_invoice(PO)
    send(sqlite_store, CANCELLATION, "3.x12")

    assert push_due_orders(sqlite_store, gateway).dead == 1

    (queued,) = open_exceptions(sqlite_store)
    assert queued.kind == "erp_cancel_refused"
    assert queued.reason.startswith(f"the order was cancelled but sale order {name} has delivered or invoiced")
    assert [o["state"] for o in erp.sale_orders()] == ["sale"]
    check = reconcile_erp_orders(sqlite_store, gateway)
    assert not check.passed and check.not_cancelled == [PO]


def test_a_locked_order_is_refused_with_odoos_message(sqlite_store, erp, gateway):
    send(sqlite_store, ORIGINAL, "1.x12")
    push_due_orders(sqlite_store, gateway)
    name = erp.confirm_sale_order(PO, lock=True)
    send(sqlite_store, CANCELLATION, "3.x12")

    push_due_orders(sqlite_store, gateway)

    (queued,) = open_exceptions(sqlite_store)
    assert queued.kind == "erp_cancel_refused"
    assert f"Odoo refused to cancel sale order {name}" in queued.reason
    assert "You cannot cancel a locked order. Please unlock it first." in queued.reason

    # Ops unlock it in the ERP and replay: the cancellation goes through and the exception closes.
    gateway._client.call("sale.order", "action_unlock", ids=[erp.sale_orders()[0]["id"]])
    assert replay_exception(sqlite_store, PARTNERS, queued.id).done
    assert push_due_orders(sqlite_store, gateway).cancelled == 1
    assert open_exceptions(sqlite_store) == []
    assert reconcile_erp_orders(sqlite_store, gateway).passed


def test_an_order_reopened_after_its_sale_order_was_cancelled_goes_to_review(sqlite_store, erp, gateway):
    send(sqlite_store, ORIGINAL, "1.x12")
    push_due_orders(sqlite_store, gateway)
    send(sqlite_store, CANCELLATION, "3.x12")
    push_due_orders(sqlite_store, gateway)
    same_again = build_850(ACME, po_number=PO, purpose="05", control_number=4,
                           lines=[SampleLine("WID-100", "2", "4.50"), SampleLine("GAD-300", "1", "19.90")])

    assert send(sqlite_store, same_again, "4.x12").orders_replaced == 1
    assert push_due_orders(sqlite_store, gateway).dead == 1

    (queued,) = open_exceptions(sqlite_store)
    assert queued.kind == "erp_update_needs_review"
    assert "is cancelled in the ERP" in queued.reason
    assert "the order is open but its sale order is cancelled" in queued.reason
    assert [o["state"] for o in erp.sale_orders()] == ["cancel"]


def test_a_sale_order_cancelled_in_the_erp_only_fails_the_check(sqlite_store, erp, gateway):
    send(sqlite_store, ORIGINAL, "1.x12")
    push_due_orders(sqlite_store, gateway)
    gateway._client.call("sale.order", "action_cancel", ids=[erp.sale_orders()[0]["id"]])

    check = reconcile_erp_orders(sqlite_store, gateway)

    assert not check.passed and check.cancelled_in_erp == [PO] and check.missing == []


# -- API channels ----------------------------------------------------------------------------------


@dataclass
class Mapped:
    channel_order_id: str
    updated_at: dt.datetime
    order: Order | None
    state: str = "ok"
    problems: list[str] = field(default_factory=list)
    push: bool = True
    reason_not_pushed: str | None = None
    cancelled: bool = False


def shop_order(quantity: str) -> Order:
    return Order(
        source=Source.SHOPIFY, source_ref="5001", partner_id="acme-shop", order_date=dt.date(2025, 3, 14),
        parties=[Party(role=PartyRole.BUYER, name="Jane Shopper", id="c-1")],
        lines=[OrderLine(line_no="1", sku="TENT-2P", quantity=Decimal(quantity), unit_price=Decimal("149.00"))],
        total=Decimal("149.00") * Decimal(quantity),
    )


def sync(store: st.HubStore, name: str, mapped: Mapped) -> ChannelSummary:
    summary = ChannelSummary()
    store_channel_document(store, channel="shopify", partner_id="acme-shop", source_name=name,
                           raw=name.encode(), map_orders=lambda sha: [mapped], summary=summary)
    return summary


def test_a_newer_channel_version_and_then_its_cancellation_follow_the_order_into_the_erp(sqlite_store, erp, gateway):
    t0 = dt.datetime(2025, 3, 14, 9, tzinfo=dt.UTC)
    sync(sqlite_store, "page-1", Mapped("5001", t0, shop_order("1")))
    push_due_orders(sqlite_store, gateway)

    assert sync(sqlite_store, "page-2", Mapped("5001", t0 + dt.timedelta(hours=1), shop_order("2"))).orders_updated == 1
    assert push_due_orders(sqlite_store, gateway).updated == 1
    assert lines_in_erp(erp, "5001") == [("Tent, two person", 2.0)]

    cancelled = sync(sqlite_store, "page-3", Mapped("5001", t0 + dt.timedelta(hours=2), None, cancelled=True))
    assert cancelled.orders_cancelled == 1
    assert push_due_orders(sqlite_store, gateway).cancelled == 1
    assert [o["state"] for o in erp.sale_orders()] == ["cancel"]
    assert reconcile_erp_orders(sqlite_store, gateway).passed
