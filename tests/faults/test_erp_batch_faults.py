"""Batched ERP delivery under faults, through the real path: intake -> outbox -> batches -> sandbox ERP over HTTP.

A batch is one ``create`` call in the ERP (one transaction: all of it or none). Each scenario ends
with every PO once in the store and once in the ERP, and nothing stuck (``tests.faults.invariants``):

* the reply to a batch create is lost after it committed: the batch is looked up before any retry
  and found, not created again;
* one order of 50 is refused by a server-side rule that fails the whole create without naming the
  record: the batch is split until that order is alone; it goes to the exception queue, the 49
  others reach the ERP;
* the ERP dies in the middle of a pass (it commits a batch, never answers, and is down for the next
  pass), then comes back with its data: the rest are delivered once, none doubled.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from connectors.erp import OdooConfig, OdooJson2Client
from hub import store as st
from hub.delivery import push_due_orders
from mappings.odoo import OdooSalesGateway
from sandbox.environment import CATALOG
from sandbox.erp_server import SandboxErp
from tests.faults.invariants import assert_store_invariants
from tests.faults.test_erp_faults import (
    T0,
    TIMEOUT,
    assert_each_po_once_in_erp,
    outbox_rows,
    receive_pos,
    settle,
)
from tests.fixtures.erp import ERP_API_KEY


def _gateway(erp: SandboxErp) -> OdooJson2Client:
    config = OdooConfig(database=erp.database, api_key=ERP_API_KEY,
                        http={"base_url": erp.base_url, "timeout_seconds": TIMEOUT})
    return OdooJson2Client(config)


@pytest.fixture
def gateway(erp: SandboxErp):
    with _gateway(erp) as client:
        yield OdooSalesGateway(client)


def creates(erp: SandboxErp) -> int:
    return erp.calls.count(("sale.order", "create"))


def test_a_batch_whose_reply_is_lost_is_looked_up_and_found_not_created_again(store, erp, gateway):
    pos = receive_pos(store, *(f"PO-LOST-{n}" for n in range(20)))
    dropped = erp.inject_drop_after_commit()

    summary = push_due_orders(store, gateway, now=T0, batch_size=10)

    assert dropped.wait_finished() and dropped.outcome == "committed"  # the first batch is in the ERP...
    assert len(erp.sale_orders()) == 10 and summary.pushed == 0  # ...unknown to the hub; the second batch waits
    assert summary.retrying == 20 and summary.on_hold_until is not None
    assert push_due_orders(store, gateway, now=T0 + dt.timedelta(seconds=60), batch_size=10).attempted == 0

    sent = creates(erp)
    end = settle(store, gateway, summary.on_hold_until)

    assert creates(erp) == sent + 1  # the retry found the first batch: only the second one was created
    assert_each_po_once_in_erp(erp, pos)
    rows = outbox_rows(store)
    assert all(r.state == st.DONE and r.external_ref for r in rows)
    names = {o["client_order_ref"]: o["name"] for o in erp.sale_orders()}
    with store.transaction() as conn:
        refs = dict(conn.execute(st.tables.orders.select().with_only_columns(
            st.tables.orders.c.id, st.tables.orders.c.source_ref)).all())
    assert {refs[r.order_id]: r.external_ref for r in rows} == names  # each delivery names its own sale order
    assert_store_invariants(store, expected_pos=pos, acks_sent=False, now=end + dt.timedelta(hours=1))


def test_one_refused_order_in_a_batch_of_50_is_isolated_and_the_49_others_are_delivered(store, erp, gateway):
    pos = receive_pos(store, *(f"PO-BAD-{n:02d}" for n in range(50)))
    erp.refuse_sale_orders(["PO-BAD-37"], "Credit hold: the customer's credit limit is exceeded")

    summary = push_due_orders(store, gateway, now=T0, batch_size=50)

    assert (summary.pushed, summary.dead, summary.retrying) == (49, 1, 0)
    assert creates(erp) <= 1 + 2 * 6  # halves down to the one order: about 2 log2(50) calls, not 50
    held = sorted(o["client_order_ref"] for o in erp.sale_orders())
    assert held == sorted(po for _, _, po in pos if po != "PO-BAD-37")
    with store.transaction() as conn:
        [exception] = st.list_exceptions(conn, state=st.OPEN)
    assert exception.kind == "erp_rejected" and "Credit hold" in exception.reason
    dead = [r for r in outbox_rows(store) if r.state == st.DEAD]
    assert [r.order_id for r in dead] == [exception.order_id]

    # Fixed in the ERP, replayed: delivered once, and the exception closes.
    erp.accept_sale_orders(["PO-BAD-37"])
    assert exception.order_id is not None
    with store.transaction() as conn:
        st.requeue_delivery(conn, order_id=exception.order_id, target="erp", now=T0)
    assert push_due_orders(store, gateway, now=T0 + dt.timedelta(minutes=5)).pushed == 1
    assert_each_po_once_in_erp(erp, pos)
    assert_store_invariants(store, expected_pos=pos, acks_sent=False, now=T0 + dt.timedelta(hours=1))


def test_the_erp_dying_mid_pass_and_coming_back_leaves_every_po_once(store, tmp_path: Path):
    state = tmp_path / "erp.json"
    erp = SandboxErp(api_key=ERP_API_KEY, state_path=state).start()
    erp.seed_products(CATALOG)
    port = int(erp.base_url.rsplit(":", 1)[1])
    pos = receive_pos(store, *(f"PO-DIE-{n}" for n in range(30)))
    with _gateway(erp) as client:
        gateway = OdooSalesGateway(client)
        push_batches = gateway.push_sale_orders
        batches = []

        def dies_during_the_second(batch, *, confirm=False):
            batches.append(len(batch))
            if len(batches) == 2:  # the ERP commits this batch, then dies before answering
                erp.inject_drop_after_commit()
                try:
                    return push_batches(batch, confirm=confirm)
                finally:
                    erp.stop()
            return push_batches(batch, confirm=confirm)

        gateway.push_sale_orders = dies_during_the_second  # type: ignore[method-assign]
        summary = push_due_orders(store, gateway, now=T0, batch_size=10)
        assert (summary.pushed, summary.retrying) == (10, 20) and summary.on_hold_until is not None
        # Down for the next pass: nothing reaches it, nothing is lost, everything stays due.
        down = push_due_orders(store, gateway, now=summary.on_hold_until, batch_size=10)
        assert down.retrying == 20 and down.pushed == 0

    with SandboxErp(api_key=ERP_API_KEY, state_path=state, port=port) as erp:  # back, with what it committed
        assert len(erp.sale_orders()) == 20
        with _gateway(erp) as client:
            end = settle(store, OdooSalesGateway(client), summary.on_hold_until + dt.timedelta(hours=2))
        assert_each_po_once_in_erp(erp, pos)
    assert all(r.state == st.DONE for r in outbox_rows(store))
    assert_store_invariants(store, expected_pos=pos, acks_sent=False, now=end + dt.timedelta(hours=1))
