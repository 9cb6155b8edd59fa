"""A new target registered from the test folder: orders reach the ERP and the toy box, exactly once each.

Nothing under hub/, mappings/ or connectors/ names the toy kind: ``tests.seam.toy_target`` registers
it, a partner profile lists it, and the Dagster definitions grow its push asset, check and job.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import yaml

from canonical.errors import ConfigurationError
from hub import store as st
from hub.defs import build_definitions
from hub.intake import process_x12_receipt, receive_document
from hub.targets import configured_targets, delivery_targets, target_kind
from mappings.profiles import PartnerDirectory
from sandbox.environment import CATALOG, ERP_API_KEY, ERP_DATABASE
from sandbox.erp_server import SandboxErp
from tests.seam.toy_target import ToyBox

REPO = Path(__file__).resolve().parents[2]
GOOD = (REPO / "sandbox" / "samples" / "acme_po_4500012345.x12").read_bytes()  # POs 4500012345 and 4500012346
POS = ["4500012345", "4500012346"]
TARGETS = [{"kind": "odoo", "name": "erp"}, {"kind": "toy", "name": "toybox"}]
PLACEHOLDERS = {  # resources no job of this test opens
    "HUB_SFTP_HOST": "127.0.0.1", "HUB_SFTP_PORT": "2222", "HUB_SFTP_USERNAME": "hub", "HUB_SFTP_PASSWORD": "x",
    "HUB_SFTP_PRIVATE_KEY_PATH": "", "HUB_SFTP_KNOWN_HOSTS_PATH": "/nonexistent",
}


def partners_delivering_to(folder: Path, targets: list[dict]) -> Path:
    """Copies of the real profiles; acme's lists ``targets``."""
    folder.mkdir()
    for source in (REPO / "mappings" / "partners").glob("*.yaml"):
        data = yaml.safe_load(source.read_text())
        if data["id"] == "acme":
            data["targets"] = targets
        (folder / source.name).write_text(yaml.safe_dump(data))
    return folder


@pytest.fixture
def erp():
    with SandboxErp(api_key=ERP_API_KEY, database=ERP_DATABASE) as server:
        server.seed_products(CATALOG)
        yield server


# On the targets branch alone the X12 intake still queues the ERP only; the sources branch makes it queue
# every hub.targets.delivery_targets(profile). Strict: once both are merged this passes, and the marker goes.
def test_orders_reach_the_erp_and_the_toy_box_exactly_once_even_when_run_again(erp, tmp_path, monkeypatch):
    partners_dir = partners_delivering_to(tmp_path / "partners", TARGETS)
    partners = PartnerDirectory.load(partners_dir)
    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    env = {**PLACEHOLDERS, "HUB_DATABASE_URL": url, "HUB_ERP_URL": erp.base_url, "HUB_ERP_DATABASE": ERP_DATABASE,
           "HUB_ERP_API_KEY": ERP_API_KEY, "HUB_TOYBOX_FOLDER": str(tmp_path / "toybox")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    store = st.HubStore(url).migrate()
    box = ToyBox(tmp_path / "toybox", "toybox")

    # Stored through the X12 intake: one delivery per order and target.
    receipt = receive_document(store, channel="sftp", partner_id="acme", source_name="po.x12", data=GOOD,
                               max_bytes=1_000_000)
    assert process_x12_receipt(store, partners, receipt.id).orders_created == 2
    with store.transaction() as conn:
        assert st.deliveries_by_state(conn, "erp") == {st.PENDING: 2}
        assert st.deliveries_by_state(conn, "toybox") == {st.PENDING: 2}

    defs = build_definitions(partners_dir)
    instance = dg.DagsterInstance.ephemeral()
    for _ in range(2):  # the second round is an operator re-running both jobs
        for job in ("erp_push_job", "toybox_push_job"):
            result = defs.resolve_job_def(job).execute_in_process(instance=instance)
            assert result.success
            (check,) = [c for c in result.get_asset_check_evaluations() if c.check_name.endswith("_exactly_once")]
            assert check.passed, check.metadata
            assert check.metadata["expected_orders"].value == 2
        assert process_x12_receipt(store, partners, receipt.id).already_processed

    assert {ref: len(erp.sale_orders_by_ref(ref)) for ref in POS} == {ref: 1 for ref in POS}
    assert sorted(box.writes()) == [f"created acme:{po}" for po in POS], "created once each, never rewritten"
    assert {po: len(box.records("acme", po)) for po in POS} == {po: 1 for po in POS}
    with store.transaction() as conn:
        assert st.deliveries_by_state(conn, "erp") == {st.DONE: 2}
        assert st.deliveries_by_state(conn, "toybox") == {st.DONE: 2}
        kinds = [e["kind"] for order_id in (1, 2) for e in st.order_events_of(conn, order_id)]
    assert kinds.count("pushed") == 4, "one pushed event per order and target"


def test_the_toy_target_grows_its_own_asset_check_job_and_pool(monkeypatch, tmp_path):
    partners = PartnerDirectory.load(partners_delivering_to(tmp_path / "partners", TARGETS))
    assert delivery_targets(partners.get("acme")) == ("erp", "toybox")
    assert delivery_targets(partners.get("northwind")) == ("erp",), "the default: the Odoo ERP"
    assert set(configured_targets(partners)) == {"erp", "toybox"}

    defs = build_definitions(tmp_path / "partners")
    graph = defs.resolve_asset_graph()
    toy = graph.get(dg.AssetKey("toybox_orders"))
    assert toy.pools == {"toybox"} and graph.get(dg.AssetKey("erp_sales_orders")).pools == {"erp"}
    assert {key.name for key in graph.asset_check_keys} >= {"erp_sales_orders_exactly_once",
                                                             "toybox_orders_exactly_once"}
    intake = defs.resolve_job_def("edi_inbound_job").asset_layer.executable_asset_keys
    assert {dg.AssetKey("erp_sales_orders"), dg.AssetKey("toybox_orders")} <= set(intake)
    assert "toybox_push_every_10_minutes" in {s.name for s in defs.get_repository_def().schedule_defs}


def test_a_target_of_an_unknown_kind_or_one_name_for_two_kinds_is_a_configuration_error(tmp_path):
    with pytest.raises(ConfigurationError, match=r"unknown target kind 'nosuch' \(registered: .*odoo.*toy"):
        target_kind("nosuch")
    partners = PartnerDirectory.load(partners_delivering_to(tmp_path / "p", [{"kind": "toy", "name": "erp"}]))
    with pytest.raises(ConfigurationError, match="target 'erp' is of kind"):
        configured_targets(partners)


def test_a_profile_names_each_target_once_and_delivers_to_the_erp_by_default():
    from pydantic import ValidationError

    from mappings.profiles import PartnerProfile

    assert [(t.kind, t.name) for t in PartnerProfile(id="p", name="P").targets] == [("odoo", "erp")]
    with pytest.raises(ValidationError, match="target names must be unique"):
        PartnerProfile(id="p", name="P", targets=[{"kind": "odoo", "name": "erp"}, {"kind": "toy", "name": "erp"}])
    with pytest.raises(ValidationError, match="name"):
        PartnerProfile(id="p", name="P", targets=[{"kind": "toy", "name": "Toy Box"}])
