"""The Dagster side of inventory: ``inventory_job`` snapshots the sandbox ERP's stock and allocates the stored
orders, with what a person sees in the UI (counts, the ATP table); its check warns about over-allocation."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import dagster as dg

from hub import store as st
from hub.defs import build_definitions
from sandbox import _erp_stock as stock
from tests.fixtures.erp import ERP_API_KEY
from tests.test_inventory import save_order

REPO = Path(__file__).resolve().parent.parent


def test_the_inventory_job_shows_atp_and_allocations(erp, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    partners = tmp_path / "partners"
    shutil.copytree(REPO / "mappings" / "partners", partners)
    for key, value in {"HUB_DATABASE_URL": url, "HUB_PARTNERS_DIR": str(partners), "HUB_ERP_URL": erp.base_url,
                       "HUB_ERP_DATABASE": erp.database, "HUB_ERP_API_KEY": ERP_API_KEY}.items():
        monkeypatch.setenv(key, value)
    stock.add_warehouse(erp, "EAST", "East DC", country="US", state="NJ")
    stock.add_warehouse(erp, "WEST", "West DC", country="US", state="CA")
    stock.set_quantity(erp, "WID-100", "EAST", 2)
    stock.set_quantity(erp, "WID-100", "WEST", 30)
    stock.add_receipt(erp, "GAD-300", "EAST", 5, dt.datetime.now(dt.UTC) + dt.timedelta(days=2))
    store = st.HubStore(url).migrate()
    save_order(store, "PO-INV-1", [("1", "WID-100", "10"), ("2", "GAD-300", "8")], country="US", region="NJ")
    defs = build_definitions(partners)
    schedules = {s.name: s for s in defs.get_repository_def().schedule_defs}
    assert schedules["inventory_every_15_minutes"].default_status == dg.DefaultScheduleStatus.RUNNING

    result = defs.resolve_job_def("inventory_job").execute_in_process(instance=dg.DagsterInstance.ephemeral())
    atp = result.asset_materializations_for_node("inventory_atp")[0].metadata
    assert atp["warehouses"].value == ["EAST", "WEST"] and atp["negative_atp"].value == 0
    records = {(r.data["sku"], r.data["warehouse"]): r.data for r in atp["atp"].value.records}
    assert records["WID-100", "WEST"]["atp"] == 30 and records["GAD-300", "EAST"]["incoming"] == 5
    assert atp["dagster/row_count"].value == len(records)

    allocations = result.asset_materializations_for_node("inventory_allocations")[0].metadata
    assert allocations["orders_allocated"].value == 1
    lines = allocations["lines_by_outcome"].value
    assert isinstance(lines, dict) and lines["allocated"] == 1 and lines["backordered"] == 1  # acme: backorder
    assert allocations["lines_by_warehouse"].value == {"WEST": 1, "EAST": 1}  # WID-100 from WEST, 5 GAD-300 held
    (check,) = result.get_asset_check_evaluations()
    assert check.passed

    stock.set_quantity(erp, "WID-100", "WEST", 4)  # counted again: 10 were allocated there
    again = defs.resolve_job_def("inventory_job").execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert again.asset_materializations_for_node("inventory_atp")[0].metadata["negative_atp"].value == 1
    assert again.asset_materializations_for_node("inventory_allocations")[0].metadata["orders_allocated"].value == 0
    (check,) = again.get_asset_check_evaluations()
    assert not check.passed and check.metadata["over_allocated"].value == [
        {"sku": "WID-100", "warehouse": "WEST", "atp": "-6"}]
    store.dispose()


def test_the_inventory_schedule_starts_stopped_without_the_erp_settings(tmp_path, monkeypatch):
    for key in ("HUB_ERP_URL", "HUB_ERP_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    schedules = {s.name: s for s in build_definitions(REPO / "mappings" / "partners").get_repository_def()
                 .schedule_defs}
    assert schedules["inventory_every_15_minutes"].default_status == dg.DefaultScheduleStatus.STOPPED
