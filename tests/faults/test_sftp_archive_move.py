"""The intake run moves a processed file to the archive only while it is still the file the sensor read.

A partner may start a new upload under the same name between the sensor's read and the run's move:
moving that half-written file would lose its remainder.
"""

from __future__ import annotations

import os
import shutil

import dagster as dg
import pytest

from hub.defs.edi.assets import edi_inbound_orders
from hub.defs.resources import HubStoreResource, SftpResource
from hub.intake import receive_document
from mappings.x12.samples import build_850
from sandbox.sftp_server import SandboxSftpServer
from tests.faults.invariants import assert_store_invariants
from tests.faults.x12_path import MAX_BYTES, PARTNERS, REPO

ACME = PARTNERS.get("acme")


@pytest.mark.parametrize("replaced", [False, True], ids=["unchanged", "new_upload_under_the_same_name"])
def test_a_processed_file_is_archived_only_while_it_is_the_file_read(store, tmp_path, replaced):
    shutil.copytree(REPO / "mappings" / "partners", tmp_path / "partners")
    root = tmp_path / "sftp"
    for folder in (ACME.sftp.inbox, ACME.sftp.archive, ACME.sftp.outbound):
        (root / folder).mkdir(parents=True)
    inbox_file = root / ACME.sftp.inbox / "po.x12"
    first = build_850(ACME, po_number="PO-1", control_number=1)
    inbox_file.write_bytes(first)
    stat = inbox_file.stat()
    as_read = [stat.st_size, int(stat.st_mtime)]
    receipt = receive_document(store, channel="sftp", partner_id="acme", source_name="po.x12", data=first,
                               max_bytes=MAX_BYTES)
    if replaced:
        # The partner starts the next upload under the same name; half of it is there so far.
        second = build_850(ACME, po_number="PO-2", control_number=2)
        inbox_file.write_bytes(second[: len(second) // 2])
        os.utime(inbox_file, (stat.st_mtime + 5, stat.st_mtime + 5))

    with SandboxSftpServer(root, username="hub", password="pw") as server:
        server.write_known_hosts(tmp_path / "known_hosts")
        result = dg.materialize(
            [edi_inbound_orders],
            resources={
                "hub_store": HubStoreResource(database_url=store.engine.url.render_as_string(hide_password=False),
                                              partners_dir=str(tmp_path / "partners")),
                "sftp": SftpResource(host=server.host, port=server.port, username="hub", password="pw",
                                     known_hosts_path=str(tmp_path / "known_hosts"), timeout_seconds=10),
            },
            run_config={"ops": {"edi_inbound_orders": {"config": {
                "receipt_ids": [receipt.id], "inbox_files": {str(receipt.id): as_read}}}}},
        )
    assert result.success
    archived = list((root / ACME.sftp.archive).iterdir())
    if replaced:
        assert inbox_file.exists() and not archived, "the new, half-written upload must stay in the inbox"
        assert inbox_file.read_bytes() == second[: len(second) // 2]
    else:
        assert not inbox_file.exists() and [p.read_bytes() for p in archived] == [first]
    assert_store_invariants(store, expected_pos=[("x12", "acme", "PO-1")], acks_sent=False)
