"""``hub ingest``: local X12 files through the SFTP intake path, idempotent, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub import store as st
from hub.cli import _ingest, main

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sandbox" / "samples"


def row_counts(store: st.HubStore) -> dict[str, int]:
    """Rows in every table of the hub store."""
    with store.transaction() as conn:
        return {name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                for name, table in st.tables.metadata.tables.items()}


def stored_refs(conn) -> list[str]:
    """The purchase order numbers in the store."""
    return sorted(conn.execute(select(st.tables.orders.c.source_ref)).scalars())


@pytest.fixture
def files(tmp_path) -> tuple[Path, Path]:
    good, broken = tmp_path / "po-4500012345.x12", tmp_path / "po-broken.x12"
    good.write_bytes((SAMPLES / "acme_po_4500012345.x12").read_bytes())
    broken.write_bytes((SAMPLES / "acme_po_broken.x12").read_bytes())
    return good, broken


def test_ingest_stores_orders_queues_acks_and_is_idempotent(store, store_url, files, monkeypatch, capsys):
    monkeypatch.setenv("HUB_DATABASE_URL", store_url)
    good, broken = files
    before = row_counts(store)
    assert main(["ingest", "--partner", "acme", str(good), str(broken)]) == 1, "the broken file is partly rejected"
    first, second = capsys.readouterr().out.splitlines()
    assert first.startswith(f"{good}: receipt ")
    assert ", accepted: 1 interchange(s), 2 set(s), 2 order(s) created" in first
    assert "1 ack(s) queued" in first
    assert second.startswith(f"{broken}: receipt ") and "partially accepted" in second
    assert "1 order(s) created" in second and "exceptions " in second
    with store.transaction() as conn:
        refs = stored_refs(conn)
        (exception,) = st.list_exceptions(conn)
        receipts = conn.execute(select(st.tables.receipts)).all()
    assert refs == ["4500012345", "4500012346", "4500012400"]
    assert exception.kind == st.ExceptionKind.REJECTED_DOCUMENT
    assert {(r.channel, r.partner_id, r.source_name, r.state) for r in receipts} == {
        ("sftp", "acme", good.name, "processed"), ("sftp", "acme", broken.name, "processed")}
    after_first = row_counts(store)
    assert after_first != before

    # Again, the same files: found processed, nothing created twice (every table as it was).
    assert main(["ingest", "--partner", "acme", str(good), str(broken)]) == 1
    assert all(line.endswith("already ingested, nothing done") for line in capsys.readouterr().out.splitlines())
    assert row_counts(store) == after_first

    # The same content under another name: a duplicate interchange, no order twice.
    copy = good.with_name("resent.x12")
    copy.write_bytes(good.read_bytes())
    assert main(["ingest", "--partner", "acme", str(copy)]) == 0
    assert "duplicate" in capsys.readouterr().out
    with store.transaction() as conn:
        assert stored_refs(conn) == refs


def test_ingest_refuses_unknown_partners_and_reports_unreadable_or_big_files(sqlite_store, tmp_path, monkeypatch,
                                                                               capsys, files):
    monkeypatch.setenv("HUB_DATABASE_URL", sqlite_store.engine.url.render_as_string(hide_password=False))
    assert main(["ingest", "--partner", "nobody", str(files[0])]) == 2
    assert "'nobody' is not a partner with an X12 profile" in capsys.readouterr().err
    assert main(["ingest", "--partner", "acme", str(tmp_path / "missing.x12")]) == 1
    assert "cannot read" in capsys.readouterr().out
    monkeypatch.setenv("HUB_MAX_DOCUMENT_BYTES", "100")
    assert main(["ingest", "--partner", "acme", str(files[0])]) == 1
    assert "rejected" in capsys.readouterr().out and row_counts(sqlite_store)["receipts"] == 0


def test_big_files_are_archived_in_chunks(sqlite_store, files, monkeypatch, capsys):
    monkeypatch.setenv("HUB_DATABASE_URL", sqlite_store.engine.url.render_as_string(hide_password=False))
    monkeypatch.setattr(_ingest, "IN_MEMORY_LIMIT", 100)  # take the sensor's large-file path
    assert main(["ingest", "--partner", "acme", str(files[0])]) == 0
    assert "2 order(s) created" in capsys.readouterr().out


def test_intake_reports_every_byte_it_reads(sqlite_store, files, monkeypatch):
    from hub.intake import SFTP_CHANNEL, process_x12_receipt, receive_document
    from hub.intake import _x12 as intake_x12
    from mappings.profiles import PartnerDirectory

    monkeypatch.setattr(intake_x12, "PROGRESS_PIECE", 100)  # a small file in many steps
    data = files[0].read_bytes()
    receipt = receive_document(sqlite_store, channel=SFTP_CHANNEL, partner_id="acme", source_name="po.x12",
                               data=data, max_bytes=1 << 20)
    steps: list[int] = []
    summary = process_x12_receipt(sqlite_store, PartnerDirectory.load(REPO / "mappings" / "partners"), receipt.id,
                                  on_bytes=steps.append)
    assert summary.orders_created == 2
    assert sum(steps) == len(data) and len(steps) == -(-len(data) // 100) and max(steps) == 100


@pytest.mark.parametrize("flag", ["--progress", "--no-progress"])
def test_ingest_progress_goes_to_stderr_only(flag, files, tmp_path):
    import os
    import subprocess
    import sys

    # FORCE_COLOR makes rich draw as on a terminal, so the bar shows in the captured stderr.
    env = {**os.environ, "HUB_DATA_DIR": str(tmp_path / "data"), "FORCE_COLOR": "1"}
    env.pop("HUB_DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-m", "hub.cli", "ingest", "--partner", "acme", flag, str(files[0])],
                            cwd=REPO, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"{files[0]}: receipt ") and "2 order(s) created" in line
    assert ("ingesting po-4500012345.x12" in result.stderr) == (flag == "--progress"), result.stderr
