"""The Dagster definitions load and hang together (placeholder environment, no servers), through the code
location's defs folder as Dagster and `dg check defs` load it."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from canonical.errors import FatalError, RetriableError
from hub.defs import build_definitions
from mappings.profiles import PartnerDirectory
from tests.test_profiles import break_field

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
        "edi_inbound_orders", "edi_functional_acks", "erp_sales_orders", "exception_queue"}
    checks = {key.name: key for key in job.asset_layer.asset_graph.asset_check_keys}
    assert set(checks) == {"edi_documents_accounted_for", "edi_files_accepted", "erp_sales_orders_exactly_once",
                           "no_exception_waits_over_a_day"}
    graph = defs.resolve_asset_graph()
    spec = graph.get_check_spec(checks["edi_documents_accounted_for"])
    assert spec.blocking, "a file not accounted for must stop the ERP push"


def test_every_job_that_can_change_the_exception_queue_ends_by_materializing_it(sandbox_partners, monkeypatch):
    for key, value in PLACEHOLDERS.items():
        monkeypatch.setenv(key, value)
    defs = build_definitions(sandbox_partners)
    graph = defs.resolve_asset_graph()
    queue = dg.AssetKey("exception_queue")
    # The validation assets (hub/defs/catalogue) read the ERP and the store's approvals, the inventory assets
    # (hub/defs/inventory) the ERP's stock and the store's orders, the three-way match and its deliveries feed
    # (hub/defs/matching) report to finance; no others are exempt.
    untouched = {key for key in graph.get_all_asset_keys()
                 if graph.get(key).tags.get("hub/exception_queue") == "untouched"}
    assert untouched == {dg.AssetKey("erp_catalogue"), dg.AssetKey("pending_approvals"),
                         dg.AssetKey("inventory_atp"), dg.AssetKey("inventory_allocations"),
                         dg.AssetKey("three_way_match"), dg.AssetKey("erp_deliveries")}
    changers = {key for key in graph.get_all_asset_keys() if key != queue} - untouched
    assert changers and graph.get(queue).parent_keys == changers, "downstream of every asset that opens exceptions"
    jobs = [job for job in defs.get_repository_def().get_all_jobs() if not job.name.startswith("__")
            and not set(job.asset_layer.executable_asset_keys) <= untouched]
    names = {job.name for job in jobs}
    assert {"edi_inbound_job", "erp_push_job", "shopify_trailhead_sync", "shopify_webhook_job"} <= names
    for job in jobs:
        assert queue in job.asset_layer.executable_asset_keys, f"{job.name} does not end with the exception queue"


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


def _names(defs: dg.Definitions) -> dict[str, set[str]]:
    repository = defs.get_repository_def()
    return {
        "assets": {key.to_user_string() for key in defs.resolve_asset_graph().get_all_asset_keys()},
        "jobs": {job.name for job in repository.get_all_jobs()},
        "sensors": {sensor.name for sensor in repository.sensor_defs},
        "schedules": {schedule.name for schedule in repository.schedule_defs},
        "resources": set(defs.resources or {}),
    }


@pytest.fixture
def sandbox_partners(tmp_path, monkeypatch) -> Path:
    """A copy of the sandbox partner profiles, named by HUB_PARTNERS_DIR as a deployment names them."""
    for key, value in PLACEHOLDERS.items():
        monkeypatch.setenv(key, value)
    folder = tmp_path / "partners"
    shutil.copytree(REPO / "mappings" / "partners", folder)
    monkeypatch.setenv("HUB_PARTNERS_DIR", str(folder))
    return folder


def test_the_code_location_is_the_defs_folder_with_a_component_per_account(sandbox_partners):
    from hub.definitions import defs as code_location

    assert not isinstance(code_location, dg.Definitions), "built when Dagster calls it, not at import"
    defs = code_location()
    dg.Definitions.validate_loadable(defs)
    names = _names(defs)
    assert names == _names(build_definitions(sandbox_partners))
    assert {"edi_inbound_orders", "edi_functional_acks", "exception_queue", "erp_sales_orders",
            "shopify_orders_trailhead", "amazon_orders_marketplace_us", "shopify_webhook_orders"} <= names["assets"]
    assert {"edi_inbound_job", "exception_queue_job", "erp_push_job", "shopify_trailhead_sync",
            "amazon_marketplace_us_sync", "shopify_webhook_job"} <= names["jobs"]
    assert {"sftp_inbox_acme", "sftp_inbox_bluebird", "shopify_webhook_queue"} <= names["sensors"]
    # Each account's API resource under the account's own key, beside the shared ones.
    assert names["resources"] == {"hub_store", "sftp", "erp", "shopify_trailhead", "amazon_marketplace_us",
                                  "email_cornerhw", "hub_alerts", "erp_catalogue", "erp_inventory",
                                  "erp_deliveries"}
    assert {"alert_on_run_failure", "alert_new_exceptions", "alert_overdue_acks"} <= names["sensors"]
    resources = defs.resources or {}
    token = resources["shopify_trailhead"].access_token
    assert isinstance(token, dg.EnvVar) and token.env_var_name == "HUB_SHOPIFY_TRAILHEAD_TOKEN"
    assert resources["hub_store"].partners_dir == str(sandbox_partners)


def test_the_profiles_are_read_when_dagster_loads_the_definitions_not_at_import(sandbox_partners):
    from hub.definitions import defs as code_location

    (sandbox_partners / "northwind.yaml").unlink()
    assert "sftp_inbox_northwind" not in _names(code_location())["sensors"]
    # And nothing in hub/defs reads a profile or a setting when imported (a fresh interpreter).
    script = """
