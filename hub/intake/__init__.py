"""Intake: receive raw documents from channels, archive them, and turn them into stored orders."""

from hub.intake._channels import (
    REJECTED_ORDER,
    UNREADABLE_PAGE,
    ChannelSummary,
    MappedOrderLike,
    advance_cursor,
    apply_mapped_orders,
    order_source_of,
    register_order_source,
    process_queued_receipt,
    process_queued_receipts,
    settle_unreadable_pages,
    store_channel_document,
    store_unreadable_page,
    sync_window_start,
    waiting_receipts,
)
from hub.intake._receive import receive_document
from hub.intake._sync import INITIAL_WINDOW, PolledPages, SourcePage, SyncResult, UnreadableBody, sync_orders
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
from hub.intake._unfinished import INTAKE_NOT_FINISHED, give_up_on_receipt, unfinished_receipts
from hub.intake._x12 import ERP_TARGET, IntakeSummary, process_x12_receipt

__all__ = [
    "INITIAL_WINDOW",
    "PolledPages",
    "SourcePage",
    "SyncResult",
    "UnreadableBody",
    "sync_orders",
    "ChannelSummary",
    "REJECTED_ORDER",
    "UNREADABLE_PAGE",
    "settle_unreadable_pages",
    "store_unreadable_page",
    "MappedOrderLike",
    "advance_cursor",
    "order_source_of",
    "register_order_source",
    "apply_mapped_orders",
    "process_queued_receipt",
    "process_queued_receipts",
    "store_channel_document",
    "sync_window_start",
    "waiting_receipts",
    "ERP_TARGET",
    "INTAKE_NOT_FINISHED",
    "InboxCursor",
    "InboxPoll",
    "QUARANTINED_FILE",
    "QUARANTINED_FOLDER",
    "IntakeSummary",
    "PartnerFolders",
    "PolledFile",
    "SFTP_CHANNEL",
    "archive_processed_file",
    "give_up_on_receipt",
    "poll_inbox",
    "unfinished_receipts",
    "process_x12_receipt",
    "receive_document",
]
