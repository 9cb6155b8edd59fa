"""Inbox polling against the sandbox SFTP server: when a file counts as finished (profile ``sftp.pickup``),
and uploads abandoned under a temporary name (``ORDER.TMP``) reaching the exception queue."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from connectors.sftp import SftpClient, SftpConfig
from hub import store as st
from hub.intake import InboxCursor, poll_inbox
from hub.replay import replay_exception
from mappings.profiles import PartnerDirectory, PartnerProfile
from mappings.x12.samples import build_850
from sandbox.sftp_server import SandboxSftpServer

REPO = Path(__file__).resolve().parent.parent
ACME = PartnerDirectory.load(REPO / "mappings" / "partners").get("acme")
T0 = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def inbox(tmp_path):
    with SandboxSftpServer(tmp_path / "sftp", username="hub", password="pw") as server:
        server.write_known_hosts(tmp_path / "known_hosts")
        folder = tmp_path / "sftp" / "acme" / "inbox"
        folder.mkdir(parents=True)
        (tmp_path / "sftp" / "acme" / "archive").mkdir()
        config = SftpConfig(host=server.host, port=server.port, username="hub", password="pw",
                            known_hosts_path=tmp_path / "known_hosts")
        with SftpClient(config) as client:
            yield folder, client


def with_pickup(**options) -> PartnerProfile:
    sftp = ACME.sftp.model_copy(update={"pickup": ACME.sftp.pickup.model_copy(update=options)})
    return ACME.model_copy(update={"sftp": sftp})


def test_uploads_renamed_takes_a_final_name_at_first_sight_and_ignores_temporary_ones(inbox, sqlite_store):
    folder, client = inbox
    profile = with_pickup(uploads_renamed=True)
    (folder / "po.x12.part").write_bytes(b"ISA*00*half an upl")
    (folder / "po2.x12").write_bytes(build_850(ACME))

    poll = poll_inbox(sqlite_store, client, profile, max_bytes=1_000_000, now=T0)
    assert [f.name for f in poll.new_files] == ["po2.x12"]


def test_a_file_old_at_first_sight_is_taken_at_once_unless_it_moves_while_read(inbox, sqlite_store):
    folder, client = inbox
    old = int(dt.datetime.now(dt.UTC).timestamp()) - 60
    (folder / "done.x12").write_bytes(build_850(ACME, po_number="DONE", control_number=1))
    (folder / "resumed.x12").write_bytes(build_850(ACME, po_number="RESUMED", control_number=2)[:200])
    for name in ("done.x12", "resumed.x12"):
        os.utime(folder / name, (old, old))

    class UploadResumesDuringTheRead:
        """The partner's stalled upload of resumed.x12 goes on between our listing and our read."""

        def __getattr__(self, name):
            return getattr(client, name)

        def read_file(self, inbox_folder: str, name: str, *, max_bytes: int | None = None,
                      expected: tuple[int, int] | None = None) -> bytes:
            if name == "resumed.x12":
                with (folder / name).open("ab") as upload:
                    upload.write(b"ST*850*0001~")
            return client.read_file(inbox_folder, name, max_bytes=max_bytes, expected=expected)

    poll = poll_inbox(sqlite_store, UploadResumesDuringTheRead(), with_pickup(min_file_age_seconds=30),
                      max_bytes=1_000_000)
    assert [f.name for f in poll.new_files] == ["done.x12"], "old enough: complete at first sight"
    with sqlite_store.transaction() as conn:
        receipted = conn.execute(select(st.tables.receipts.c.source_name)).scalars().all()
    assert receipted == ["done.x12"], "the file that moved while it was read is not receipted"
    again = poll_inbox(sqlite_store, client, with_pickup(min_file_age_seconds=30), max_bytes=1_000_000,
                       cursor=poll.cursor)
    assert again.new_files == [], "written to a moment ago: it waits for the next poll"

    two_polls = poll_inbox(sqlite_store, client, with_pickup(min_file_age_seconds=0), max_bytes=1_000_000,
                           cursor=InboxCursor())
    assert two_polls.new_files == [], "0: the rule is off, even an old file waits for the second poll"


def test_settle_seconds_waits_for_a_file_unchanged_that_long(inbox, sqlite_store):
    folder, client = inbox
    profile = with_pickup(settle_seconds=120)
    (folder / "po.x12").write_bytes(build_850(ACME))

    cursor = None
    for minutes, taken in ((0, []), (1, []), (2, ["po.x12"])):
        poll = poll_inbox(sqlite_store, client, profile, max_bytes=1_000_000, cursor=cursor,
                          now=T0 + dt.timedelta(minutes=minutes))
        assert [f.name for f in poll.new_files] == taken, f"after {minutes} min"
        cursor = poll.cursor


