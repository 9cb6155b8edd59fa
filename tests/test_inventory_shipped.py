"""A shipped line stops holding its allocation (hub/inventory): ATP counts each shipped unit once, in the ERP's
on hand going down, never also in the allocation; and it is never over-stated while the stock sync and the
``erp_deliveries`` feed run at different moments. Against the sandbox ERP: order pushed and allocated,
delivered there (``SandboxErp.ship`` lowers on hand), the feed recorded, the stock synced again."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import dagster as dg
import pytest
from pydantic import SecretStr

from connectors.erp import OdooConfig, OdooJson2Client, OdooStock
from hub import store as st
from hub.defs.matching.deliveries import SOURCE as FEED_SOURCE
from hub.defs.matching.deliveries import erp_deliveries
from hub.defs.resources import ErpResource, HubStoreResource
from hub.delivery import deliver_due_orders
from hub.inventory import (
    SHIPPED_SOURCE,
    StockLevel,
    WarehouseRow,
    allocate_orders,
    allocations_of,
    atp_by_sku,
    live_atp,
    replace_stock,
    sync_stock,
)
from hub.store._match_runs import ShipmentLine, record_shipment_lines
from hub.targets import OdooTarget
from mappings.odoo import OdooSalesGateway
from sandbox import _erp_stock as sandbox_stock
from sandbox.erp_server import SandboxErp
from tests.fixtures.erp import ERP_API_KEY
from tests.present import present
from tests.test_erp_sandbox import make_order
from tests.test_inventory import save_order, stock

PO = "4500012345"  # line 1: WID-100 x3 (allocated in EAST); line 2: a GTIN only (not stocked, never allocated)
D = Decimal


@pytest.fixture
def odoo(erp: SandboxErp) -> Iterator[OdooStock]:
    """The sandbox ERP's stock: EAST holds 40 WID-100 and 10 GAD-300."""
    sandbox_stock.add_warehouse(erp, "EAST", "East DC", country="US", state="NJ")
    sandbox_stock.set_quantity(erp, "WID-100", "EAST", 40)
    sandbox_stock.set_quantity(erp, "GAD-300", "EAST", 10)
    config = OdooConfig(database=erp.database, api_key=SecretStr(ERP_API_KEY), http={"base_url": erp.base_url})
    with OdooJson2Client(config) as client:
        yield OdooStock(client)


@pytest.fixture
def pushed(tmp_path, erp, odoo) -> Iterator[st.HubStore]:
    """PO 4500012345 pushed to the sandbox ERP, confirmed there, the stock synced and the order allocated."""
    hub = st.HubStore(f"sqlite:///{tmp_path / 'hub.sqlite3'}").migrate()
    with hub.transaction() as conn:
        saved = st.save_order(conn, make_order(PO), receipt_id=None, now=st.utcnow())
        st.enqueue_delivery(conn, order_id=present(saved.order_id), target="erp", now=st.utcnow())
    config = OdooConfig(database=erp.database, api_key=ERP_API_KEY, http={"base_url": erp.base_url})
    with OdooJson2Client(config) as client:
        assert deliver_due_orders(hub, OdooTarget(OdooSalesGateway(client))).pushed == 1
    erp.confirm_sale_order(PO)
    sync_stock(hub, odoo)
    assert allocate_orders(hub, []).orders == 1
    yield hub
    hub.dispose()


def feed(pushed: st.HubStore, erp: SandboxErp) -> int:
    """One run of the ``erp_deliveries`` asset; how many lines it recorded."""
    result = dg.materialize([erp_deliveries], resources={
        "hub_store": HubStoreResource(database_url=pushed.url, partners_dir="mappings/partners"),
        "erp_deliveries": ErpResource(base_url=erp.base_url, database=erp.database, api_key=ERP_API_KEY)})
    (materialization,) = result.asset_materializations_for_node("erp_deliveries")
    return int(materialization.metadata["lines_changed"].value)  # type: ignore[arg-type]


def atp(pushed: st.HubStore) -> Decimal:
    """Live ATP of WID-100 in EAST; what may be published (``atp_by_sku``) is never above it."""
    with pushed.transaction() as conn:
        found = live_atp(conn)["WID-100", "EAST"]
    assert atp_by_sku(pushed)["WID-100"] <= max(found, D(0))
    return found


def order_id(pushed: st.HubStore) -> int:
    with pushed.transaction() as conn:
        return int(conn.execute(st.tables.orders.select().where(st.tables.orders.c.source_ref == PO)).one().id)


def test_the_release_reads_the_source_the_delivery_feed_writes():
    assert SHIPPED_SOURCE == FEED_SOURCE


def test_a_done_delivery_lowers_the_sandbox_erps_on_hand(erp, odoo, pushed):
    erp.ship(PO)
    east = odoo.warehouses()[0].id
    levels = {p.sku: p.qty_available for p in odoo.quantities(east)}
    assert (levels["WID-100"], levels["GAD-300"]) == (37, 8)


