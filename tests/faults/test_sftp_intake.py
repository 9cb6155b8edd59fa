"""SFTP intake faults through the real sensor and a real OpenSSH server: partial uploads, symlinks,
unsafe names (issue 8 points 6, 7, 8), on SQLite and PostgreSQL.

Each tick evaluates the partner's ``sftp_inbox_<partner>`` sensor once, as the daemon would, and
keeps its cursor for the next tick.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest
import yaml
from sqlalchemy import select

from hub import store as st
from hub.defs.edi.sensors import sftp_inbox_sensor
from hub.defs.resources import HubStoreResource, SftpResource
from hub.intake import process_x12_receipt
from mappings.profiles import PartnerDirectory
from mappings.x12.samples import build_850
from tests.faults.invariants import assert_store_invariants
from tests.fixtures.openssh import OpenSshServer
from tests.present import present

pytestmark = pytest.mark.integration  # real OpenSSH (and PostgreSQL for the second store)

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Inboxes:
    """Two partners (``acme`` and ``northwind`` profiles) with their own folders on a real OpenSSH server."""

    server: OpenSshServer
    prefix: str
    partners_dir: Path
    store: st.HubStore
    instance: dg.DagsterInstance
    cursors: dict[str, str | None] = field(default_factory=dict)

    @property
    def partners(self) -> PartnerDirectory:
        return PartnerDirectory.load(self.partners_dir)

    def inbox(self, partner_id: str) -> Path:
        return self.server.root / self.partners.get(partner_id).sftp.inbox

    def put(self, partner_id: str, name: str, data: bytes, *, mtime: int | None = None) -> Path:
        return self.server.put_file(f"{self.partners.get(partner_id).sftp.inbox}/{name}", data, mtime=mtime)

    def set_pickup(self, partner_id: str, **pickup) -> None:
        path = self.partners_dir / f"{partner_id}.yaml"
        data = yaml.safe_load(path.read_text())
        data["channels"][0]["sftp"]["pickup"] = pickup
        path.write_text(yaml.safe_dump(data))

    def tick(self, partner_id: str) -> list[dg.RunRequest]:
        sensor = sftp_inbox_sensor(self.partners.get(partner_id), "edi_inbound_job")
        server = self.server
        resources = {
            "hub_store": HubStoreResource(database_url=self.store.url, partners_dir=str(self.partners_dir)),
            "sftp": SftpResource(host=server.host, port=server.port, username=server.username,
                                 private_key_path=str(server.private_key_path),
                                 known_hosts_path=str(server.known_hosts_path), timeout_seconds=10.0),
        }
        context = dg.build_sensor_context(instance=self.instance, cursor=self.cursors.get(partner_id),
                                          resources=resources)
        result = sensor.evaluate_tick(context)
        self.cursors[partner_id] = result.cursor
        return list(result.run_requests or [])

    def receipts(self) -> list[tuple[str, str]]:
        receipts = st.tables.receipts
        with self.store.transaction() as conn:
            rows = conn.execute(select(receipts.c.partner_id, receipts.c.source_name).order_by(receipts.c.id)).all()
        return [tuple(row) for row in rows]

    def exceptions(self, state: st.ExceptionState | None = st.OPEN) -> list[st.QueuedException]:
        with self.store.transaction() as conn:
            return st.list_exceptions(conn, state=state)


@pytest.fixture
def inboxes(openssh_server, store, tmp_path) -> Iterator[Inboxes]:
    prefix = f"f{uuid.uuid4().hex[:10]}"
    partners_dir = tmp_path / "partners"
    partners_dir.mkdir()
    for partner_id in ("acme", "northwind"):
        data = yaml.safe_load((REPO / "mappings" / "partners" / f"{partner_id}.yaml").read_text())
        (channel,) = data["channels"]
        channel["sftp"] = {key: f"{prefix}/{value}" for key, value in channel["sftp"].items()}
        for folder in channel["sftp"].values():
            openssh_server.make_folder(folder)
        # Two polls, always: these tests pin mtimes in the past, which the age rule (on by default) would take
        # at first sight. The age rule has its own tests (test_with_the_age_rule_...).
        channel["sftp"]["pickup"] = {"min_file_age_seconds": 0}
        (partners_dir / f"{partner_id}.yaml").write_text(yaml.safe_dump(data))
    with dg.instance_for_test() as instance:
        try:
            yield Inboxes(openssh_server, prefix, partners_dir, store, instance)
        finally:
            shutil.rmtree(openssh_server.root / prefix, ignore_errors=True)


# -- point 6: partial uploads ------------------------------------------------------------------------


def test_a_file_still_being_uploaded_is_taken_only_once_finished_and_whole(inboxes: Inboxes):
    acme = inboxes.partners.get("acme")
    whole = build_850(acme, po_number="PART", purchase_orders=6)
    cut = whole.index(b"ST*850*0004")  # three purchase orders arrived, three still on the way
    inboxes.put("acme", "po.x12", whole[:cut], mtime=1_700_000_000)

    assert inboxes.tick("acme") == []
    assert inboxes.receipts() == [], "nothing read while the upload may still be running"

    inboxes.put("acme", "po.x12", whole, mtime=1_700_000_003)  # the upload finished
    assert inboxes.tick("acme") == [], "first sight of the new size: not stable yet"
    (request,) = inboxes.tick("acme")
    assert inboxes.tick("acme") == [], "taken once"
    assert inboxes.receipts() == [("acme", "po.x12")]

    process_x12_receipt(inboxes.store, inboxes.partners, int(request.tags["receipt"]))
    assert_store_invariants(inboxes.store, acks_sent=False,
                            expected_pos=[("x12", "acme", f"PART-{n}") for n in range(1, 7)])


def test_with_the_age_rule_a_file_being_written_waits_and_a_file_written_long_ago_is_taken_at_first_sight(
    inboxes: Inboxes,
):
    inboxes.set_pickup("acme", min_file_age_seconds=60)
    acme = inboxes.partners.get("acme")
    whole = build_850(acme, po_number="AGE", purchase_orders=6)
    cut = whole.index(b"ST*850*0004")
    inboxes.put("acme", "po.x12", whole[:cut])  # being written: its mtime is now, as every write moves it

    assert inboxes.tick("acme") == []
    assert inboxes.receipts() == [], "a file written to a moment ago is not taken at first sight"

    inboxes.put("acme", "po.x12", whole, mtime=int(time.time()) - 120)  # finished two minutes ago
    (request,) = inboxes.tick("acme")
    assert inboxes.tick("acme") == [], "taken once"
    assert inboxes.receipts() == [("acme", "po.x12")]
    process_x12_receipt(inboxes.store, inboxes.partners, int(request.tags["receipt"]))
    assert_store_invariants(inboxes.store, acks_sent=False,
                            expected_pos=[("x12", "acme", f"AGE-{n}") for n in range(1, 7)])

    inboxes.put("acme", "new.x12", build_850(acme, po_number="NEW", control_number=7))  # complete, but just now
    assert inboxes.tick("acme") == [], "young: two polls, as without the rule"
    assert len(inboxes.tick("acme")) == 1


def test_a_processed_file_that_grows_again_is_never_moved_to_the_archive(inboxes: Inboxes):
    acme = inboxes.partners.get("acme")
    data = build_850(acme, po_number="GROW")
    inboxes.put("acme", "po.x12", data, mtime=1_700_000_000)
    inboxes.tick("acme")
    (request,) = inboxes.tick("acme")
    process_x12_receipt(inboxes.store, inboxes.partners, int(request.tags["receipt"]))

    # The partner starts re-uploading the same name: first the old bytes, then more, then done.
    inboxes.cursors["acme"] = None  # a fresh sensor (e.g. reset) must not archive it half-way either
    path = inboxes.put("acme", "po.x12", data, mtime=1_700_000_100)
    assert inboxes.tick("acme") == []
    with path.open("ab") as upload:
        upload.write(b"more bytes on the way")
    os.utime(path, (1_700_000_101, 1_700_000_101))
    assert inboxes.tick("acme") == []
    assert path.exists(), "a file still growing stays in the inbox"
    assert not (inboxes.server.root / acme.sftp.archive / "po.x12").exists()


def test_a_processed_file_left_in_the_inbox_is_archived_by_a_later_tick_only_while_unchanged(inboxes: Inboxes):
    acme = inboxes.partners.get("acme")
    archive = inboxes.server.root / acme.sftp.archive
    for name, po in (("same.x12", "KEEP"), ("grows.x12", "GROWS")):
        inboxes.put("acme", name, build_850(acme, po_number=po, control_number=len(po)), mtime=1_700_000_000)
    inboxes.tick("acme")
    requests = inboxes.tick("acme")
    assert len(requests) == 1, "one run per partner per tick"
    config = requests[0].run_config["ops"]["edi_inbound_orders"]["config"]
    for receipt_id in config["receipt_ids"]:  # the run processes both, then dies before moving the files
        process_x12_receipt(inboxes.store, inboxes.partners, receipt_id)
    grows = inboxes.inbox("acme") / "grows.x12"
    with grows.open("ab") as upload:  # a new upload under the same name has begun
        upload.write(b"ISA*00*")
    os.utime(grows, (1_700_000_050, 1_700_000_050))

    assert inboxes.tick("acme") == []
    assert sorted(p.name for p in archive.iterdir()) == ["same.x12"]
    assert grows.exists(), "a file that changed since it was read is never archived"
    assert_store_invariants(inboxes.store, acks_sent=False, expected_pos=[("x12", "acme", "KEEP"),
                                                                           ("x12", "acme", "GROWS")])


# -- point 7: symlinks -------------------------------------------------------------------------------


def test_an_inbox_symlinked_to_another_partners_inbox_is_refused_and_reported(inboxes: Inboxes):
    acme_inbox, northwind_inbox = inboxes.inbox("acme"), inboxes.inbox("northwind")
    inboxes.put("acme", "acme-po.x12", build_850(inboxes.partners.get("acme"), po_number="ACME-1"))
    northwind_inbox.rmdir()
    os.symlink(os.path.relpath(acme_inbox, northwind_inbox.parent), northwind_inbox)

    assert inboxes.tick("northwind") == [] and inboxes.tick("northwind") == []
    assert inboxes.receipts() == [], "nothing read through the link"
    (queued,) = inboxes.exceptions()
    assert (queued.kind, queued.partner_id) == ("quarantined_folder", "northwind")
    assert "symbolic link" in queued.reason

    inboxes.tick("acme")
    assert len(inboxes.tick("acme")) == 1, "the owner still gets its file"
    assert inboxes.receipts() == [("acme", "acme-po.x12")]


def test_a_symlinked_file_is_refused_reported_once_and_never_read(inboxes: Inboxes):
    target = inboxes.put("acme", "acme-po.x12", build_850(inboxes.partners.get("acme"), po_number="ACME-2"))
    link = inboxes.inbox("northwind") / "link.x12"
    os.symlink(os.path.relpath(target, link.parent), link)

    for _ in range(3):
        assert inboxes.tick("northwind") == []
    assert inboxes.receipts() == []
    (queued,) = inboxes.exceptions()
    assert (queued.kind, queued.partner_id) == ("quarantined_file", "northwind")
    assert "link.x12" in queued.reason and "symbolic link" in queued.reason

    link.unlink()  # the runbook: remove the link
    assert inboxes.tick("northwind") == []
    assert inboxes.exceptions(state=st.OPEN) == []
    assert [e.state for e in inboxes.exceptions(state=None)] == [st.RESOLVED]


# -- point 8: unsafe names -----------------------------------------------------------------------------


UNSAFE = {
    "new\nline.x12": "new\\nline.x12",
    "back\\slash.x12": "back\\\\slash.x12",
    "po\u202efdp.x12": "po\\u202efdp.x12",
}


def test_files_with_unsafe_names_are_quarantined_once_each_and_closed_when_renamed(inboxes: Inboxes):
    acme = inboxes.partners.get("acme")
    for n, name in enumerate(UNSAFE):
        inboxes.put("acme", name, build_850(acme, po_number=f"UNSAFE-{n}", control_number=n + 1))

    for _ in range(3):
        assert inboxes.tick("acme") == []
    assert inboxes.receipts() == [], "nothing downloaded or processed"
    queued = inboxes.exceptions()
    assert len(queued) == len(UNSAFE), "one exception per file, not one per tick"
    assert {(e.kind, e.partner_id) for e in queued} == {("quarantined_file", "acme")}
    for shown in UNSAFE.values():
        (entry,) = [e for e in queued if shown in e.reason]
        assert "\n" not in entry.reason and "\u202e" not in entry.reason, "displayed escaped"
        assert entry.document_ref.endswith(shown)

    inbox = inboxes.inbox("acme")
    (inbox / "new\nline.x12").rename(inbox / "newline.x12")  # the runbook: rename to a plain name
    assert inboxes.tick("acme") == []
    assert len(inboxes.exceptions()) == len(UNSAFE) - 1
    (request,) = inboxes.tick("acme")
    assert inboxes.receipts() == [("acme", "newline.x12")]
    process_x12_receipt(inboxes.store, inboxes.partners, int(request.tags["receipt"]))
    with inboxes.store.transaction() as conn:
        closed = [e for e in st.list_exceptions(conn, state=st.RESOLVED)]
    assert len(closed) == 1 and "renamed or removed" in present(closed[0].resolution)
