"""X12 over SFTP: partners drop interchanges into their inbox on our server; acks go back to their outbound folder.

Files are polled by a sensor per partner (``hub.defs.edi.sensors``), archived and receipted one by
one, then processed by ``hub.intake.process_x12_receipt`` in bounded batches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from hub import store as st
from hub.intake import CLEAN_OUTCOMES, SFTP_CHANNEL, process_x12_receipt
from mappings.profiles import ChannelSettings, PartnerDirectory, PartnerProfile, SftpFolders, X12SftpChannel


class X12SftpSource:
    """A trading partner's X12 files on our SFTP server: one per profile's ``{kind: x12_sftp}`` channel."""

    kind = "x12_sftp"
    name = "x12"
    order_source = "x12"
    settings_model = X12SftpChannel
    channel = SFTP_CHANNEL
    replay_channels = (SFTP_CHANNEL,)
    clean_outcomes = CLEAN_OUTCOMES

    def describe(self, profile: PartnerProfile, settings: ChannelSettings | None) -> str:
        """The partner's inbox."""
        sftp = settings.sftp if isinstance(settings, X12SftpChannel) else None
        inbox = sftp.inbox if sftp else "-"
        return f"Watches {profile.name}'s SFTP inbox ({inbox})."

    def folders(self, settings: X12SftpChannel) -> SftpFolders | None:
        """The partner's folders on our SFTP server."""
        return settings.sftp

    def map_again(self, store: st.HubStore, partners: PartnerDirectory, receipt_id: int, *, now: dt.datetime) -> str:
        """The archived file processed again (no new acks; orders already stored untouched)."""
        summary = process_x12_receipt(store, partners, receipt_id, replay=True, now=now)
        return f"reprocessed: {summary.orders_created} order(s) created"

    def map_files(self, files: Sequence[tuple[str, bytes]], partners: PartnerDirectory,
                  partner_id: str | None) -> list[dict[str, Any]]:
        """Each file validated and mapped as the intake would, with the acks it would send."""
        from mappings.x12 import process_interchange_file

        return [{"file": name, **process_interchange_file(data, partners=partners,
                                                          raw_document_id=st.sha256_hex(data)).to_json()}
                for name, data in files]


X12_SFTP = X12SftpSource()
