"""The hub's own delivery loop drives the carrier target: an X12 order gets one label, whatever is lost.

The outbox row for the carrier is queued by hand (what the intake does for a profile listing it);
after that it is ``hub.delivery.deliver_due_orders`` and ``hub.reconciliation.reconcile_target``, on
SQLite and PostgreSQL, against the sandbox carrier over a socket.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from connectors.easypost import EasyPostClient, EasyPostConfig
from hub import store as st
from hub.delivery import deliver_due_orders
from hub.intake import process_x12_receipt, receive_document
from hub.reconciliation import reconcile_target
from hub.targets.carrier import CarrierTarget
from mappings.profiles import PartnerDirectory
from mappings.x12.samples import SampleLine, build_850
from sandbox.easypost_server import SandboxEasyPost
from tests.test_carrier_target import KEY, ROUTING, Flaky

REPO = Path(__file__).resolve().parents[1]
PARTNERS = PartnerDirectory.load(REPO / "mappings" / "partners")
ACME = PARTNERS.get("acme")
NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)
ORDER_MONDAY = dt.date(2024, 1, 8)  # the sample 850 asks for delivery by 2024-01-15 (DTM 002)


def store_order(store: st.HubStore, po: str, control: int) -> int:
    data = build_850(ACME, po_number=po, control_number=control, lines=[SampleLine("WID-100", "2", "4.50")])
    receipt = receive_document(store, channel="sftp", partner_id="acme", source_name=f"{po}.x12", data=data,
                               max_bytes=1_000_000, now=NOW)
    process_x12_receipt(store, PARTNERS, receipt.id, now=NOW)
    with store.transaction() as conn:
        order_id = conn.execute(select(func.max(st.tables.orders.c.id))).scalar_one()
        st.enqueue_delivery(conn, order_id=order_id, target="carrier", now=NOW)
    return order_id


@pytest.fixture
def carrier():
    with SandboxEasyPost(test_keys={KEY}) as server:
        yield server


@pytest.fixture
def target(carrier, store):
    config = EasyPostConfig(api_key=SecretStr(KEY), http={"base_url": carrier.base_url})
    with EasyPostClient(config) as client:
        yield CarrierTarget(Flaky(client), store, name="carrier", routing_of=lambda partner: ROUTING,
                            write_settle=dt.timedelta(seconds=90), today=lambda: ORDER_MONDAY)


def test_the_loop_buys_one_label_per_order_and_a_lost_answer_is_looked_up_after_the_hold(carrier, target, store):
    first = store_order(store, "PO-L1", 1)
    summary = deliver_due_orders(store, target, now=NOW)
    assert summary.pushed == 1 and len(carrier.buys) == 1
    with store.transaction() as conn:
        row = st.delivery_of(conn, order_id=first, target="carrier")
        shipment = st.shipment_by_reference(conn, "carrier", "acme:PO-L1")
    assert row.state == st.DONE and row.external_ref == shipment.tracking_code
    assert shipment.label_url and shipment.carrier  # delivery by 2024-01-15 from Monday the 8th: any rate

    # The next order's buy answer is lost: the loop holds the carrier, then looks before buying.
    second = store_order(store, "PO-L2", 2)
    target.service.lose.add("buy")
    held = deliver_due_orders(store, target, now=NOW)
    assert held.retrying == 1 and held.on_hold_until is not None and len(carrier.buys) == 2
    assert deliver_due_orders(store, target, now=NOW + dt.timedelta(seconds=10)).pushed == 0
    later = deliver_due_orders(store, target, now=held.on_hold_until + dt.timedelta(seconds=1))
    assert later.pushed == 1 and target.service.calls.count("buy") == 2  # one per order, never a third
    assert len(carrier.buys) == 2
    with store.transaction() as conn:
        assert st.delivery_of(conn, order_id=second, target="carrier").state == st.DONE
    assert deliver_due_orders(store, target, now=NOW + dt.timedelta(hours=1)).pushed == 0
    assert reconcile_target(store, target, partner_ids=[]).passed
