"""Polling a partner's SFTP inbox: every new file is archived and receipted before a run is asked for."""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from hub import store as st
from hub.errors import RejectedDocument
from hub.intake._receive import receive_document
from mappings.profiles import PartnerProfile

log = logging.getLogger(__name__)
CHANNEL = "sftp"
# Files up to this size are read into memory; larger ones stream through a temporary file.
IN_MEMORY_LIMIT = 16 * 1024 * 1024


class RemoteFileLike(Protocol):
    name: str
    size: int
    mtime: int


class PartnerFolders(Protocol):
    """What intake needs of an SFTP connection (``connectors.sftp.SftpClient`` provides it)."""

    def list_files(self, folder: str) -> list[RemoteFileLike]: ...
    def read_file(self, folder: str, name: str, *, max_bytes: int | None = None) -> bytes: ...
    def move_file(self, folder: str, name: str, to_folder: str) -> str: ...


@dataclass(frozen=True)
class PolledFile:
    """A file found in an inbox and receipted, waiting for its intake run."""

    name: str
    size: int
    mtime: int
    receipt_id: int
    raw_sha256: str

    @property
    def run_key(self) -> str:
        """Derived from the content and the name: a re-tick never runs twice for the same file."""
        return f"{self.raw_sha256[:32]}:{self.name}"


@dataclass
class InboxPoll:
    """One look at an inbox: the files newly receipted, and what the inbox holds now (the next cursor)."""

    new_files: list[PolledFile]
    present: dict[str, tuple[int, int]]


def poll_inbox(
    store: st.HubStore,
    folders: PartnerFolders,
    profile: PartnerProfile,
    *,
    max_bytes: int,
    known: dict[str, tuple[int, int]] | None = None,
    now: dt.datetime | None = None,
) -> InboxPoll:
    """Receipt every new file in the partner's inbox; archive the ones processed before.

    ``known`` maps file names to (size, mtime) already receipted by an earlier tick (the sensor's
    cursor): those are not downloaded again.
    """
    assert profile.sftp is not None
    known = known or {}
    polled: list[PolledFile] = []
    present: dict[str, tuple[int, int]] = {}
    for remote in folders.list_files(profile.sftp.inbox):
        present[remote.name] = (remote.size, remote.mtime)
        if known.get(remote.name) == (remote.size, remote.mtime):
            continue
        try:
            if remote.size > IN_MEMORY_LIMIT and hasattr(folders, "download_file"):
                receipt = _receive_large_file(store, folders, profile, remote.name, max_bytes=max_bytes, now=now)
            else:
                data = folders.read_file(profile.sftp.inbox, remote.name, max_bytes=max_bytes)
                receipt = receive_document(store, channel=CHANNEL, partner_id=profile.id, source_name=remote.name,
                                           data=data, max_bytes=max_bytes, now=now)
        except RejectedDocument as exc:
            # Too large to archive: it stays in the inbox and waits in the exception queue.
            with store.transaction() as conn:
                st.open_exception(conn, channel=CHANNEL, kind="rejected_file", reason=exc.reason, partner_id=profile.id,
                                  document_ref=remote.name, now=now or st.utcnow())
            log.warning("refused file in %s inbox: %s", profile.id, exc.reason)
            continue
        if receipt.state == "processed":
            archive_processed_file(folders, profile, remote.name)
            del present[remote.name]
            continue
        polled.append(PolledFile(remote.name, remote.size, remote.mtime, receipt.id, receipt.raw_sha256))
    return InboxPoll(polled, present)


def _receive_large_file(
    store: st.HubStore, folders, profile: PartnerProfile, name: str, *, max_bytes: int, now: dt.datetime | None
) -> st.Receipt:
    """Download through a temporary file into the chunked archive: memory stays flat for any size."""
    now = now or st.utcnow()
    with tempfile.TemporaryDirectory(prefix="orderhub-") as folder:
        path = Path(folder) / "download"
        with path.open("wb") as target:
            folders.download_file(profile.sftp.inbox, name, target, max_bytes=max_bytes)
        with store.transaction() as conn:
            sha = st.archive_raw_file(conn, path, now=now)
            return st.record_receipt(conn, channel=CHANNEL, partner_id=profile.id, source_name=name,
                                     raw_sha256=sha, now=now)


def archive_processed_file(folders: PartnerFolders, profile: PartnerProfile, name: str) -> str:
    """Move a processed file out of the inbox into the partner's archive folder."""
    assert profile.sftp is not None
    return folders.move_file(profile.sftp.inbox, name, profile.sftp.archive)
