"""The Dagster definitions load and hang together (placeholder environment, no servers)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from hub.defs import build_definitions
from mappings.profiles import PartnerDirectory

REPO = Path(__file__).resolve().parent.parent

PLACEHOLDERS = {
    "HUB_DATABASE_URL": "sqlite:///:memory:",
    "HUB_SFTP_HOST": "127.0.0.1", "HUB_SFTP_PORT": "2222", "HUB_SFTP_USERNAME": "hub", "HUB_SFTP_PASSWORD": "x",
    "HUB_SFTP_PRIVATE_KEY_PATH": "", "HUB_SFTP_KNOWN_HOSTS_PATH": "/nonexistent",
    "HUB_ERP_URL": "http://127.0.0.1:9", "HUB_ERP_DATABASE": "db", "HUB_ERP_API_KEY": "key",
}


@pytest.fixture
def defs(monkeypatch) -> dg.Definitions:
    for key, value in PLACEHOLDERS.items():
        monkeypatch.setenv(key, value)
    return build_definitions()


def test_definitions_load_with_a_sensor_per_partner_inbox(defs):
    dg.Definitions.validate_loadable(defs)
    repository = defs.get_repository_def()
    partners = PartnerDirectory.load(REPO / "mappings" / "partners")
    inboxes = {f"sftp_inbox_{p.id}" for p in partners if p.sftp and p.x12}
    assert {"sftp_inbox_acme", "sftp_inbox_bluebird", "sftp_inbox_northwind"} <= inboxes
    sensors = {s.name: s for s in repository.sensor_defs}
    assert inboxes <= set(sensors)
    assert {sensors[name].job_name for name in inboxes} == {"edi_inbound_job"}
    assert "erp_push_every_10_minutes" in {s.name for s in repository.schedule_defs}


def test_the_intake_job_carries_the_assets_and_their_checks(defs):
    job = defs.resolve_job_def("edi_inbound_job")
    assert {key.to_user_string() for key in job.asset_layer.executable_asset_keys} == {
        "edi_inbound_orders", "edi_functional_acks", "erp_sales_orders"}
    checks = {key.name: key for key in job.asset_layer.asset_graph.asset_check_keys}
    assert set(checks) == {"edi_documents_accounted_for", "erp_sales_orders_exactly_once"}
    graph = defs.resolve_asset_graph()
    spec = graph.get_check_spec(checks["edi_documents_accounted_for"])
    assert spec.blocking, "a file not accounted for must stop the ERP push"


def test_secrets_come_from_the_environment_not_the_code(defs):
    resources = defs.resources
    for name, field in (("erp", "api_key"), ("sftp", "password"), ("hub_store", "database_url")):
        value = getattr(resources[name], field)
        assert isinstance(value, dg.EnvVar), f"{name}.{field} must be an EnvVar"


def test_the_exception_queue_asset_lists_what_waits_and_warns_when_it_is_stale(defs, tmp_path, monkeypatch):
    import datetime as dt

    from hub import store as st

    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    monkeypatch.setenv("HUB_DATABASE_URL", url)
    store = st.HubStore(url).migrate()
    with store.transaction() as conn:
        st.open_exception(conn, channel="sftp", kind="rejected_document", reason="BEG05 is not valid | bad date",
                          partner_id="acme", location="ISA 1 / GS 1 / ST 0001 / segment 2 (BEG) / element 5",
                          now=st.utcnow() - dt.timedelta(days=2))
        st.open_exception(conn, channel="erp", kind="erp_rejected", reason="unknown product SKU X", now=st.utcnow())
    result = defs.resolve_job_def("exception_queue_job").execute_in_process(instance=dg.DagsterInstance.ephemeral())
    meta = result.asset_materializations_for_node("exception_queue")[0].metadata
    assert meta["open"].value == 2
    assert meta["by_kind"].value == {"rejected_document": 1, "erp_rejected": 1}
    assert "element 5" in meta["newest"].value and "BEG05 is not valid / bad date" in meta["newest"].value
    (check,) = result.get_asset_check_evaluations()
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["stale"].value == 1
    store.dispose()
