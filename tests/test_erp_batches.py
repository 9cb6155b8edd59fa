"""Batched delivery to the sandbox ERP: few requests per order, bounded batches in flight, profile settings."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from canonical.errors import ConfigurationError
from connectors.erp import OdooConfig, OdooJson2Client
from hub import store as st
from hub.delivery import deliver_due_orders
from hub.targets import OdooTarget, batch_capacity, configured_targets
from hub.targets.odoo._resource import ErpResource
from mappings.odoo import OdooSalesGateway
from mappings.profiles import PartnerProfile
from tests.faults.test_erp_faults import T0, assert_each_po_once_in_erp, outbox_rows, receive_pos
from tests.fixtures.erp import ERP_API_KEY


@pytest.fixture
def gateway(erp):
    config = OdooConfig(database=erp.database, api_key=ERP_API_KEY, http={"base_url": erp.base_url})
    with OdooJson2Client(config) as client:
        yield OdooSalesGateway(client)


def test_a_pass_in_batches_costs_a_few_requests_per_batch_not_five_per_order(store, erp, gateway):
    pos = receive_pos(store, *(f"PO-B-{n}" for n in range(120)))
    before = len(erp.calls)

    summary = deliver_due_orders(store, OdooTarget(gateway, batch_size=60), now=T0)

    assert summary.pushed == 120
    calls = erp.calls[before:]
    assert calls.count(("sale.order", "create")) == 2
    # Per batch: look up, create, look again; once per pass: products, pricelist (2), partners (find, create, find).
    assert len(calls) <= 2 * 3 + 6, calls
    assert_each_po_once_in_erp(erp, pos)
    second = deliver_due_orders(store, OdooTarget(gateway, batch_size=60), now=T0 + dt.timedelta(minutes=1))
    assert second.attempted == 0


def test_batches_in_flight_are_bounded_and_every_order_arrives_once(store, erp, gateway):
    pos = receive_pos(store, *(f"PO-F-{n}" for n in range(40)))
    target = OdooTarget(gateway, batch_size=5, max_in_flight=3)
    push_many = gateway.push_sale_orders
    lock, running, most = threading.Lock(), [0], [0]

    def counted(batch, *, confirm=False):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        try:
            return push_many(batch, confirm=confirm)
        finally:
            with lock:
                running[0] -= 1

    gateway.push_sale_orders = counted
    summary = deliver_due_orders(store, target, now=T0)

    assert summary.pushed == 40 and 1 < most[0] <= 3
    assert_each_po_once_in_erp(erp, pos)
    assert all(r.state == st.DONE for r in outbox_rows(store))


def test_confirm_orders_confirms_the_new_sale_orders_in_one_call(store, erp, gateway):
    receive_pos(store, "PO-C-1", "PO-C-2", "PO-C-3")
    deliver_due_orders(store, OdooTarget(gateway, confirm=True), now=T0)
    assert {o["state"] for o in erp.sale_orders()} == {"sale"}
    assert erp.calls.count(("sale.order", "action_confirm")) == 1


def test_profile_target_settings_reach_the_erp_resource_and_must_agree():
    def profile(pid: str, **settings) -> PartnerProfile:
        return PartnerProfile(id=pid, name=pid, targets=[{"kind": "odoo", "name": "erp", **settings}])

    kinds = configured_targets([profile("a", batch_size=250, in_flight=2), profile("b")])
    resource = kinds["erp"].connection("erp")
    assert isinstance(resource, ErpResource) and (resource.batch_size, resource.in_flight) == (250, 2)
    assert ErpResource.from_env("erp").batch_size == 100  # the default, within the ERP's ceiling
    assert batch_capacity(OdooTarget(object())) == (1, 1)  # type: ignore[arg-type]  # a gateway without batches
    with pytest.raises(ConfigurationError, match="batch_size is 50 but 'a' says 250"):
        configured_targets([profile("a", batch_size=250), profile("b", batch_size=50)])
    with pytest.raises(ValueError, match="less than or equal to 500"):
        profile("c", batch_size=501)


def test_the_dagster_definitions_give_the_erp_resource_the_profiles_settings(tmp_path):
    from hub.defs import build_definitions
    from tests.seam.test_toy_target import partners_delivering_to

    folder = partners_delivering_to(tmp_path / "partners", [{"kind": "odoo", "name": "erp", "batch_size": 200,
                                                             "in_flight": 2}])
    resources = build_definitions(folder).resources or {}
    erp = resources["erp"]
    assert isinstance(erp, ErpResource) and (erp.batch_size, erp.in_flight, erp.confirm_orders) == (200, 2, False)
