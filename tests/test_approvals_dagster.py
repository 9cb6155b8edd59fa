"""The Dagster side: `erp_catalogue` syncs from the sandbox ERP, `pending_approvals` shows the held orders."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg

from hub import store as st
from hub.defs import build_definitions
from mappings.x12.samples import SampleLine
from tests.fixtures.erp import ERP_API_KEY
from tests.test_approvals import receive

REPO = Path(__file__).resolve().parent.parent


def test_the_catalogue_asset_syncs_and_the_approvals_asset_lists_what_waits(erp, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    partners = tmp_path / "partners"
    shutil.copytree(REPO / "mappings" / "partners", partners)
    for key, value in {"HUB_DATABASE_URL": url, "HUB_PARTNERS_DIR": str(partners), "HUB_ERP_URL": erp.base_url,
                       "HUB_ERP_DATABASE": erp.database, "HUB_ERP_API_KEY": ERP_API_KEY}.items():
        monkeypatch.setenv(key, value)
    erp.set_partner_credit("acme", limit=100, owed=90)
    store = st.HubStore(url).migrate()
    defs = build_definitions(partners)
    instance = dg.DagsterInstance.ephemeral()
    schedules = {s.name: s for s in defs.get_repository_def().schedule_defs}
    assert schedules["erp_catalogue_hourly"].default_status == dg.DefaultScheduleStatus.RUNNING

    synced = defs.resolve_job_def("erp_catalogue_sync").execute_in_process(instance=instance)
    meta = synced.asset_materializations_for_node("erp_catalogue")[0].metadata
    products, not_in_erp = meta["products"].value, meta["customers_not_in_erp"].value
    assert isinstance(products, int) and products >= 10 and meta["customers_with_credit"].value == 1
    assert isinstance(not_in_erp, list) and "bluebird" in not_in_erp

    receive(store, "PO-UI-1", [SampleLine("MYSTERY", "4", "5.00")], 1)  # unknown SKU, and over acme's credit
    result = defs.resolve_job_def("pending_approvals_job").execute_in_process(instance=instance)
    meta = result.asset_materializations_for_node("pending_approvals")[0].metadata
    assert meta["pending"].value == 1
    (row,) = meta["pending_approvals"].value.records
    assert row.data["customer"] == "acme" and row.data["po"] == "PO-UI-1" and row.data["channel"] == "x12"
    assert row.data["rules"] == "unknown_sku, credit_limit"
    assert "found MYSTERY" in row.data["findings"] and row.data["age"].endswith("m")  # held at T0, hours ago
    assert meta["by_rule"].value == {"unknown_sku": 1, "credit_limit": 1}
    store.dispose()


def test_the_catalogue_schedule_starts_stopped_without_the_erp_settings(tmp_path, monkeypatch):
    for key in ("HUB_ERP_URL", "HUB_ERP_API_KEY"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    schedules = {s.name: s for s in build_definitions(REPO / "mappings" / "partners").get_repository_def()
                 .schedule_defs}
    assert schedules["erp_catalogue_hourly"].default_status == dg.DefaultScheduleStatus.STOPPED
    assert "HUB_ERP_URL" in (schedules["erp_catalogue_hourly"].description or "")


def test_the_definitions_load_when_no_profile_delivers_to_the_erp(tmp_path, monkeypatch):
    partners = tmp_path / "partners"
    partners.mkdir()
    (partners / "solo.yaml").write_text("id: solo\nname: Solo\ntargets: []\n")
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    defs = build_definitions(partners)
    dg.Definitions.validate_loadable(defs)
    assert "erp" not in (defs.resources or {}) and "erp_catalogue" in (defs.resources or {})
    assert defs.resolve_job_def("erp_catalogue_sync") is not None


def test_an_approved_order_is_pushed_by_the_outbox_sensor_not_a_cron(erp, tmp_path, monkeypatch):
    """Approve -> the next outbox sensor tick (seconds) asks for the push; the order reaches the ERP once."""
    from hub.validation import approve

    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    for key, value in {"HUB_DATABASE_URL": url, "HUB_ERP_URL": erp.base_url, "HUB_ERP_DATABASE": erp.database,
                       "HUB_ERP_API_KEY": ERP_API_KEY}.items():
        monkeypatch.setenv(key, value)
    store = st.HubStore(url).migrate()
    defs = build_definitions(REPO / "mappings" / "partners")
    instance = dg.DagsterInstance.ephemeral()
    defs.resolve_job_def("erp_catalogue_sync").execute_in_process(instance=instance)
    receive(store, "PO-HOLD-1", [SampleLine("MYSTERY", "4", "5.00")], 1)
    sensor = defs.resolve_sensor_def("erp_outbox")
    assert sensor.minimum_interval_seconds is not None and sensor.minimum_interval_seconds <= 30

    def tick():
        context = dg.build_sensor_context(instance=instance, definitions=defs, sensor_name=sensor.name,
                                          resources={"hub_store": (defs.resources or {})["hub_store"]})
        return sensor.evaluate_tick(context)

    assert tick().run_requests == [], "a held order is not pushed"
    with store.transaction() as conn:
        (held,) = st.list_approvals(conn)
    erp.seed_products([("MYSTERY", "Mystery box", 5.0, None)])  # the person has it created in the ERP first
    approve(store, held.id, by="dana", note="product created in the ERP")
    (request,) = tick().run_requests or []
    job = defs.resolve_job_def(request.job_name or sensor.job_name or "")
    assert job.name == "erp_push_job"
    assert job.execute_in_process(instance=instance, tags=request.tags).success
    assert [o["client_order_ref"] for o in erp.sale_orders()] == ["PO-HOLD-1"]
    assert tick().run_requests == [], "delivered: nothing left for the sensor"
    store.dispose()
