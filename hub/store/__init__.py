"""The hub store: raw archive, receipts, interchange ledger, orders, events, exceptions, outbox.

SQLite by default (a file under ``HUB_DATA_DIR``), PostgreSQL with ``HUB_DATABASE_URL``. Functions
take a SQLAlchemy ``Connection`` so that callers decide the transaction; ``HubStore`` owns the engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

from hub.store._archive import (
    RECEIPT_CLAIM_STALE_AFTER,
    ClaimLost,
    Receipt,
    ReceiptState,
    claim_receipt,
    release_receipt_claim,
    renew_receipt_claim,
    archive_raw,
    archive_raw_file,
    attach_raw_documents,
    iter_raw_content,
    finish_receipt,
    get_receipt,
    raw_content,
    receipt_raw_attachments,
    record_receipt,
    sha256_hex,
    unfinished_receipts,
)
from hub.store._claims import give_up_claim, holder_is_dead, new_claim_token
from hub.store._bulk import OrderRows, add_events_bulk, enqueue_deliveries_bulk, order_rows, save_orders_bulk
from hub.store._cursors import get_cursor, set_cursor
from hub.store._deliveries import give_back_delivery, writes_in_doubt_until
from hub.store._engine import make_engine, migrate
from hub.store._exceptions import (
    OPEN,
    REPLAYED,
    RESOLVED,
    ExceptionKind,
    ExceptionState,
    QueuedException,
    close_exception,
    count_replay,
    get_exception,
    list_exceptions,
    open_exception,
)
from hub.store._intake import (
    committed_interchange_rows,
    open_exception_ids,
    processed_receipt_ids,
    stored_version_time,
    unexplained_receipts,
    unprocessed_receipt_ids,
    waiting_receipt_ids,
)
from hub.store._ledger import interchange_seen, next_control_number, record_interchange
from hub.store._orders import (
    SavedOrder,
    StoredOrder,
    add_event,
    cancel_channel_order,
    load_order,
    load_stored_order,
    order_revision,
    order_events_of,
    save_channel_order,
    save_order,
)
from hub.store._outbound import (
    OutboundDocument,
    OutboundState,
    get_outbound,
    mark_outbound_failed,
    mark_outbound_sent,
    outbound_for_receipt,
    pending_outbound,
    queue_outbound,
    requeue_outbound,
)
from hub.store._outbox import (
    DEAD,
    DONE,
    FAILED,
    IN_FLIGHT,
    PENDING,
    SKIPPED,
    Delivery,
    DeliveryState,
    DELIVERY_CLAIM_STALE_AFTER,
    IN_DOUBT_MARK,
    in_doubt_until,
    WRITE_SETTLE,
    claim_due_deliveries,
    deliveries_claimed_by_run,
    deliveries_by_state,
    delivery_of,
    enqueue_delivery,
    finish_delivery,
    requeue_delivery,
)
from hub.store._order_states import OrderStatus, SaveAction
from hub.store._reports import DeliveredRecord, StoreCounts, deliveries_done_since, exception_files, store_counts
from hub.store._reconciliation import ExpectedOrders, orders_expected_at
from hub.store import _tables as tables

__all__ = [
    "DEAD", "DONE", "FAILED", "IN_FLIGHT", "OPEN", "PENDING", "REPLAYED", "RESOLVED", "SKIPPED",
    "Delivery", "HubStore", "OrderRows", "OutboundDocument", "QueuedException", "Receipt", "SavedOrder",
    "StoredOrder",
    "add_event", "add_events_bulk", "archive_raw", "archive_raw_file", "attach_raw_documents", "receipt_raw_attachments", "enqueue_deliveries_bulk", "get_cursor",
    "iter_raw_content", "order_rows", "save_channel_order", "save_orders_bulk",
    "set_cursor", "cancel_channel_order", "claim_due_deliveries", "close_exception", "count_replay",
    "deliveries_by_state", "delivery_of", "enqueue_delivery", "finish_delivery", "finish_receipt", "get_exception",
    "get_receipt", "interchange_seen", "list_exceptions", "load_order", "load_stored_order", "make_engine",
    "get_outbound", "mark_outbound_failed", "mark_outbound_sent", "requeue_outbound", "migrate", "next_control_number", "open_exception", "order_events_of", "order_revision",
    "outbound_for_receipt", "pending_outbound", "queue_outbound", "raw_content", "record_interchange",
    "record_receipt", "requeue_delivery", "save_order", "sha256_hex", "tables", "unfinished_receipts", "utcnow",
    "RECEIPT_CLAIM_STALE_AFTER", "ClaimLost", "claim_receipt", "release_receipt_claim", "renew_receipt_claim",
    "give_up_claim", "holder_is_dead", "new_claim_token", "DELIVERY_CLAIM_STALE_AFTER", "deliveries_claimed_by_run",
    "IN_DOUBT_MARK", "in_doubt_until", "WRITE_SETTLE",
    "DeliveryState", "ExceptionKind", "ExceptionState", "OutboundState", "ReceiptState",
    "StoreCounts", "exception_files", "store_counts", "DeliveredRecord", "deliveries_done_since", "OrderStatus", "SaveAction",
    "committed_interchange_rows", "open_exception_ids", "processed_receipt_ids", "stored_version_time",
    "unexplained_receipts", "unprocessed_receipt_ids", "waiting_receipt_ids",
    "give_back_delivery", "writes_in_doubt_until", "ExpectedOrders", "orders_expected_at",
]


def utcnow() -> dt.datetime:
    """Now, timezone-aware UTC (every timestamp the store writes)."""
    return dt.datetime.now(dt.UTC)


class HubStore:
    """The store's engine, migrated on first use."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self._migrated = False

    def migrate(self) -> HubStore:
        """Bring the schema to the newest revision (once per process)."""
        if not self._migrated:
            migrate(self.engine)
            self._migrated = True
        return self

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        self.migrate()
        with self.engine.begin() as conn:
            yield conn

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()
