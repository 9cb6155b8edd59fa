"""What an operator sees of a file's run in Dagster: its outcome as a run tag, a WARN check when the file was not
accepted, and the exception queue materialized by the same run (with the file's name)."""

from __future__ import annotations

import dagster as dg
import pytest

from hub import store as st
from hub.defs import build_definitions
from hub.defs.edi.assets import run_outcome
from hub.intake import receive_document
from sandbox.environment import ERP_API_KEY, ERP_DATABASE
from tests.test_pipeline import BROKEN, GOOD, Pipeline, pipeline  # noqa: F401 - registers the fixture `pipeline`

NOT_EDI = b"po,sku,qty\n1,WID-100,3\n"


@pytest.fixture
def site(pipeline: Pipeline) -> Pipeline:  # noqa: F811 - test_pipeline's fixture, both sandbox and real servers
    return pipeline


def _runs_by_receipt_file(site: Pipeline) -> dict[str, dg.DagsterRun]:
    names = {}
    for record in site.instance.get_run_records():
        run = record.dagster_run
        if "dagster/run_key" in run.tags:  # the sensor's runs: key partner:sha-prefix:file-name
            names[run.tags["dagster/run_key"].rsplit(":", 1)[-1]] = run
    return names


def _check(site: Pipeline, run: dg.DagsterRun, name: str):
    events = site.instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    (evaluation,) = [e.dagster_event.event_specific_data for e in events
                     if e.dagster_event.event_specific_data.check_name == name]
    return evaluation


def test_each_files_run_is_tagged_with_its_outcome_and_warns_unless_accepted(site: Pipeline):
    # One file per tick: a tick's files share one run (tagged with the worst outcome), here each gets its own.
    for name, data in (("a-broken.x12", BROKEN), ("b-good.x12", GOOD), ("c-not-edi.csv", NOT_EDI)):
        site.drop("acme", name, data)
        assert [status for *_, status in site.tick()] == ["success"], "bad input never fails a run"

    runs = _runs_by_receipt_file(site)
    assert {name: run.tags.get("hub/outcome") for name, run in runs.items()} == {
        "a-broken.x12": "partially_accepted", "b-good.x12": "accepted", "c-not-edi.csv": "not_x12"}
    good = _check(site, runs["b-good.x12"], "edi_files_accepted")
    assert good.passed
    for name in ("a-broken.x12", "c-not-edi.csv"):
        check = _check(site, runs[name], "edi_files_accepted")
        assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
        assert name in check.description
        (row,) = check.metadata["files"].value.records
        assert row.data["file"] == name and row.data["exceptions"], "the file's exception is named"


@pytest.mark.parametrize(("outcomes", "worst"), [
    ([], "accepted"),
    (["accepted", "duplicate"], "duplicate"),
    (["accepted", "rejected", "partially_accepted"], "rejected"),
    (["not_x12", "rejected"], "not_x12"),
    (["accepted", "something new"], "failed"),
])
def test_a_run_of_several_files_is_tagged_with_the_worst_outcome(outcomes, worst):
    assert run_outcome(outcomes) == worst


def test_the_run_of_a_rejected_file_ends_with_the_exception_queue_naming_it(site: Pipeline):
    site.drop("acme", "a-broken.x12", BROKEN)
    site.tick()
    (run,) = _runs_by_receipt_file(site).values()
    events = site.instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    keys = [e.dagster_event.asset_key.to_user_string() for e in events]
    assert keys[-1] == "exception_queue", f"the queue is materialized last in the file's own run: {keys}"
    meta = events[-1].dagster_event.event_specific_data.materialization.metadata
    assert meta["dagster/row_count"].value == meta["open"].value == 1
    (row,) = [r.data for r in meta["open_exceptions"].value.records]
    assert (row["file"], row["partner"], row["kind"]) == ("a-broken.x12", "acme", "rejected_document")
    assert "BEG05" in row["reason"] and row["age"] == "0m"
    assert row["replay"] == f"hub exceptions replay {row['id']}"


def test_the_erp_push_links_each_sale_order_it_wrote(site: Pipeline):
    site.drop("acme", "po1.x12", GOOD)
    site.tick()
    (run,) = _runs_by_receipt_file(site).values()
    events = site.instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION)
    (push,) = [e.dagster_event.event_specific_data.materialization.metadata for e in events
               if e.dagster_event.asset_key.to_user_string() == "erp_sales_orders"]
    links = {key: value.url for key, value in push.items() if isinstance(value, dg.UrlMetadataValue)}
    expected = {f"{o['name']} (PO {o['client_order_ref']})": f"{site.erp.base_url}/odoo/sales/{o['id']}"
                for o in site.erp.sale_orders()}
    assert len(expected) == 2 and links == expected, "one link per sale order written, to its form in the ERP"
    assert push["dagster/row_count"].value == 2


@pytest.mark.parametrize(("body", "outcome"), [(b'{"id": 1', "rejected"), (b"{}", None)])
def test_a_webhook_bodys_run_is_tagged_with_its_outcome(body, outcome, tmp_path, monkeypatch, erp):
    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    for key, value in {"HUB_DATABASE_URL": url, "HUB_ERP_URL": erp.base_url, "HUB_ERP_DATABASE": ERP_DATABASE,
                       "HUB_ERP_API_KEY": ERP_API_KEY}.items():
        monkeypatch.setenv(key, value)
    store = st.HubStore(url).migrate()
    receipt = receive_document(store, channel="shopify_webhook", partner_id="trailhead",
                               source_name="orders/create:w-1", data=body, max_bytes=1_000_000)
    with store.transaction() as conn:
        assert st.get_receipt(conn, receipt.id).outcome is None
    instance = dg.DagsterInstance.ephemeral()
    result = build_definitions().resolve_job_def("shopify_webhook_job").execute_in_process(
        instance=instance, raise_on_error=False)
    with store.transaction() as conn:
        recorded = st.get_receipt(conn, receipt.id).outcome
    assert recorded is not None
    tag = instance.get_run_by_id(result.run_id).tags.get("hub/outcome")
    assert tag == recorded, "the run says what became of its body"
    if outcome is not None:
        assert tag == outcome
    store.dispose()
