"""Polling a partner's SFTP inbox: every finished file is archived and receipted before a run is asked for.

A file is taken only once its upload is finished: its size and mtime unchanged across two polls
(and ``settle_seconds``), or at first sight when its mtime is already ``min_file_age_seconds`` old
(default 10 s: nothing has written to it lately) or when the partner uploads under a temporary name
and renames (profile ``sftp.pickup.uploads_renamed``). Either way the read checks that size and
mtime still hold, so a file that moves while it is read waits for a later tick. What cannot be
read safely (symbolic links, special files, unsafe names, uploads abandoned under a temporary
name, a symlinked inbox) goes to the exception queue once, as ``quarantined_file`` /
``quarantined_folder``, and that exception is closed when the entry is renamed or removed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from canonical.errors import ConfigurationError, RejectedDocument
from connectors.sftp import (
    FileStillChanging,
    FolderListing,
    RemoteFileMissing,
    SymlinkRefused,
    display_name,
    is_temporary_file_name,
)
from hub import store as st
from hub.intake._receive import receive_document
from mappings.profiles import PartnerProfile

log = logging.getLogger(__name__)
CHANNEL = "sftp"
QUARANTINED_FILE = st.ExceptionKind.QUARANTINED_FILE
QUARANTINED_FOLDER = st.ExceptionKind.QUARANTINED_FOLDER
# Files up to this size are read into memory; larger ones stream through a temporary file.
IN_MEMORY_LIMIT = 16 * 1024 * 1024
_DOCUMENT_REF_MAX = 120  # exceptions.document_ref


class RemoteFileLike(Protocol):
    """A file in a partner folder, as listed (read-only, so frozen listings fit)."""

    @property
    def name(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def mtime(self) -> int: ...


class PartnerFolders(Protocol):
    """What intake needs of an SFTP connection (``connectors.sftp.SftpClient`` provides it)."""

    def scan_folder(self, folder: str) -> FolderListing: ...
    def list_files(self, folder: str) -> Sequence[RemoteFileLike]: ...
    def read_file(
        self, folder: str, name: str, *, max_bytes: int | None = None, expected: tuple[int, int] | None = None
    ) -> bytes: ...
    def download_file(
        self, folder: str, name: str, target: BinaryIO, *, max_bytes: int | None = None,
        expected: tuple[int, int] | None = None,
    ) -> int: ...
    def move_file(self, folder: str, name: str, to_folder: str, *, expected: tuple[int, int] | None = None) -> str: ...


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
class InboxCursor:
    """What a sensor remembers of an inbox between ticks (stored as JSON in the sensor's cursor).

    ``seen``: files not taken yet, name -> (size, mtime, first seen at, epoch seconds): a file is
    stable when a later poll finds the same size and mtime. ``taken``: files receipted, name ->
    (size, mtime), not downloaded again while unchanged; ``receipts``: their receipt ids, so a
    processed file left in the inbox is archived by a later tick. ``quarantined``: exception ids of
    the entries refused, by document reference, so each opens one exception and closes it when gone.
    """

    seen: dict[str, tuple[int, int, float]] = field(default_factory=dict)
    taken: dict[str, tuple[int, int]] = field(default_factory=dict)
    receipts: dict[str, int] = field(default_factory=dict)
    quarantined: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, text: str | None) -> InboxCursor:
        """Read a cursor; the first format (a plain ``{name: [size, mtime]}``) means files taken."""
        data = json.loads(text or "{}")
        if data and not {"seen", "taken", "receipts", "quarantined"} >= set(data):
            return cls(taken={name: (int(v[0]), int(v[1])) for name, v in data.items()})
        return cls(
            seen={name: (int(v[0]), int(v[1]), float(v[2])) for name, v in data.get("seen", {}).items()},
            taken={name: (int(v[0]), int(v[1])) for name, v in data.get("taken", {}).items()},
            receipts={name: int(receipt_id) for name, receipt_id in data.get("receipts", {}).items()},
            quarantined={ref: int(exception_id) for ref, exception_id in data.get("quarantined", {}).items()},
        )

    def dump(self) -> str:
        """The cursor as JSON (names with odd characters stay escaped: ASCII only)."""
        return json.dumps({
            "seen": {name: list(value) for name, value in sorted(self.seen.items())},
            "taken": {name: list(value) for name, value in sorted(self.taken.items())},
            "receipts": dict(sorted(self.receipts.items())),
            "quarantined": dict(sorted(self.quarantined.items())),
        })


@dataclass
class InboxPoll:
    """One look at an inbox: the files newly receipted, and the next cursor."""

    new_files: list[PolledFile]
    cursor: InboxCursor


def poll_inbox(
    store: st.HubStore,
    folders: PartnerFolders,
    profile: PartnerProfile,
    *,
    max_bytes: int,
    cursor: InboxCursor | None = None,
    now: dt.datetime | None = None,
) -> InboxPoll:
    """Receipt every finished new file in the partner's inbox; archive the ones processed before.

    Files in ``cursor.taken`` with the same size and mtime are not downloaded again. A file is
    downloaded only when stable, and receipted only if it did not change while it was read.
    """
    assert profile.sftp is not None
    now = now or st.utcnow()
    before = cursor or InboxCursor()
    after = InboxCursor()
    inbox, pickup = profile.sftp.inbox, profile.sftp.pickup
    refused: dict[str, tuple[st.ExceptionKind, str]] = {}  # document ref -> (kind, reason)
    try:
        listing = folders.scan_folder(inbox)
    except SymlinkRefused as exc:
        refused[_document_ref(inbox, "")] = (QUARANTINED_FOLDER, f"inbox {inbox} was not read: {exc.reason}; "
                                             "each partner reads only its own folders (see the runbook)")
        after.seen, after.taken, after.receipts = dict(before.seen), dict(before.taken), dict(before.receipts)
        _quarantine(store, profile, refused, before, after, now)
        return InboxPoll([], after)
    for entry in listing.refused:
        refused[_document_ref(inbox, entry.name)] = (
            QUARANTINED_FILE, f"file '{entry.shown}' in {inbox} was not read: {entry.reason}")

    polled: list[PolledFile] = []
    now_ts = now.timestamp()
    processed = _processed(store, before.receipts.values())
    for remote in listing.files:
        key = (remote.size, remote.mtime)
        if before.taken.get(remote.name) == key:
            receipt_id = before.receipts.get(remote.name)
            if receipt_id in processed and _archived(folders, profile, remote.name, key, refused):
                continue  # processed, and its run did not move it: the file read is archived now
            after.taken[remote.name] = key
            if receipt_id is not None:
                after.receipts[remote.name] = receipt_id
            continue
        first = before.seen.get(remote.name)
        unchanged = first is not None and first[:2] == key
        first_seen = first[2] if first is not None and unchanged else now_ts
        if is_temporary_file_name(remote.name, suffixes=tuple(pickup.temporary_suffixes),
                                  prefixes=tuple(pickup.temporary_prefixes)):
            after.seen[remote.name] = (*key, first_seen)
            if now_ts - first_seen >= pickup.abandoned_upload_minutes * 60:
                refused[_document_ref(inbox, remote.name)] = (QUARANTINED_FILE, (
                    f"file '{display_name(remote.name)}' in {inbox} is named like an upload in progress but has "
                    f"not changed for {pickup.abandoned_upload_minutes} minutes: never finished or never renamed"))
            continue
        finished = (unchanged or pickup.uploads_renamed or _old_enough(remote, pickup.min_file_age_seconds, now_ts)) \
            and now_ts - first_seen >= pickup.settle_seconds
        if not finished:
            after.seen[remote.name] = (*key, first_seen)  # maybe still uploading: look again next tick
            continue
        try:
            receipt = _receive(store, folders, profile, remote.name, key, max_bytes=max_bytes, now=now)
        except (FileStillChanging, RemoteFileMissing) as exc:
            log.info("file in %s inbox not taken yet: %s", profile.id, exc)  # seen afresh on the next tick
            continue
        except RejectedDocument as exc:
            # Too large to archive (or not a file any more): it stays in the inbox and waits in the queue.
            with store.transaction() as conn:
                st.open_exception(conn, channel=CHANNEL, kind=st.ExceptionKind.REJECTED_FILE, reason=exc.reason,
                                  partner_id=profile.id, now=now,
                                  document_ref=display_name(remote.name, limit=_DOCUMENT_REF_MAX))
            log.warning("refused file in %s inbox: %s", profile.id, exc.reason)
            after.taken[remote.name] = key
            continue
        if receipt.state == st.ReceiptState.PROCESSED:
            if not _archived(folders, profile, remote.name, key, refused):
                after.taken[remote.name] = key  # not downloaded again; the archive is tried again each tick
                after.receipts[remote.name] = receipt.id
            continue
        polled.append(PolledFile(remote.name, remote.size, remote.mtime, receipt.id, receipt.raw_sha256))
        after.taken[remote.name] = key
        after.receipts[remote.name] = receipt.id
    _quarantine(store, profile, refused, before, after, now)
    return InboxPoll(polled, after)


def _old_enough(remote: RemoteFileLike, min_age_seconds: int, now_ts: float) -> bool:
    """True when the file's mtime is ``min_age_seconds`` old: not written to lately, so complete at first sight.

    An upload in progress moves its mtime with every write, so it is never this old; one that stalls
    longer is the same risk as a stall across two polls (its read still checks size and mtime). 0: off.
    """
    return min_age_seconds > 0 and now_ts - remote.mtime >= min_age_seconds


def _processed(store: st.HubStore, receipt_ids) -> set[int]:
    """Which of these receipts are processed."""
    with store.transaction() as conn:
        return st.processed_receipt_ids(conn, receipt_ids)


def _archived(
    folders: PartnerFolders, profile: PartnerProfile, name: str, expected: tuple[int, int],
    refused: dict[str, tuple[st.ExceptionKind, str]],
) -> bool:
    """Move a processed file to the archive if it is still the file read; False when it is not (yet).

    An archive folder that is missing or a symbolic link is reported in ``refused`` (one exception
    until it is fixed); the file stays in the inbox meanwhile and the inbox keeps flowing.
    """
    assert profile.sftp is not None
    try:
        archive_processed_file(folders, profile, name, expected=expected)
    except (FileStillChanging, RemoteFileMissing) as exc:
        log.info("processed file in %s inbox not archived: %s", profile.id, exc)
        return False
    except (ConfigurationError, RejectedDocument) as exc:
        archive = profile.sftp.archive
        refused[_document_ref(archive, "")] = (QUARANTINED_FOLDER,
                                               f"processed files cannot be moved to {archive}: {exc}")
        return False
    return True


def _receive(
    store: st.HubStore, folders: PartnerFolders, profile: PartnerProfile, name: str, expected: tuple[int, int], *,
    max_bytes: int, now: dt.datetime,
) -> st.Receipt:
    """Download, archive and receipt one file, provided it is still the file listed (same size and mtime)."""
    assert profile.sftp is not None
    if expected[0] > IN_MEMORY_LIMIT:
        return _receive_large_file(store, folders, profile, name, expected, max_bytes=max_bytes, now=now)
    data = folders.read_file(profile.sftp.inbox, name, max_bytes=max_bytes, expected=expected)
    return receive_document(store, channel=CHANNEL, partner_id=profile.id, source_name=name, data=data,
                            max_bytes=max_bytes, now=now)


def _receive_large_file(
    store: st.HubStore, folders: PartnerFolders, profile: PartnerProfile, name: str, expected: tuple[int, int], *,
    max_bytes: int, now: dt.datetime,
) -> st.Receipt:
    """Download through a temporary file into the chunked archive: memory stays flat for any size."""
    assert profile.sftp is not None
    with tempfile.TemporaryDirectory(prefix="orderhub-") as folder:
        path = Path(folder) / "download"
        with path.open("wb") as target:
            folders.download_file(profile.sftp.inbox, name, target, max_bytes=max_bytes, expected=expected)
        with store.transaction() as conn:
            sha = st.archive_raw_file(conn, path, now=now)
            return st.record_receipt(conn, channel=CHANNEL, partner_id=profile.id, source_name=name,
                                     raw_sha256=sha, now=now)


def _document_ref(inbox: str, name: str) -> str:
    """``<inbox>/<name escaped>``: one exception per entry and partner, safe to display, within 120 characters."""
    ref = f"{inbox}/{display_name(name, limit=10_000)}"
    if len(ref) <= _DOCUMENT_REF_MAX:
        return ref
    digest = hashlib.sha256(name.encode("utf-8", errors="surrogateescape")).hexdigest()[:12]
    return f"{ref[:_DOCUMENT_REF_MAX - 16]}...~{digest}"


def _quarantine(
    store: st.HubStore, profile: PartnerProfile, refused: dict[str, tuple[st.ExceptionKind, str]], before: InboxCursor,
    after: InboxCursor, now: dt.datetime,
) -> None:
    """Open one exception per refused entry (not one per tick); close those whose entry was renamed or removed."""
    for ref, (kind, reason) in refused.items():
        if ref in before.quarantined:
            after.quarantined[ref] = before.quarantined[ref]
            continue
        with store.transaction() as conn:
            after.quarantined[ref] = st.open_exception(
                conn, channel=CHANNEL, kind=kind, reason=reason, partner_id=profile.id, document_ref=ref,
                location=profile.sftp.inbox if profile.sftp else None, now=now)
        log.warning("quarantined in %s inbox (exception %d): %s", profile.id, after.quarantined[ref], reason)
    for ref, exception_id in before.quarantined.items():
        if ref in refused:
            continue
        with store.transaction() as conn:
            queued = st.get_exception(conn, exception_id)
            if queued is not None and queued.state == st.OPEN:
                # An operator's own resolution stands; an open one closes by itself once the entry is gone.
                st.close_exception(conn, exception_id, state=st.RESOLVED, now=now,
                                   note="no longer in the inbox under this name (renamed or removed)")


def archive_processed_file(
    folders: PartnerFolders, profile: PartnerProfile, name: str, *, expected: tuple[int, int] | None = None
) -> str:
    """Move a processed file out of the inbox into the partner's archive folder.

    ``expected`` (size, mtime) as read: a file that changed since (still growing, or a new upload
    under the same name) is left in the inbox (FileStillChanging).
    """
    assert profile.sftp is not None
    return folders.move_file(profile.sftp.inbox, name, profile.sftp.archive, expected=expected)
