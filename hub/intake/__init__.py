"""Intake: receive raw documents from channels, archive them, and turn them into stored orders."""

from hub.intake._receive import receive_document
from hub.intake._sftp import CHANNEL as SFTP_CHANNEL
from hub.intake._sftp import InboxPoll, PartnerFolders, PolledFile, archive_processed_file, poll_inbox
from hub.intake._x12 import ERP_TARGET, IntakeSummary, process_x12_receipt

__all__ = [
    "ERP_TARGET",
    "InboxPoll",
    "IntakeSummary",
    "PartnerFolders",
    "PolledFile",
    "SFTP_CHANNEL",
    "archive_processed_file",
    "poll_inbox",
    "process_x12_receipt",
    "receive_document",
]
