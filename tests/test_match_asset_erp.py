"""``erp_deliveries``: the sandbox ERP's delivered quantities become the shipment lines the daily match reads,
once per change; a held invoice the deliveries now cover is released by the match."""

from __future__ import annotations

from decimal import Decimal

import dagster as dg
import pytest

from connectors.erp import OdooConfig, OdooJson2Client
from hub import store as st
from hub.defs.matching.assets import today
from hub.defs.matching.deliveries import erp_deliveries
from hub.defs.resources import ErpResource, HubStoreResource
from hub.delivery import deliver_due_orders
from hub.matching import run_daily_match
from hub.store._match_runs import shipment_lines
from hub.targets import OdooTarget
from mappings.odoo import OdooSalesGateway
from tests.fixtures.erp import ERP_API_KEY
from tests.present import present
from tests.test_erp_sandbox import make_order

PO = "4500012345"


@pytest.fixture
def store(tmp_path, erp):
    """A store with PO 4500012345 pushed to the sandbox ERP and confirmed there (nothing delivered yet)."""
    store = st.HubStore(f"sqlite:///{tmp_path / 'hub.sqlite3'}").migrate()
    with store.transaction() as conn:
        saved = st.save_order(conn, make_order(PO), receipt_id=None, now=st.utcnow())
        st.enqueue_delivery(conn, order_id=present(saved.order_id), target="erp", now=st.utcnow())
    config = OdooConfig(database=erp.database, api_key=ERP_API_KEY, http={"base_url": erp.base_url})
    with OdooJson2Client(config) as client:
        assert deliver_due_orders(store, OdooTarget(OdooSalesGateway(client))).pushed == 1
    erp.confirm_sale_order(PO)
    yield store
    store.dispose()


def feed(store, erp) -> int:
    result = dg.materialize([erp_deliveries], resources={
        "hub_store": HubStoreResource(database_url=store.url, partners_dir="mappings/partners"),
        "erp_deliveries": ErpResource(base_url=erp.base_url, database=erp.database, api_key=ERP_API_KEY)})
    (materialization,) = result.asset_materializations_for_node("erp_deliveries")
    return int(materialization.metadata["lines_changed"].value)  # type: ignore[arg-type]


def lines(store) -> list[tuple[str, str, Decimal]]:
    with store.transaction() as conn:
        return [(line.po_number, line.line_no, line.quantity) for line in shipment_lines(conn, until=today())]


def test_delivered_quantities_are_recorded_once_per_change_and_release_a_covered_hold(store, erp):
    assert feed(store, erp) == 0 and lines(store) == [], "nothing delivered yet"
    with store.transaction() as conn:  # held by the gate: invoiced before the ERP knew of the delivery
        held = st.add_invoice(
            conn, target="erp", partner_id="acme", po_number=PO, order_id=None, reference=f"orderhub:acme:{PO}/1",
            kind="invoice", state=st.InvoiceState.HELD, amount=Decimal("13.20"), refund_of=None,
            lines=[{"line_no": "1", "sku": "WID-100", "quantity": "3", "unit_price": "4.40", "source_line": "1"}],
            findings=[{"category": "invoiced_not_shipped"}], actor="hub", note="held", now=st.utcnow())
    assert run_daily_match(store, today()).released == []

    erp.deliver(PO, [3, 0])
    assert feed(store, erp) == 1 and lines(store) == [(PO, "1", Decimal(3))]
    assert feed(store, erp) == 0, "unchanged: nothing recorded again"
    assert run_daily_match(store, today()).released == [held]

    erp.deliver(PO, [3, 2])
    assert feed(store, erp) == 1 and lines(store) == [(PO, "1", Decimal(3)), (PO, "2", Decimal(2))]
