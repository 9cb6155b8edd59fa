"""Writing queued acks (997, TA1) to each partner's SFTP outbound folder, once each."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from hub import store as st
from mappings.profiles import PartnerDirectory


class OutboundFolders(Protocol):
    """What ack delivery needs of an SFTP connection (``connectors.sftp.SftpClient`` provides it)."""

    def list_files(self, folder: str) -> list: ...
    def write_file_atomic(self, folder: str, name: str, data: bytes) -> str: ...


def send_pending_acks(
    store: st.HubStore, partners: PartnerDirectory, folders: OutboundFolders, *, partner_id: str | None = None,
    now: dt.datetime | None = None,
) -> list[str]:
    """Write every pending outbound document; returns the paths written.

    A file already in the folder under the document's name was written by an earlier run that
    died before recording it: it is recorded as sent, not written twice.
    """
    with store.transaction() as conn:
        pending = st.pending_outbound(conn, partner_id=partner_id)
    written: list[str] = []
    listings: dict[str, set[str]] = {}
    for document in pending:
        profile = partners.get(document.partner_id)
        if profile.sftp is None:
            continue
        folder = profile.sftp.outbound
        if folder not in listings:
            listings[folder] = {f.name for f in folders.list_files(folder)}
        if document.file_name not in listings[folder]:
            written.append(folders.write_file_atomic(folder, document.file_name, document.content.encode("ascii")))
            listings[folder].add(document.file_name)
        with store.transaction() as conn:
            st.mark_outbound_sent(conn, document.id, now=now or st.utcnow())
    return written
