"""End to end through Dagster: partner files over SFTP -> store -> ERP, acks back, checks, replays.

Each test runs twice: sandbox SFTP server + SQLite store, and real OpenSSH + real PostgreSQL.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest
import yaml
from sqlalchemy import func, select

from connectors.erp import OdooConfig, OdooJson2Client
from hub import store as st
from hub.defs import build_definitions
from mappings.odoo import OdooSalesGateway
from mappings.profiles import PartnerDirectory
from sandbox.demo import tick_sensors
from sandbox.environment import CATALOG, ERP_API_KEY, ERP_DATABASE
from sandbox.erp_server import SandboxErp
from sandbox.sftp_server import SandboxSftpServer
from tests.fixtures.store import postgres_store_url

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sandbox" / "samples"
GOOD = (SAMPLES / "acme_po_4500012345.x12").read_bytes()
BROKEN = (SAMPLES / "acme_po_broken.x12").read_bytes()


@dataclass
class Pipeline:
    """The hub wired to an SFTP server, a sandbox ERP and a store, driven like the Dagster daemon would."""

    partners: PartnerDirectory
    store: st.HubStore
    erp: SandboxErp
    defs: dg.Definitions
    instance: dg.DagsterInstance
    local_root: Path
    put_file: Callable[[str, bytes], object]
    cursors: dict = field(default_factory=dict)  # each sensor's cursor, kept between ticks as the daemon does

    def drop(self, partner_id: str, name: str, data: bytes) -> None:
        self.put_file(f"{self.partners.get(partner_id).sftp.inbox}/{name}", data)

    def tick(self) -> list[tuple[str, str, str]]:
        # Two daemon ticks: an inbox file is taken once its size and mtime held across two polls.
        first = tick_sensors(self.defs, self.instance, self.cursors)
        return first + tick_sensors(self.defs, self.instance, self.cursors)

    def folder(self, partner_id: str, which: str) -> dict[str, bytes]:
        path = self.local_root / getattr(self.partners.get(partner_id).sftp, which)
        return {p.name: p.read_bytes() for p in sorted(path.iterdir())} if path.exists() else {}

    @contextmanager
    def gateway(self) -> Iterator[OdooSalesGateway]:
        config = OdooConfig(database=ERP_DATABASE, api_key=ERP_API_KEY, http={"base_url": self.erp.base_url})
        with OdooJson2Client(config) as client:
            yield OdooSalesGateway(client)

    def count(self, table, *where) -> int:
        with self.store.transaction() as conn:
            return conn.execute(select(func.count()).select_from(table).where(*where)).scalar_one()

    def run_job(self, name: str, run_config: dict | None = None) -> dg.ExecuteInProcessResult:
        return self.defs.resolve_job_def(name).execute_in_process(
            run_config=run_config or {}, instance=self.instance, raise_on_error=False
        )


def _partners_under(prefix: str, target: Path) -> Path:
    """Copies of the real partner profiles whose SFTP folders live under ``prefix`` (one test, own folders)."""
    target.mkdir()
    for source in (REPO / "mappings" / "partners").glob("*.yaml"):
        data = yaml.safe_load(source.read_text())
        for channel in data["channels"]:
            if channel.get("sftp"):
                channel["sftp"] = {key: f"{prefix}/{value}" for key, value in channel["sftp"].items()}
        (target / source.name).write_text(yaml.safe_dump(data))
    return target


@pytest.fixture(params=[("sandbox", "sqlite"), pytest.param(("openssh", "postgresql"), marks=pytest.mark.integration)],
                ids=["sandbox-sftp+sqlite", "openssh+postgresql"])
def pipeline(request, tmp_path, monkeypatch) -> Iterator[Pipeline]:
    sftp_kind, store_kind = request.param
    prefix = f"t{uuid.uuid4().hex[:10]}"
    partners_dir = _partners_under(prefix, tmp_path / "partners")
    partners = PartnerDirectory.load(partners_dir)
    if store_kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    else:
        url = postgres_store_url(request)
    env = {"HUB_DATABASE_URL": url, "HUB_ERP_DATABASE": ERP_DATABASE, "HUB_ERP_API_KEY": ERP_API_KEY}
    sandbox_sftp = None
    if sftp_kind == "sandbox":
        sandbox_sftp = SandboxSftpServer(tmp_path / "sftp", username="hub", password="pw").__enter__()
        sandbox_sftp.write_known_hosts(tmp_path / "known_hosts")
        local_root = tmp_path / "sftp"

        def put_file(relative: str, data: bytes) -> None:
            (local_root / relative).parent.mkdir(parents=True, exist_ok=True)
            (local_root / relative).write_bytes(data)

        make_folder = lambda relative: (local_root / relative).mkdir(parents=True, exist_ok=True)  # noqa: E731
        env.update(HUB_SFTP_HOST=sandbox_sftp.host, HUB_SFTP_PORT=str(sandbox_sftp.port), HUB_SFTP_USERNAME="hub",
                   HUB_SFTP_PASSWORD="pw", HUB_SFTP_PRIVATE_KEY_PATH="",
                   HUB_SFTP_KNOWN_HOSTS_PATH=str(tmp_path / "known_hosts"))
    else:
        server = request.getfixturevalue("openssh_server")
        local_root, put_file, make_folder = server.root, server.put_file, server.make_folder
        env.update(HUB_SFTP_HOST=server.host, HUB_SFTP_PORT=str(server.port), HUB_SFTP_USERNAME=server.username,
                   HUB_SFTP_PASSWORD="", HUB_SFTP_PRIVATE_KEY_PATH=str(server.private_key_path),
                   HUB_SFTP_KNOWN_HOSTS_PATH=str(server.known_hosts_path))
    for profile in (p for p in partners if p.sftp):
        for folder in (profile.sftp.inbox, profile.sftp.archive, profile.sftp.outbound):
            make_folder(folder)
    erp = SandboxErp(api_key=ERP_API_KEY, database=ERP_DATABASE)
    erp.start()
    erp.seed_products(CATALOG)
    env["HUB_ERP_URL"] = erp.base_url
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    store = st.HubStore(url).migrate()
    instance = dg.DagsterInstance.ephemeral()
    try:
        yield Pipeline(partners, store, erp, build_definitions(partners_dir), instance, local_root, put_file)
    finally:
        erp.stop()
        store.dispose()
        instance.dispose()
        if sandbox_sftp is not None:
            sandbox_sftp.stop()
        else:
            shutil.rmtree(local_root / prefix, ignore_errors=True)


def test_partner_files_flow_to_the_erp_and_acks_flow_back(pipeline: Pipeline):
    pipeline.drop("acme", "po1.x12", GOOD)
    pipeline.drop("northwind", "nw.x12", (SAMPLES / "northwind_po_NW-77001.x12").read_bytes())
    runs = pipeline.tick()
    assert [status for *_, status in runs] == ["success", "success"]

    assert pipeline.count(st.tables.orders) == 3
    with pipeline.gateway() as gateway:
        assert gateway.sale_order_refs(["4500012345", "4500012346", "NW-77001"]) == {
            "4500012345": 1, "4500012346": 1, "NW-77001": 1}
    acks = pipeline.folder("acme", "outbound")
    assert list(acks) == ["997_ACMERETAIL_000000001.x12"]
    ack = acks["997_ACMERETAIL_000000001.x12"].decode()
    assert "AK1*PO*4512" in ack and "AK9*A*2*2*2" in ack
    assert ack.startswith("ISA*00*          *00*          *ZZ*ORDERHUB       *ZZ*ACMERETAIL     *")
    assert pipeline.folder("acme", "inbox") == {}
    assert pipeline.folder("acme", "archive") == {"po1.x12": GOOD}, "archived byte for byte after processing"
    with pipeline.store.transaction() as conn:
        raw = conn.execute(select(st.tables.raw_documents.c.content)).scalars().all()
        kinds = conn.execute(select(st.tables.order_events.c.kind)).scalars().all()
    assert GOOD in [bytes(r) for r in raw]
    assert kinds.count("pushed") == 3 and kinds.count("received") == 3


def test_rerunning_sensor_job_and_files_creates_nothing_twice(pipeline: Pipeline):
    pipeline.drop("acme", "po1.x12", GOOD)
    assert len(pipeline.tick()) == 1
    assert pipeline.tick() == [], "a second tick finds nothing new"

    # The same file dropped again under the same name is recognised and archived without a run.
    pipeline.drop("acme", "po1.x12", GOOD)
    assert pipeline.tick() == []
    assert pipeline.folder("acme", "inbox") == {}

    # Re-executing the whole job for the same receipt (an operator's re-run) changes nothing.
    with pipeline.store.transaction() as conn:
        receipt_id = conn.execute(select(st.tables.receipts.c.id)).scalar_one()
    config = {"ops": {"edi_inbound_orders": {"config": {"receipt_ids": [receipt_id]}}}}
    assert pipeline.run_job("edi_inbound_job", config).success
    assert pipeline.run_job("erp_push_job").success

    assert pipeline.count(st.tables.orders) == 2
    assert pipeline.count(st.tables.outbound_documents) == 1
    assert list(pipeline.folder("acme", "outbound")) == ["997_ACMERETAIL_000000001.x12"]
    with pipeline.gateway() as gateway:
        assert gateway.sale_order_refs(["4500012345", "4500012346"]) == {"4500012345": 1, "4500012346": 1}


def test_a_resent_interchange_is_refused_with_ta1_025_and_recorded(pipeline: Pipeline):
    pipeline.drop("acme", "po1.x12", GOOD)
    pipeline.tick()
    # Same sender and ISA13, different bytes (a partner regenerating the file): still a duplicate.
    pipeline.drop("acme", "po1-again.x12", GOOD.replace(b"*261120*0930*", b"*261121*1015*"))
    assert [status for *_, status in pipeline.tick()] == ["success"]

    assert pipeline.count(st.tables.orders) == 2
    outbound = pipeline.folder("acme", "outbound")
    ta1 = [text.decode() for name, text in outbound.items() if name.startswith("TA1")]
    assert len(ta1) == 1 and "TA1*000004512*261121*1015*R*025" in ta1[0]
    with pipeline.store.transaction() as conn:
        outcomes = conn.execute(select(st.tables.receipts.c.source_name, st.tables.receipts.c.outcome)
                                .order_by(st.tables.receipts.c.id)).all()
        ledger = conn.execute(select(st.tables.interchanges.c.control_number, st.tables.interchanges.c.outcome)
                              .order_by(st.tables.interchanges.c.id)).all()
    assert [tuple(r) for r in outcomes] == [("po1.x12", "accepted"), ("po1-again.x12", "duplicate")]
    assert [tuple(r) for r in ledger] == [("000004512", "accepted"), ("000004512", "duplicate")]
    with pipeline.gateway() as gateway:
        assert gateway.sale_order_refs(["4500012345"]) == {"4500012345": 1}


def test_a_broken_file_is_queued_with_a_reason_and_a_rejecting_997_and_polling_goes_on(pipeline: Pipeline):
    pipeline.drop("acme", "a-broken.x12", BROKEN)
    pipeline.drop("acme", "b-good.x12", GOOD)
    pipeline.drop("acme", "c-not-edi.csv", b"po,sku,qty\n1,WID-100,3\n")
    # One run for the partner's tick carries all three files.
    assert [status for *_, status in pipeline.tick()] == ["success"]

    with pipeline.store.transaction() as conn:
        queue = {e.kind: e for e in st.list_exceptions(conn)}
    assert set(queue) == {"rejected_document", "not_x12"}
    rejected = queue["rejected_document"]
    assert "BEG05" in rejected.reason and "invalid date" in rejected.reason
    assert rejected.location.endswith("segment 2 (BEG) / element 5")
    ack = next(t.decode() for n, t in pipeline.folder("acme", "outbound").items() if "000000001" in n)
    assert "AK2*850*0001" in ack and "AK5*R" in ack and "AK9*P*2*2*1" in ack
    # The good set of the broken file and the good file went through.
    with pipeline.gateway() as gateway:
        assert gateway.sale_order_refs(["4500012399", "4500012400", "4500012345"]) == {
            "4500012399": 0, "4500012400": 1, "4500012345": 1}
    assert len(pipeline.folder("acme", "outbound")) == 2, "997s for the X12 files, none for the CSV"


def test_the_exactly_once_check_names_an_order_deleted_from_the_erp(pipeline: Pipeline):
    pipeline.drop("acme", "po1.x12", GOOD)
    pipeline.tick()
    pipeline.erp.delete_sale_order("4500012346")

    result = pipeline.run_job("erp_push_job")
    # The run ends with the exception queue, whose own check is not this test's concern.
    evaluations = [e for e in result.get_asset_check_evaluations() if e.check_name != "no_exception_waits_over_a_day"]
    assert len(evaluations) == 1
    check = evaluations[0]
    assert check.check_name == "erp_sales_orders_exactly_once" and not check.passed
    assert check.metadata["missing_po_numbers"].value == ["4500012346"]
    assert check.metadata["doubled_count"].value == 0


def test_an_order_the_erp_refuses_is_dead_lettered_and_replayed_after_the_fix(pipeline: Pipeline):
    pipeline.drop("acme", "po1.x12", GOOD.replace(b"VN*GAD-310", b"VN*GAD-999"))
    pipeline.tick()
    with pipeline.store.transaction() as conn:
        (queued,) = st.list_exceptions(conn)
    assert queued.kind == "erp_rejected" and "GAD-999" in queued.reason

    pipeline.erp.seed_products([("GAD-999", "Gadget 999", 9.99, None)])
    config = {"ops": {"edi_inbound_orders": {"config": {"replay_exception_ids": [queued.id]}}}}
    assert pipeline.run_job("edi_inbound_job", config).success
    with pipeline.store.transaction() as conn:
        assert st.list_exceptions(conn) == []
        assert st.get_exception(conn, queued.id).state == st.REPLAYED
    with pipeline.gateway() as gateway:
        assert gateway.sale_order_refs(["4500012345"]) == {"4500012345": 1}


def test_a_large_file_streams_through_the_chunked_archive(pipeline: Pipeline, monkeypatch):
    import hub.intake._sftp as sftp_intake
    import hub.store._archive as archive

    monkeypatch.setattr(sftp_intake, "IN_MEMORY_LIMIT", 100)
    monkeypatch.setattr(archive, "CHUNK_SIZE", 256)
    pipeline.drop("acme", "big.x12", GOOD)
    assert [status for *_, status in pipeline.tick()] == ["success"]
    assert pipeline.count(st.tables.raw_document_chunks) == -(-len(GOOD) // 256)
    assert pipeline.count(st.tables.orders) == 2
    assert pipeline.folder("acme", "archive") == {"big.x12": GOOD}