def test_an_upload_abandoned_under_a_temporary_name_is_reported_once_and_closed_when_renamed(inbox, sqlite_store):
    folder, client = inbox
    (folder / "ORDER.TMP").write_bytes(build_850(ACME))
    cursor = InboxCursor()
    for minutes in (0, 30, 59):
        cursor = poll_inbox(sqlite_store, client, ACME, max_bytes=1_000_000, cursor=cursor,
                            now=T0 + dt.timedelta(minutes=minutes)).cursor
    with sqlite_store.transaction() as conn:
        assert st.list_exceptions(conn) == [], "an upload in progress is no exception"

    for minutes in (60, 61, 90):
        poll = poll_inbox(sqlite_store, client, ACME, max_bytes=1_000_000, cursor=cursor,
                          now=T0 + dt.timedelta(minutes=minutes))
        assert poll.new_files == []
        cursor = poll.cursor
    with sqlite_store.transaction() as conn:
        (queued,) = st.list_exceptions(conn)
    assert (queued.kind, queued.partner_id) == ("quarantined_file", "acme")
    assert "ORDER.TMP" in queued.reason and "never finished or never renamed" in queued.reason
    replay = replay_exception(sqlite_store, PartnerDirectory([ACME]), queued.id)
    assert not replay.done and "rename or remove" in replay.message

    (folder / "ORDER.TMP").rename(folder / "ORDER.x12")
    for minutes, taken in ((91, []), (92, ["ORDER.x12"])):
        poll = poll_inbox(sqlite_store, client, ACME, max_bytes=1_000_000, cursor=cursor,
                          now=T0 + dt.timedelta(minutes=minutes))
        assert [f.name for f in poll.new_files] == taken
        cursor = poll.cursor
    with sqlite_store.transaction() as conn:
        assert st.list_exceptions(conn) == []
        assert st.get_exception(conn, queued.id).state == st.RESOLVED


def test_the_first_cursor_format_still_means_files_already_taken(inbox, sqlite_store):
    folder, client = inbox
    (folder / "po.x12").write_bytes(build_850(ACME))
    stat = (folder / "po.x12").stat()
    old = InboxCursor.load(f'{{"po.x12": [{stat.st_size}, {int(stat.st_mtime)}]}}')

    assert poll_inbox(sqlite_store, client, ACME, max_bytes=1_000_000, cursor=old, now=T0).new_files == []
    assert InboxCursor.load(old.dump()) == old


def test_partners_never_share_or_nest_sftp_folders():
    from canonical.errors import ConfigurationError
    from mappings.profiles import PartnerDirectory as Directory

    northwind = PartnerDirectory.load(REPO / "mappings" / "partners").get("northwind")
    for inbox in ("acme/inbox", "acme", "acme/inbox/northwind"):
        nested = northwind.model_copy(update={"sftp": northwind.sftp.model_copy(update={"inbox": inbox})})
        with pytest.raises(ConfigurationError, match="share SFTP folders"):
            Directory([ACME, nested])
    with pytest.raises(ValueError, match="three different folders"):
        type(ACME.sftp).model_validate({"inbox": "a/in", "archive": "a/in/", "outbound": "a/out"})
    assert len(Directory([ACME, northwind])) == 2


def test_a_missing_archive_folder_is_reported_once_and_the_inbox_keeps_flowing(inbox, sqlite_store):
    from hub.intake import process_x12_receipt

    folder, client = inbox
    (folder.parent / "archive").rmdir()
    (folder / "a.x12").write_bytes(build_850(ACME, po_number="A-1"))
    poll = poll_inbox(sqlite_store, client, ACME, max_bytes=1_000_000, now=T0)
    (taken,) = poll_inbox(sqlite_store, client, ACME, max_bytes=1_000_000, cursor=poll.cursor, now=T0).new_files
    process_x12_receipt(sqlite_store, PartnerDirectory.load(REPO / "mappings" / "partners"), taken.receipt_id)
    (folder / "b.x12").write_bytes(build_850(ACME, po_number="B-1", control_number=2))

    cursor = poll.cursor
    for _ in range(3):
        poll = poll_inbox(sqlite_store, client, ACME, max_bytes=1_000_000, cursor=poll.cursor, now=T0)
        cursor = poll.cursor
    assert "b.x12" in cursor.receipts, "the next file was still taken"
    with sqlite_store.transaction() as conn:
        (queued,) = st.list_exceptions(conn)
    assert queued.kind == "quarantined_folder" and "acme/archive" in queued.reason

    (folder.parent / "archive").mkdir()
    poll_inbox(sqlite_store, client, ACME, max_bytes=1_000_000, cursor=cursor, now=T0)
    assert [p.name for p in (folder.parent / "archive").iterdir()] == ["a.x12"]
    with sqlite_store.transaction() as conn:
        assert st.list_exceptions(conn) == []
