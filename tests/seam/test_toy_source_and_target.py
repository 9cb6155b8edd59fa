"""Issue 9's done-when: a new source and a new target, both registered from this test folder, and the
pipeline delivers the new source's orders to the ERP and the new target, exactly once each.

Neither ``toy_folder`` (``tests/seam/toy_source.py``) nor ``toy`` (``tests/seam/toy_target.py``) is
named by any module under hub/, mappings/ or connectors/.
"""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg

from hub import store as st
from hub.defs import build_definitions
from sandbox.environment import CATALOG, ERP_API_KEY, ERP_DATABASE
from sandbox.erp_server import SandboxErp
from tests.seam.toy_target import ToyBox

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
PROFILE_YAML = """\
id: toyshop
name: Toy shop
channels:
  - kind: toy_folder
    folder_env: HUB_TOY_FOLDER
targets:
  - {kind: odoo, name: erp}
  - {kind: toy, name: toybox}
"""


def page(*refs: str) -> str:
    return json.dumps({"orders": [
        {"id": ref, "updated_at": (NOW - dt.timedelta(minutes=30)).isoformat(), "date": NOW.date().isoformat(),
         "buyer": "Toy buyer", "lines": [{"sku": "GAD-310", "quantity": "2", "unit_price": "19.99"}]}
        for ref in refs]})


def test_a_new_sources_orders_reach_the_erp_and_a_new_target_exactly_once(tmp_path, monkeypatch):
    import tests.seam.toy_source  # noqa: F401 - registers the toy_folder source

    drop, partners, box_folder = tmp_path / "drop", tmp_path / "partners", tmp_path / "toybox"
    drop.mkdir()
    partners.mkdir()
    (partners / "toyshop.yaml").write_text(PROFILE_YAML)
    (drop / "page-1.json").write_text(page("TOY-1", "TOY-2"))
    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    with SandboxErp(api_key=ERP_API_KEY, database=ERP_DATABASE) as erp:
        erp.seed_products(CATALOG)
        env = {"HUB_DATABASE_URL": url, "HUB_PARTNERS_DIR": str(partners), "HUB_TOY_FOLDER": str(drop),
               "HUB_ERP_URL": erp.base_url, "HUB_ERP_DATABASE": ERP_DATABASE, "HUB_ERP_API_KEY": ERP_API_KEY,
               "HUB_TOYBOX_FOLDER": str(box_folder)}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        defs = build_definitions()
        job = defs.resolve_job_def("toy_toyshop_sync")
        assert {k.to_user_string() for k in job.asset_layer.executable_asset_keys} == {
            "toy_orders_toyshop", "erp_sales_orders", "toybox_orders", "exception_queue"}
        instance = dg.DagsterInstance.ephemeral()
        # The second run is a re-run: nothing new, nothing twice. A sync run checks the orders it delivered
        # (2, then none); the full reconciliation jobs check every order.
        for delivered in (2, 0):
            result = job.execute_in_process(instance=instance)
            assert result.success
            checks = {c.check_name: c for c in result.get_asset_check_evaluations()
                      if c.check_name != "no_exception_waits_over_a_day"}  # the queue's, also in the run
            assert set(checks) == {"erp_sales_orders_exactly_once", "toybox_orders_exactly_once"}
            assert all(c.passed and c.metadata["expected_orders"].value == delivered for c in checks.values())
        for name in ("erp_reconciliation_job", "toybox_reconciliation_job"):
            result = defs.resolve_job_def(name).execute_in_process(instance=instance)
            (check,) = [c for c in result.get_asset_check_evaluations() if c.check_name.endswith("_exactly_once")]
            assert check.passed and check.metadata["expected_orders"].value == 2
            assert check.metadata["scope"].value == "all"
        assert sorted(o["client_order_ref"] for o in erp.sale_orders()) == ["TOY-1", "TOY-2"]

    box = ToyBox(box_folder, "toybox")
    assert sorted(box.writes()) == ["created toyshop:TOY-1", "created toyshop:TOY-2"]
    store = st.HubStore(url)
    with store.transaction() as conn:
        assert st.deliveries_by_state(conn, "erp") == {st.DONE: 2}
        assert st.deliveries_by_state(conn, "toybox") == {st.DONE: 2}
    store.dispose()