import pkgutil, importlib
import hub.settings, mappings.profiles
def refuse(*args, **kwargs):
    raise RuntimeError("read at import")
hub.settings.get_settings = refuse
mappings.profiles.PartnerDirectory.load = refuse
import hub.defs, hub.definitions
for module in pkgutil.walk_packages(hub.defs.__path__, "hub.defs."):
    importlib.import_module(module.name)
import traceback
try:
    hub.definitions.defs()
except Exception as error:  # Dagster wraps it in its own load error
    print("read when called" if "read at import" in "".join(traceback.format_exception(error)) else error)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120,
                          cwd=REPO, env={**os.environ})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "read when called", "the patch must reach the load, or the test proves nothing"


def test_a_broken_profile_leaves_the_other_partners_in_the_code_location(sandbox_partners):
    from hub.definitions import defs as code_location

    break_field(sandbox_partners / "bluebird.yaml", "name:", "name: 2024")
    defs = code_location()
    names = _names(defs)
    assert "sftp_inbox_acme" in names["sensors"] and "sftp_inbox_bluebird" not in names["sensors"]
    assert "shopify_trailhead_sync" in names["jobs"]
    assert defs.metadata["partner_profile_problems"] == dg.MetadataValue.json(
        ["partner profile bluebird.yaml, field name: Input should be a valid string"])


def test_an_accounts_missing_secret_stops_only_that_accounts_runs(sandbox_partners, tmp_path, monkeypatch):
    for key in [*PLACEHOLDERS, "HUB_SHOPIFY_TRAILHEAD_TOKEN", "HUB_AMAZON_US_CLIENT_SECRET"]:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HUB_DATABASE_URL", f"sqlite:///{tmp_path / 'hub.sqlite3'}")
    defs = build_definitions(sandbox_partners)  # loads: secrets are resolved when a run starts

    queue = defs.resolve_job_def("exception_queue_job").execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert queue.success, "a job reading no account needs no account's secrets (nor SFTP's, nor the ERP's)"
    with pytest.raises(dg.DagsterInvalidConfigError, match="HUB_SHOPIFY_TRAILHEAD_TOKEN") as refused:
        defs.resolve_job_def("shopify_trailhead_sync").execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert "HUB_AMAZON" not in str(refused.value), "the store's run does not resolve the seller account's secrets"


def test_assets_say_who_owns_them_what_they_are_and_syncs_how_fresh_they_must_be(sandbox_partners, monkeypatch):
    for key, value in PLACEHOLDERS.items():
        monkeypatch.setenv(key, value)
    specs = {spec.key.to_user_string(): spec for spec in build_definitions(sandbox_partners).resolve_all_asset_specs()}
    kinds = {name: spec.kinds for name, spec in specs.items()}
    assert kinds["edi_inbound_orders"] == {"sftp", "x12"} and kinds["erp_sales_orders"] == {"odoo"}
    assert kinds["shopify_orders_trailhead"] == {"shopify"} and kinds["amazon_orders_marketplace_us"] == {"amazon"}
    assert kinds["exception_queue"] == {"sqlite"}, "the store the placeholders name, not every database we support"
    for name, spec in specs.items():
        assert list(spec.owners) == ["team:ops"], name
    sync = [name for name in specs if name.startswith(("shopify_orders", "amazon_orders"))]
    assert len(sync) == 2
    for name in sync:
        assert specs[name].freshness_policy == dg.FreshnessPolicy.time_window(
            fail_window=dt.timedelta(hours=1), warn_window=dt.timedelta(minutes=15)), name
    assert specs["edi_inbound_orders"].freshness_policy is None, "files arrive when partners send"


@pytest.mark.parametrize(("error", "attempts", "success"), [
    (RetriableError("SFTP not reachable"), 2, True),
    (FatalError("no such partner"), 1, False),
])
def test_only_retriable_errors_retry_the_step(error, attempts, success, monkeypatch):
    from hub.defs import _policies

    monkeypatch.setattr(_policies, "BACKOFF_BASE_S", 0.01)
    calls = []

    @dg.asset
    def flaky(context) -> None:
        with _policies.retry_when_retriable(context):
            calls.append(context.retry_number)
            if len(calls) == 1:
                raise error

    result = dg.materialize([flaky], raise_on_error=False)
    assert (len(calls), result.success) == (attempts, success)


def test_backoff_doubles_up_to_a_cap_and_honours_retry_after():
    from hub.defs._policies import BACKOFF_MAX_S, backoff_seconds

    assert [backoff_seconds(n) for n in range(3)] == [5.0, 10.0, 20.0]
    assert backoff_seconds(10) == BACKOFF_MAX_S
    assert backoff_seconds(0, retry_after=42) == 42


def test_every_job_runs_its_steps_in_the_run_workers_process(sandbox_partners, monkeypatch):
    for key, value in PLACEHOLDERS.items():
        monkeypatch.setenv(key, value)
    jobs = [job for job in build_definitions(sandbox_partners).get_repository_def().get_all_jobs()
            if not job.name.startswith("__")]
    assert len(jobs) >= 6
    assert {job.name: job.executor_def.name for job in jobs} == {job.name: "in_process" for job in jobs}
