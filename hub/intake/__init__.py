"""Intake: receive raw documents from channels, archive them, and turn them into stored orders."""

from hub.intake._channels import (
    REJECTED_ORDER,
    UNREADABLE_PAGE,
    ChannelSummary,
    MappedOrderLike,
    advance_cursor,
    apply_mapped_orders,
    order_source_of,
    process_queued_receipt,
    process_queued_receipts,
    register_order_source,
    settle_unreadable_pages,
    store_channel_document,
    store_unreadable_page,
    sync_window_start,
    waiting_receipts,
)
from hub.intake._receive import receive_document
from hub.intake._sftp import CHANNEL as SFTP_CHANNEL
from hub.intake._sftp import (
    QUARANTINED_FILE,
    QUARANTINED_FOLDER,
    InboxCursor,
    InboxPoll,
    PartnerFolders,
    PolledFile,
    archive_processed_file,
    poll_inbox,
)
from hub.intake._sync import INITIAL_WINDOW, PolledPages, SourcePage, SyncResult, UnreadableBody, sync_orders
from hub.intake._unfinished import INTAKE_NOT_FINISHED, give_up_on_receipt, unfinished_receipts
from hub.intake._x12 import CLEAN_OUTCOMES, IntakeSummary, process_x12_receipt
from hub.targets import ERP_TARGET  # kept importable from here for existing callers

__all__ = [
    "CLEAN_OUTCOMES",
    "ERP_TARGET",
    "INITIAL_WINDOW",
    "INTAKE_NOT_FINISHED",
    "QUARANTINED_FILE",
    "QUARANTINED_FOLDER",
    "REJECTED_ORDER",
    "SFTP_CHANNEL",
    "UNREADABLE_PAGE",
    "ChannelSummary",
    "InboxCursor",
    "InboxPoll",
    "IntakeSummary",
    "MappedOrderLike",
    "PartnerFolders",
    "PolledFile",
    "PolledPages",
    "SourcePage",
    "SyncResult",
    "UnreadableBody",
    "advance_cursor",
    "apply_mapped_orders",
    "archive_processed_file",
    "give_up_on_receipt",
    "order_source_of",
    "poll_inbox",
    "process_queued_receipt",
    "process_queued_receipts",
    "process_x12_receipt",
    "receive_document",
    "register_order_source",
    "settle_unreadable_pages",
    "store_channel_document",
    "store_unreadable_page",
    "sync_orders",
    "sync_window_start",
    "unfinished_receipts",
    "waiting_receipts",
]
