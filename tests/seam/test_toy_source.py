"""A source registered from a test folder flows through the hub like the built-in ones (docs/adding-a-source.md).

The toy source (``tests/seam/toy_source.py``) is registered by importing it; no hub module names
it. A profile lists it, the Dagster definitions give the account a sync asset, job and schedule,
the generic sync archives and stores its orders, and each new order is queued for every target of
the profile and pushed to the (sandbox) ERP.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from sqlalchemy import select

import hub.intake._channels
from hub import store as st
from hub.cli import main
from hub.defs import build_definitions
from hub.intake import receive_document, sync_orders
from hub.replay import replay_exception
from hub.sources import get_source, source_named, source_of_channel
from mappings.profiles import PartnerDirectory
from sandbox.environment import CATALOG, ERP_API_KEY, ERP_DATABASE
from sandbox.erp_server import SandboxErp
from tests.seam.toy_source import TOY, ToyFolderClient

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
PROFILE_YAML = """\
id: toyshop
name: Toy shop
channels:
  - kind: toy_folder
    folder_env: HUB_TOY_FOLDER
"""


def page(*orders: dict) -> str:
    return json.dumps({"orders": list(orders)})


def order(ref: str, *, minutes_ago: int = 30, sku: str = "GAD-310", quantity: str = "2") -> dict:
    return {"id": ref, "updated_at": (NOW - dt.timedelta(minutes=minutes_ago)).isoformat(),
            "date": NOW.date().isoformat(), "buyer": "Toy buyer",
            "lines": [{"sku": sku, "quantity": quantity, "unit_price": "19.99"}]}


@pytest.fixture
def drop(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "drop"
    folder.mkdir()
    partners = tmp_path / "partners"
    partners.mkdir()
    (partners / "toyshop.yaml").write_text(PROFILE_YAML)
    monkeypatch.setenv("HUB_TOY_FOLDER", str(folder))
    monkeypatch.setenv("HUB_PARTNERS_DIR", str(partners))
    return folder


@pytest.fixture
def erp() -> Iterator[SandboxErp]:
    server = SandboxErp(api_key=ERP_API_KEY, database=ERP_DATABASE).start()
    server.seed_products(CATALOG)
    yield server
    server.stop()


@pytest.fixture
def hub_env(tmp_path, monkeypatch, erp, drop) -> Iterator[st.HubStore]:
    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    for key, value in {"HUB_DATABASE_URL": url, "HUB_ERP_URL": erp.base_url, "HUB_ERP_DATABASE": ERP_DATABASE,
                       "HUB_ERP_API_KEY": ERP_API_KEY}.items():
        monkeypatch.setenv(key, value)
    store = st.HubStore(url).migrate()
    yield store
    store.dispose()


def stored(store: st.HubStore) -> dict[str, tuple[str, str]]:
    orders = st.tables.orders
    with store.transaction() as conn:
        rows = conn.execute(select(orders.c.source_ref, orders.c.source, orders.c.partner_id)).all()
    return {row.source_ref: (row.source, row.partner_id) for row in rows}


def outbox(store: st.HubStore) -> list[tuple[str, str]]:
    orders, deliveries = st.tables.orders, st.tables.outbox
    with store.transaction() as conn:
        rows = conn.execute(select(orders.c.source_ref, deliveries.c.target)
                            .join(deliveries, deliveries.c.order_id == orders.c.id)).all()
    return sorted((row.source_ref, row.target) for row in rows)


def test_the_registry_knows_the_toy_source_everywhere_by_its_kind_name_and_channel():
    assert get_source("toy_folder") is TOY and source_named("toy") is TOY and source_of_channel("toy_folder") is TOY
    assert source_named("x12").kind == "x12_sftp", "the built-in ones are registered the same way"


def test_the_pipeline_syncs_stores_and_delivers_the_toy_sources_orders(hub_env, drop, erp):
    (drop / "page-1.json").write_text(page(order("TOY-1"), order("TOY-2", sku="TENT-2P", quantity="1")))
    defs = build_definitions()
    assert "toy_toyshop_every_5_minutes" in {s.name for s in defs.get_repository_def().schedule_defs}
    job = defs.resolve_job_def("toy_toyshop_sync")
    assert {k.to_user_string() for k in job.asset_layer.executable_asset_keys} == {
        "toy_orders_toyshop", "erp_sales_orders", "exception_queue"}

    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert result.success
    meta = result.asset_materializations_for_node("toy_orders_toyshop")[0].metadata
    assert (meta["pages"].value, meta["orders_new"].value) == (1, 2)
    assert stored(hub_env) == {"TOY-1": ("email", "toyshop"), "TOY-2": ("email", "toyshop")}
    assert outbox(hub_env) == [("TOY-1", "erp"), ("TOY-2", "erp")]
    assert sorted(o["client_order_ref"] for o in erp.sale_orders()) == ["TOY-1", "TOY-2"]

    # The next sync reads since its cursor (minus the lookback): an edit of TOY-1 is read, a page
    # older than the window is not, and the page already stored is not applied twice.
    (drop / "page-2.json").write_text(page(order("TOY-1", minutes_ago=10, quantity="3")))
    (drop / "page-3.json").write_text(page(order("TOY-OLD", minutes_ago=24 * 60)))
    again = defs.resolve_job_def("toy_toyshop_sync").execute_in_process(instance=dg.DagsterInstance.ephemeral())
    meta = again.asset_materializations_for_node("toy_orders_toyshop")[0].metadata
    assert (meta["pages"].value, meta["orders_new"].value, meta["orders_updated"].value) == (2, 0, 1)
    assert set(stored(hub_env)) == {"TOY-1", "TOY-2"}
    assert sorted(o["client_order_ref"] for o in erp.sale_orders()) == ["TOY-1", "TOY-2"]


def test_each_new_order_is_queued_for_every_target_of_its_profile(sqlite_store, drop, monkeypatch):
    profile = PartnerDirectory.load(drop.parent / "partners").get("toyshop")
    asked = []

    def two_targets(of):
        asked.append(of)
        return ("erp", "warehouse")

    monkeypatch.setattr(hub.intake._channels, "delivery_targets", two_targets)
    (drop / "page-1.json").write_text(page(order("TOY-1")))
    result = sync_orders(sqlite_store, TOY, ToyFolderClient(drop), profile, now=NOW)
    assert result.summary.orders_new == 1 and asked == [profile]
    assert outbox(sqlite_store) == [("TOY-1", "erp"), ("TOY-1", "warehouse")]


def test_a_bad_toy_order_is_queued_and_replays_from_the_archive(sqlite_store, drop, monkeypatch):
    partners = PartnerDirectory.load(drop.parent / "partners")
    (drop / "page-1.json").write_text(page(order("TOY-1"), order("TOY-2", quantity="lots")))
    result = sync_orders(sqlite_store, TOY, ToyFolderClient(drop), partners.get("toyshop"), now=NOW)
    (exception_id,) = result.summary.exceptions
    assert set(stored(sqlite_store)) == {"TOY-1"} and result.cursor is not None, "one bad order never holds the rest"

    outcome = replay_exception(sqlite_store, partners, exception_id, now=NOW)
    assert not outcome.done and outcome.message.startswith("still failing")
    monkeypatch.setattr("tests.seam.toy_source.Decimal", lambda text: __import__("decimal").Decimal(
        "3" if text == "lots" else text))  # the mapping fix of the day: "lots" means 3
    outcome = replay_exception(sqlite_store, partners, exception_id, now=NOW)
    assert outcome.done, outcome.message
    assert set(stored(sqlite_store)) == {"TOY-1", "TOY-2"}


def test_an_unreadable_toy_page_holds_the_cursor(sqlite_store, drop):
    profile = PartnerDirectory.load(drop.parent / "partners").get("toyshop")
    (drop / "page-1.json").write_text(page(order("TOY-1")))
    (drop / "page-2.json").write_text("<html>busy</html>")
    result = sync_orders(sqlite_store, TOY, ToyFolderClient(drop), profile, now=NOW)
    assert result.summary.unreadable_pages == 1 and result.cursor is None
    assert set(stored(sqlite_store)) == {"TOY-1"}


def test_hub_map_reads_saved_toy_pages(drop, capsys):
    saved = drop / "page-1.json"
    saved.write_text(page(order("TOY-9")))
    assert main(["map", "--source", "toy", str(saved)]) == 0
    (printed,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert printed["orders"][0]["source_ref"] == "TOY-9" and printed["orders"][0]["partner_id"] == "toyshop"


def test_pages_pushed_to_the_toy_source_are_queued_mapped_and_delivered(hub_env, erp):
    defs = build_definitions()
    assert "toy_push_queue" in {s.name for s in defs.get_repository_def().sensor_defs}
    pushed = receive_document(hub_env, channel="toy_push", partner_id="toyshop", source_name="push 1",
                              data=page(order("TOY-P1")).encode(), max_bytes=10_000)
    result = defs.resolve_job_def("toy_push_job").execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        run_config={"ops": {"toy_push_orders": {"config": {"receipt_ids": [pushed.id]}}}})
    assert result.success
    assert result.asset_materializations_for_node("toy_push_orders")[0].metadata["orders_new"].value == 1
    assert stored(hub_env) == {"TOY-P1": ("email", "toyshop")}
    assert [o["client_order_ref"] for o in erp.sale_orders()] == ["TOY-P1"]


def test_a_source_is_registered_once_under_its_kind_and_name():
    from canonical.errors import ConfigurationError
    from hub.sources import register_source, sources
    from tests.seam.toy_source import ToyFolderSource

    assert register_source(TOY) is TOY and sources().count(TOY) == 1, "registering the same source again is harmless"
    with pytest.raises(ConfigurationError, match="registered already"):
        register_source(ToyFolderSource())

    class Renamed(ToyFolderSource):
        kind, name = "toy_renamed", "toy_renamed"  # its settings model still says toy_folder

    with pytest.raises(ConfigurationError, match="must default to 'toy_renamed'"):
        register_source(Renamed())
    with pytest.raises(TypeError, match="does not have what a source needs"):
        register_source(object())  # type: ignore[type-var]
    assert "toy_renamed" not in {s.kind for s in sources()}