def test_a_shipped_order_is_counted_once_whatever_runs_first(erp, odoo, pushed):
    with pushed.transaction() as conn:
        (line, _not_stocked) = allocations_of(conn, order_id(pushed))
    assert (line.warehouse, line.allocated) == ("EAST", D(3)) and atp(pushed) == 37

    erp.ship(PO)
    assert atp(pushed) == 37, "the snapshot still holds the 3 units: the allocation keeps them"
    assert feed(pushed, erp) == 2
    assert atp(pushed) == 37, "recorded after the snapshot: releasing it now would count the 3 units twice (40)"
    sync_stock(pushed, odoo)
    assert atp(pushed) == 37, "on hand 37, the allocation released: not lowered twice (34)"

    assert feed(pushed, erp) == 0 and allocate_orders(pushed, []).orders == 0
    summary = sync_stock(pushed, odoo)
    row = next(r for r in summary.rows if (r["sku"], r["warehouse"]) == ("WID-100", "EAST"))
    assert (row["on_hand"], row["allocated"], row["atp"]) == (37, 0, 37) and atp(pushed) == 37, "idempotent"


def test_a_sync_between_the_delivery_and_the_feed_errs_low_until_the_next_sync(erp, odoo, pushed):
    erp.ship(PO)
    sync_stock(pushed, odoo)
    assert atp(pushed) == 34, "on hand already down, the shipment not recorded yet: low, never high"
    feed(pushed, erp)
    assert atp(pushed) == 34
    sync_stock(pushed, odoo)
    assert atp(pushed) == 37


def test_a_partial_shipment_releases_what_shipped(erp, odoo, pushed):
    erp.ship(PO, [[("WID-100", 1)]])
    assert feed(pushed, erp) == 1
    sync_stock(pushed, odoo)
    assert atp(pushed) == 37, "on hand 39 less the 2 still to ship"
    erp.ship(PO, [[("WID-100", 2), ("GAD-300", 2)]])
    feed(pushed, erp)
    sync_stock(pushed, odoo)
    assert atp(pushed) == 37, "on hand 37, nothing left open"


def test_more_shipped_than_allocated_frees_no_more_than_the_allocation(erp, odoo, pushed):
    sandbox_stock.set_quantity(erp, "WID-100", "EAST", 45)  # five more than the order needs
    erp.ship(PO, [[("WID-100", 5)]])  # the warehouse shipped more than ordered
    feed(pushed, erp)
    sync_stock(pushed, odoo)
    assert atp(pushed) == 40, "on hand 40, the allocation released to 0, not below"


def test_a_cancelled_order_holds_nothing_its_shipped_part_left_on_hand(erp, odoo, pushed):
    erp.ship(PO, [[("WID-100", 1)]])
    feed(pushed, erp)
    with pushed.transaction() as conn:
        conn.execute(st.tables.orders.update().where(st.tables.orders.c.id == order_id(pushed))
                     .values(status=st.OrderStatus.CANCELLED))
    sync_stock(pushed, odoo)
    assert atp(pushed) == 39


def test_a_new_revision_gets_back_only_what_had_not_shipped(store):
    """Store only: a line of 6 with 4 shipped (recorded before the snapshot) holds 2; its replacement
    gives back those 2, not 6, so it cannot allocate the 4 units that left on hand."""
    lines = [("1", "WID", "6")]
    first = save_order(store, "PO-R1", lines)
    stock(store, {("WID", "EAST"): ("10", "0")})
    allocate_orders(store, [], now=dt.datetime(2026, 12, 4, 10, tzinfo=dt.UTC))
    with store.transaction() as conn:
        record_shipment_lines(conn, [ShipmentLine(SHIPPED_SOURCE, "erp", "acme", "PO-R1", "1", "WID", D(4),
                                                  dt.date(2026, 12, 4))],
                              now=dt.datetime(2026, 12, 4, 11, tzinfo=dt.UTC))
    snapshot = dt.datetime(2026, 12, 4, 12, tzinfo=dt.UTC)
    with store.transaction() as conn:
        replace_stock(conn, [WarehouseRow("EAST", 1, "East", "US", "NJ")],
                      [StockLevel("WID", "EAST", D(6), D(6), D(0), D(6))], horizon_days=7, now=snapshot)
        assert live_atp(conn)["WID", "EAST"] == 4, "on hand 6 less the 2 still to ship"
    with store.transaction() as conn:  # a change order: the same PO, line 1 now 8
        conn.execute(st.tables.orders.update().where(st.tables.orders.c.id == first).values(revision=2))
        conn.execute(st.tables.order_lines.update().where(st.tables.order_lines.c.order_id == first)
                     .values(quantity=D(8)))
    allocate_orders(store, [], now=snapshot)
    with store.transaction() as conn:
        (line,) = allocations_of(conn, first)
        assert (line.revision, line.allocated) == (2, D(6)), "ATP 4 + the 2 given back, not 4 + 6"
        assert live_atp(conn)["WID", "EAST"] == 6 - (6 - 4)
