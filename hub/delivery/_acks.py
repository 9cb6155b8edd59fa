"""Writing queued acks (997, TA1) to each partner's SFTP outbound folder, once each.

One document never holds up the others: a document that can never be written as it is (bytes
outside the X12 character set, a name the server refuses, different bytes already under its name)
is marked failed and opens an ``ack_not_sent`` exception, replayable after a fix; a folder that
cannot be reached now leaves its documents pending and the others are still written.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Protocol

from canonical.errors import DuplicateDocument, HubError, RejectedDocument, RetriableError
from hub import store as st
from mappings.profiles import PartnerDirectory
from mappings.x12.outbound import outbound_problems

ACK_NOT_SENT = st.ExceptionKind.ACK_NOT_SENT
"""Exception kind for an outbound document the sender could not write; its document_ref names it."""

_REF_PREFIX = "outbound document "
# What an ack may hold: the X12 extended character set (printable ASCII) and line breaks.
_NOT_X12_TEXT = re.compile(r"[^\x20-\x7e\r\n]")


class OutboundFolders(Protocol):
    """What ack delivery needs of an SFTP connection (``connectors.sftp.SftpClient`` provides it)."""

    def list_files(self, folder: str) -> list: ...
    def write_file_atomic(self, folder: str, name: str, data: bytes) -> str: ...


class UnsendableAck(RejectedDocument):
    """An outbound document that cannot be written as it is."""


def ack_bytes(content: str) -> bytes:
    """The document as ASCII bytes; raises :class:`UnsendableAck` if it holds anything outside X12 text
    or fails validation against our maps (envelope always, each set we have a map for: 855)."""
    bad = _NOT_X12_TEXT.search(content)
    if bad is not None:
        raise UnsendableAck(f"character {bad.group()!r} at offset {bad.start()} is outside the X12 character set")
    errors = outbound_problems(content)  # what we would reject from a partner never reaches one
    if errors:
        raise UnsendableAck("fails validation against our maps: " + "; ".join(
            f"{p.location}: {p.message}" if p.location else p.message for p in errors[:3]))
    return content.encode("ascii")


def send_pending_acks(
    store: st.HubStore, partners: PartnerDirectory, folders: OutboundFolders, *, partner_id: str | None = None,
    now: dt.datetime | None = None,
) -> list[str]:
    """Write every pending outbound document; returns the paths written.

    A file already in the folder under the document's name was written by an earlier run that
    died before recording it: it is recorded as sent, not written twice. Raises
    :class:`RetriableError` at the end (after every other document was written) when some folder
    could not be reached, so the run shows it and is retried.
    """
    with store.transaction() as conn:
        pending = st.pending_outbound(conn, partner_id=partner_id)
    written: list[str] = []
    listings: dict[str, set[str]] = {}
    unreachable: dict[str, str] = {}  # folder -> why: its other documents wait for the next run
    for document in pending:
        try:
            profile = partners.get(document.partner_id)
        except HubError as exc:  # a profile removed while acks were queued: fix the profiles, the acks wait
            unreachable[f"partner {document.partner_id}"] = str(exc)
            continue
        if profile.sftp is None:  # the profile lost its sftp section after the ack was queued
            _fail(store, document, "the partner's profile has no sftp section: add it, then replay", now or st.utcnow())
            continue
        folder = profile.sftp.outbound
        if folder in unreachable:
            continue
        try:
            data = ack_bytes(document.content)
            if folder not in listings:
                listings[folder] = {f.name for f in folders.list_files(folder)}
            if document.file_name not in listings[folder]:
                written.append(folders.write_file_atomic(folder, document.file_name, data))
                listings[folder].add(document.file_name)
        except (RejectedDocument, DuplicateDocument) as exc:
            _fail(store, document, str(exc), now or st.utcnow())
            continue
        except (HubError, OSError) as exc:
            unreachable[folder] = f"{type(exc).__name__}: {exc}"
            continue
        with store.transaction() as conn:
            st.mark_outbound_sent(conn, document.id, now=now or st.utcnow())
    if unreachable:
        raise RetriableError(
            f"acks written: {len(written)}; folders not reachable now (their acks stay pending): "
            + "; ".join(f"{folder}: {why}" for folder, why in sorted(unreachable.items()))
        )
    return written


def _fail(store: st.HubStore, document: st.OutboundDocument, why: str, now: dt.datetime) -> None:
    with store.transaction() as conn:
        st.mark_outbound_failed(conn, document.id)
        st.open_exception(
            conn, channel="sftp", kind=ACK_NOT_SENT, partner_id=document.partner_id, now=now,
            document_ref=f"{_REF_PREFIX}{document.id}",
            reason=f"{document.kind} {document.file_name} could not be written to the partner's folder: {why}",
        )


def replay_unsent_ack(store: st.HubStore, exception: st.QueuedException, *, now: dt.datetime) -> tuple[bool, str]:
    """Queue the document of an ``ack_not_sent`` exception again, its text brought into the X12 character set.

    Each character outside the set becomes ``?`` (one for one, so the segment structure stays as it
    was); the next ack run writes it. Returns (done, message for the operator).
    """
    ref = exception.document_ref or ""
    number = ref[len(_REF_PREFIX):] if ref.startswith(_REF_PREFIX) else ""
    document_id = int(number) if number.isdigit() else None
    with store.transaction() as conn:
        document = st.get_outbound(conn, document_id) if document_id is not None else None
        if document is None:
            return False, f"no outbound document behind {ref!r}"
        if not st.requeue_outbound(conn, document.id, content=_NOT_X12_TEXT.sub("?", document.content)):
            return False, f"{document.file_name} is {document.state}, not failed"
        st.close_exception(conn, exception.id, state=st.REPLAYED, now=now)
    return True, f"{document.file_name} queued again; the next ack run writes it"
