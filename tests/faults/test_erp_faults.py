"""ERP faults through the real delivery path: intake -> store -> outbox -> hub.delivery -> sandbox ERP over HTTP.

The sandbox ERP (Odoo JSON-2) holds a create past the client's timeout and commits it later
(slow commit), or commits and cuts the connection without answering (drop after commit). The hub
must not double the sale order: after a write without an answer it waits until that write can no
longer be running, looks the sale order up by our reference, and only then creates.

Time: the hub runs on a simulated clock (``now=``); the ERP's held request is released by the
test at the moment the scenario says it commits, so nothing here depends on real timing.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from connectors.erp import OdooConfig, OdooJson2Client
from hub import store as st
from hub.delivery import push_due_orders
from hub.intake import process_x12_receipt, receive_document
from mappings.odoo import OdooSalesGateway
from mappings.profiles import PartnerDirectory
from mappings.x12.samples import SampleLine, build_850
from sandbox.erp_server import SandboxErp
from tests.faults.invariants import assert_each_once, assert_store_invariants
from tests.fixtures.erp import ERP_API_KEY
from tests.present import present

REPO = Path(__file__).resolve().parents[2]
PARTNERS = PartnerDirectory.load(REPO / "mappings" / "partners")
ACME = PARTNERS.get("acme")
API_KEY = ERP_API_KEY
# The client's timeout: short, so a held create times out at once (real seconds).
TIMEOUT = 0.5
# How long an Odoo request can still run after its client gave up: Odoo's limit_time_real (120 s by
# default in multi-worker mode); the held create commits this long after it was sent (simulated time).
ODOO_LIMIT_TIME_REAL = dt.timedelta(seconds=120)
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def gateway(erp: SandboxErp):
    config = OdooConfig(database=erp.database, api_key=API_KEY,
                        http={"base_url": erp.base_url, "timeout_seconds": TIMEOUT})
    with OdooJson2Client(config) as client:
        yield OdooSalesGateway(client)


def receive_pos(store: st.HubStore, *pos: str, first_control: int = 1) -> set[tuple[str, str, str]]:
    """Each PO in its own 850 file through the real intake; the (source, partner, PO) keys sent."""
    for number, po in enumerate(pos, start=first_control):
        data = build_850(ACME, po_number=po, control_number=number, lines=[SampleLine("WID-100", "2", "4.50")])
        receipt = receive_document(store, channel="sftp", partner_id="acme", source_name=f"{po}.x12", data=data,
                                   max_bytes=1_000_000)
        process_x12_receipt(store, PARTNERS, receipt.id, now=T0)
    return {("x12", "acme", po) for po in pos}


def outbox_rows(store: st.HubStore) -> Sequence[Any]:
    with store.transaction() as conn:
        return conn.execute(select(st.tables.outbox).order_by(st.tables.outbox.c.id)).all()


def settle(store: st.HubStore, gateway: OdooSalesGateway, start: dt.datetime) -> dt.datetime:
    """Run passes as the schedule would, each at the earliest time a delivery is due, until none is left."""
    now = start
    for _ in range(10):
        rows = outbox_rows(store)
        waiting = [r.next_attempt_at for r in rows if r.state == st.FAILED and r.next_attempt_at is not None]
        if not any(r.state in (st.PENDING, st.FAILED) for r in rows):
            return now
        now = max([now, *waiting])
        summary = push_due_orders(store, gateway, now=now)
        if summary.on_hold_until is not None:
            now = max(now, summary.on_hold_until)
    raise AssertionError(f"deliveries never settled: {[(r.id, r.state, r.last_error) for r in outbox_rows(store)]}")


def assert_each_po_once_in_erp(erp: SandboxErp, pos: set[tuple[str, str, str]]) -> None:
    refs = [order["client_order_ref"] for order in erp.sale_orders()]
    assert_each_once(refs, "ERP sale orders")
    assert sorted(refs) == sorted(po for _, _, po in pos), "a PO is missing in the ERP"


def test_a_create_that_commits_after_the_timeout_is_not_doubled_by_the_retry(store, erp, gateway):
    """Issue 8 point 9: the retry must wait until the timed-out create can no longer commit, then look it up."""
    pos = receive_pos(store, "PO-SLOW-1")
    held = erp.inject_slow_commit()

    summary = push_due_orders(store, gateway, now=T0)  # the create is held past the client's timeout
    assert summary.retrying == 1 and summary.pushed == 0
    assert held.started.is_set() and not held.finished.is_set()
    [row] = outbox_rows(store)
    assert row.state == st.FAILED and "unknown" in row.last_error

    # The scheduler comes back at the earliest time the hub allows; while the ERP's worker is still
    # inside its request (before limit_time_real) that retry races the held create.
    retry_at = row.next_attempt_at
    if retry_at < T0 + ODOO_LIMIT_TIME_REAL:
        push_due_orders(store, gateway, now=retry_at)
    held.release()
    assert held.wait_finished() and held.outcome == "committed"
    settle(store, gateway, max(retry_at, T0 + ODOO_LIMIT_TIME_REAL))

    assert_each_po_once_in_erp(erp, pos)
    [row] = outbox_rows(store)
    assert row.state == st.DONE and row.external_ref == erp.sale_orders()[0]["name"]
    assert_store_invariants(store, expected_pos=pos, acks_sent=False, now=retry_at + dt.timedelta(hours=1))


def test_a_create_whose_answer_is_lost_is_found_not_created_again(store, erp, gateway):
    """Drop after commit: the sale order exists, the hub never heard; the next pass finds it by reference."""
    pos = receive_pos(store, "PO-DROP-1", "PO-DROP-2")
    dropped = erp.inject_drop_after_commit()

    summary = push_due_orders(store, gateway, now=T0)
    assert dropped.wait_finished() and dropped.outcome == "committed"
    # The first create got no answer: nothing else is written until it can no longer commit.
    assert summary.retrying == 2 and summary.pushed == 0
    assert present(summary.on_hold_until) > T0 + dt.timedelta(seconds=TIMEOUT)
    assert {r.next_attempt_at for r in outbox_rows(store)} == {summary.on_hold_until}
    assert push_due_orders(store, gateway, now=T0 + dt.timedelta(seconds=60)).attempted == 0

    end = settle(store, gateway, T0)

    assert_each_po_once_in_erp(erp, pos)
    assert all(r.state == st.DONE and r.external_ref for r in outbox_rows(store))
    assert_store_invariants(store, expected_pos=pos, acks_sent=False, now=end + dt.timedelta(hours=1))


def test_a_customer_create_that_commits_late_is_not_doubled_by_the_next_order(store, erp, gateway):
    """Orders share the ERP customer: after its create went unanswered, no other order may create it again."""
    pos = receive_pos(store, "PO-CUST-1", "PO-CUST-2")
    held = erp.inject_slow_commit(model="res.partner")

    summary = push_due_orders(store, gateway, now=T0)

    assert held.started.is_set() and summary.pushed == 0 and summary.retrying == 2
    assert present(summary.on_hold_until) >= T0 + ODOO_LIMIT_TIME_REAL
    held.release()
    assert held.wait_finished() and held.outcome == "committed"
    end = settle(store, gateway, present(summary.on_hold_until))

    assert_each_po_once_in_erp(erp, pos)
    assert_each_once([p["ref"] for p in erp.records("res.partner") if p["active"]], "active ERP partners")
    assert_store_invariants(store, expected_pos=pos, acks_sent=False, now=end + dt.timedelta(hours=1))


@pytest.mark.parametrize("fault", ["slow_commit", "drop_after_commit"])
def test_an_unanswered_update_or_cancellation_is_compared_again_not_repeated_blindly(store, erp, gateway, fault):
    """A replacement's write and a cancellation's action_cancel without an answer: the next pass compares."""
    pos = receive_pos(store, "PO-CHG-1")
    settle(store, gateway, T0)
    inject = erp.inject_slow_commit if fault == "slow_commit" else erp.inject_drop_after_commit

    def send(purpose: str, control: int, lines) -> None:
        data = build_850(ACME, po_number="PO-CHG-1", purpose=purpose, control_number=control, lines=lines)
        receipt = receive_document(store, channel="sftp", partner_id="acme", source_name=f"chg-{control}.x12",
                                   data=data, max_bytes=1_000_000)
        process_x12_receipt(store, PARTNERS, receipt.id, now=T0)

    now = T0 + dt.timedelta(hours=1)
    for purpose, control, method, lines in [("05", 2, "write", [SampleLine("WID-100", "7", "4.50")]),
                                            ("01", 3, "action_cancel", 1)]:
        send(purpose, control, lines)
        held = inject(method=method)
        summary = push_due_orders(store, gateway, now=now)
        assert summary.retrying == 1 and summary.on_hold_until is not None
        held.release()
        assert held.wait_finished() and held.outcome == "committed"
        now = settle(store, gateway, summary.on_hold_until) + dt.timedelta(hours=1)

    [sale_order] = erp.sale_orders_by_ref("PO-CHG-1")
    assert sale_order["state"] == "cancel"
    assert [(line["product_uom_qty"]) for line in erp.sale_order_lines("PO-CHG-1")] == [7.0]
    assert all(r.state == st.DONE for r in outbox_rows(store))
    assert_store_invariants(store, expected_pos=pos, acks_sent=False, now=now)


def test_with_the_unique_reference_constraint_a_reclaimed_delivery_racing_the_held_create_leaves_one(
    store, erp, gateway
):
    """The ERP enforces (origin, client_order_ref): even a retry that knows nothing of the earlier write
    (a run killed during its create, its delivery reclaimed as stale) cannot double the sale order."""
    erp.enforce_unique_sale_order_refs()
    pos = receive_pos(store, "PO-RACE-1")
    held = erp.inject_slow_commit()
    push_due_orders(store, gateway, now=T0)
    assert held.started.is_set()
    # As if the run had been killed during the create: in flight, no error recorded, reclaimed when stale.
    outbox = st.tables.outbox
    with store.transaction() as conn:
        conn.execute(outbox.update().values(state=st.IN_FLIGHT, last_error=None, next_attempt_at=None, updated_at=T0))
    reclaimed_at = T0 + dt.timedelta(minutes=16)

    # The reclaimed delivery creates first...
    assert push_due_orders(store, gateway, now=reclaimed_at).pushed == 1
    # ... and the held create, committing afterwards, is refused by the constraint.
    held.release()
    assert held.wait_finished() and "orderhub_ref_unique" in held.outcome

    assert_each_po_once_in_erp(erp, pos)
    assert_store_invariants(store, expected_pos=pos, acks_sent=False, now=reclaimed_at + dt.timedelta(hours=1))


def test_with_the_unique_reference_constraint_a_create_after_the_held_one_committed_finds_it(store, erp, gateway):
    """The other order of the race: the held create commits between our lookup and our create."""
    erp.enforce_unique_sale_order_refs()
    pos = receive_pos(store, "PO-RACE-2")
    held = erp.inject_slow_commit()
    push_due_orders(store, gateway, now=T0)
    outbox = st.tables.outbox
    with store.transaction() as conn:
        conn.execute(outbox.update().values(state=st.IN_FLIGHT, last_error=None, next_attempt_at=None, updated_at=T0))
    looked_up = gateway.find_sale_orders

    def lookup_then_commit(refs, *, partner_id=None):
        found = looked_up(refs, partner_id=partner_id)
        if not held.finished.is_set():  # the first lookup of the retry: let the held create commit right after it
            held.release()
            assert held.wait_finished() and held.outcome == "committed"
        return found

    gateway.find_sale_orders = lookup_then_commit
    summary = push_due_orders(store, gateway, now=T0 + dt.timedelta(minutes=16))

    assert summary.unchanged == 1 and summary.pushed == 0  # refused by the ERP, then found
    assert_each_po_once_in_erp(erp, pos)
    [row] = outbox_rows(store)
    assert row.state == st.DONE and row.external_ref == erp.sale_orders()[0]["name"]
    assert_store_invariants(store, expected_pos=pos, acks_sent=False, now=T0 + dt.timedelta(hours=1))


@pytest.mark.parametrize("batch_size", [1, 3], ids=["one-by-one", "batches-of-3"])
def test_many_orders_with_slow_and_dropped_creates_each_reach_the_erp_once(store, erp, gateway, batch_size):
    """Several faults in a row under the unique constraint: every PO once in the store and the ERP (one fault
    per create call: per order, or per batch)."""
    erp.enforce_unique_sale_order_refs()
    pos = receive_pos(store, *(f"PO-MIX-{n}" for n in range(1, 9)))
    faults = [erp.inject_slow_commit(), erp.inject_drop_after_commit(), erp.inject_slow_commit()]

    now = T0
    for _ in range(len(faults) + 1):  # each pass meets the next fault, and waits until it cannot commit
        summary = push_due_orders(store, gateway, now=now, batch_size=batch_size)
        for fault in faults:
            fault.release()
        assert all(fault.wait_finished() for fault in faults if fault.started.is_set())
        now = summary.on_hold_until or now
    end = settle(store, gateway, now)

    assert all(fault.outcome == "committed" for fault in faults)
    assert_each_po_once_in_erp(erp, pos)
    assert all(r.state == st.DONE for r in outbox_rows(store))
    assert_store_invariants(store, expected_pos=pos, acks_sent=False, now=end + dt.timedelta(hours=1))


@pytest.mark.slow_faults
@pytest.mark.parametrize("unique_refs", [False, True], ids=["plain-odoo", "unique-ref-module"])
def test_random_slow_and_dropped_creates_over_many_passes_leave_every_po_once(store, erp, gateway, unique_refs):
    """A sweep: 3 new POs and 1-2 random write faults per pass, 10 passes, each pass at the next due time."""
    rng = random.Random(8)
    erp.enforce_unique_sale_order_refs(unique_refs)
    pos: set[tuple[str, str, str]] = set()
    now, injected = T0, [erp.inject_slow_commit(model="res.partner")]  # the first pass creates the partners
    for wave in range(10):
        pos |= receive_pos(store, *(f"PO-SWEEP-{wave}-{n}" for n in range(3)), first_control=wave * 3 + 1)
        for _ in range(rng.randint(1, 2)):
            inject = rng.choice([erp.inject_slow_commit, erp.inject_drop_after_commit])
            injected.append(inject())
        summary = push_due_orders(store, gateway, now=now)
        for fault in injected:
            fault.release()  # the ERP's workers finish within limit_time_real, before anything is due again
        assert all(fault.wait_finished() for fault in injected if fault.started.is_set())
        now = max(now + dt.timedelta(minutes=1), summary.on_hold_until or now)
    erp._api.write_faults.clear()  # faults never reached are withdrawn: the sandbox serves normally again
    end = settle(store, gateway, now)

    hit = sum(f.started.is_set() for f in injected)
    assert hit >= 10, f"only {hit} of {len(injected)} faults were reached: the sweep means little"
    assert_each_po_once_in_erp(erp, pos)
    active_partner_refs = [p["ref"] for p in erp.records("res.partner") if p["active"]]
    assert_each_once(active_partner_refs, "active ERP partners")
    assert all(r.state == st.DONE for r in outbox_rows(store))
    assert_store_invariants(store, expected_pos=pos, acks_sent=False, now=end + dt.timedelta(hours=1))
