"""Stock read from the ERP (connectors/erp/_stock.py) against the sandbox ERP's inventory (sandbox/_erp_stock.py),
and the snapshot with ATP it makes in the hub store (hub.inventory.sync_stock)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest
from pydantic import SecretStr

from connectors.erp import OdooConfig, OdooJson2Client, OdooStock
from hub.inventory import allocate_orders, atp_by_sku, live_atp, sync_stock
from sandbox import _erp_stock as stock
from sandbox.erp_server import SandboxErp
from tests.fixtures.erp import ERP_API_KEY

NOW = dt.datetime(2026, 12, 4, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def stocked(erp: SandboxErp) -> SandboxErp:
    """Two warehouses: East (US/NJ) and West (US/CA); WID-100 in both, receipts inside and beyond a week."""
    stock.add_warehouse(erp, "EAST", "East DC", country="US", state="NJ")
    stock.add_warehouse(erp, "WEST", "West DC", country="US", state="CA")
    stock.set_quantity(erp, "WID-100", "EAST", 40, reserved=5)
    stock.set_quantity(erp, "WID-100", "WEST", 12)
    stock.set_quantity(erp, "GAD-300", "WEST", 3)
    stock.add_receipt(erp, "WID-100", "EAST", 20, NOW + dt.timedelta(days=3))
    stock.add_receipt(erp, "WID-100", "EAST", 100, NOW + dt.timedelta(days=20))
    stock.add_receipt(erp, "GAD-300", "WEST", 7, NOW + dt.timedelta(days=30))
    stock.add_receipt(erp, "GAD-300", "WEST", 9, NOW + dt.timedelta(days=2), state="done")  # already on hand
    return erp


@pytest.fixture
def odoo(stocked: SandboxErp) -> Iterator[OdooStock]:
    config = OdooConfig(database=stocked.database, api_key=SecretStr(ERP_API_KEY), http={"base_url": stocked.base_url})
    with OdooJson2Client(config) as client:
        yield OdooStock(client)


def test_warehouses_come_with_the_country_and_state_of_their_address(odoo):
    found = {w.code: (w.name, w.country, w.region) for w in odoo.warehouses()}
    assert found == {"EAST": ("East DC", "US", "NJ"), "WEST": ("West DC", "US", "CA")}


def test_quantities_are_per_warehouse_and_incoming_stops_at_to_date(odoo):
    east, west = (w.id for w in odoo.warehouses())
    week = {p.sku: p for p in odoo.quantities(east, to_date=NOW + dt.timedelta(days=7))}
    assert (week["WID-100"].qty_available, week["WID-100"].free_qty, week["WID-100"].incoming_qty,
            week["WID-100"].virtual_available) == (40, 35, 20, 60)
    assert week["GAD-300"].qty_available == 0  # stocked in WEST only
    every = {p.sku: p for p in odoo.quantities(east)}
    assert every["WID-100"].incoming_qty == 120
    west_levels = {p.sku: p for p in odoo.quantities(west)}
    assert west_levels["WID-100"].qty_available == 12 and west_levels["GAD-300"].incoming_qty == 7  # done not counted


def test_the_warehouse_context_goes_on_the_json2_call(stocked, odoo):
    east = odoo.warehouses()[0].id
    list(odoo.quantities(east, to_date=NOW))
    assert stocked.calls[-1] == ("product.product", "search_read")
    # Without the context the sandbox answers every warehouse together, as Odoo does.
    config = odoo.client
    rows = config.call("product.product", "search_read", domain=[["default_code", "=", "WID-100"]],
                       fields=["qty_available"])
    assert rows[0]["qty_available"] == 52


def test_incoming_moves_are_pending_receipts_earliest_first(odoo):
    east = odoo.warehouses()[0].id
    moves = odoo.incoming_moves(east)
    assert [(m.quantity, m.date.date()) for m in moves] == [
        (Decimal(20), (NOW + dt.timedelta(days=3)).date()), (Decimal(100), (NOW + dt.timedelta(days=20)).date())]


def test_the_sync_snapshots_atp_per_sku_and_warehouse(sqlite_store, odoo):
    summary = sync_stock(sqlite_store, odoo, horizon_days=7, now=NOW)
    assert summary.warehouses == ["EAST", "WEST"] and summary.negative_atp == 0
    rows = {(r["sku"], r["warehouse"]): r for r in summary.rows}
    east = rows["WID-100", "EAST"]
    assert (east["on_hand"], east["incoming"], east["allocated"], east["atp"]) == (40, 20, 0, 60)
    assert east["next_receipt"] == (NOW + dt.timedelta(days=20)).date()  # the first one after the horizon
    assert rows["GAD-300", "WEST"]["next_receipt"] == (NOW + dt.timedelta(days=30)).date()
    with sqlite_store.transaction() as conn:
        assert live_atp(conn)["WID-100", "WEST"] == 12
    assert atp_by_sku(sqlite_store)["WID-100"] == 72


def test_a_second_sync_keeps_the_allocations_against_the_new_stock(sqlite_store, odoo, stocked):
    from tests.test_inventory import save_order

    sync_stock(sqlite_store, odoo, horizon_days=7, now=NOW)
    save_order(sqlite_store, "PO-ERP-1", [("1", "GAD-300", "2")])
    allocate_orders(sqlite_store, [], now=NOW)
    stock.set_quantity(stocked, "GAD-300", "WEST", 1)  # the ERP's count went down
    summary = sync_stock(sqlite_store, odoo, horizon_days=7, now=NOW)
    row = next(r for r in summary.rows if (r["sku"], r["warehouse"]) == ("GAD-300", "WEST"))
    assert (row["on_hand"], row["allocated"], row["atp"]) == (1, 2, -1) and summary.negative_atp == 1
    assert atp_by_sku(sqlite_store)["GAD-300"] == 0  # never published below zero
