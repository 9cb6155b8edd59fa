"""The hub store: raw archive, receipts, interchange ledger, orders, events, exceptions, outbox, invoices.

SQLite by default (a file under ``HUB_DATA_DIR``), PostgreSQL with ``HUB_DATABASE_URL``. Functions
take a SQLAlchemy ``Connection`` so that callers decide the transaction; ``HubStore`` owns the engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

from hub.store import _tables as tables
from hub.store._alerts import ExceptionsSince, OverdueOutbound, exceptions_since, overdue_outbound
from hub.store._approvals import (
    AWAITING_APPROVAL,
    REJECTED_BY,
    Approval,
    ApprovalState,
    AuditEntry,
    approval_history,
    approval_of_order,
    decide_approval,
    get_approval,
    hold_again,
    hold_order,
    keep_held,
    list_approvals,
    record_reply,
)
from hub.store._archive import (
    RECEIPT_CLAIM_STALE_AFTER,
    ClaimLost,
    Receipt,
    ReceiptState,
    archive_raw,
    archive_raw_file,
    attach_raw_documents,
    claim_receipt,
    finish_receipt,
    get_receipt,
    iter_raw_content,
    raw_content,
    receipt_raw_attachments,
    record_receipt,
    release_receipt_claim,
    renew_receipt_claim,
    sha256_hex,
    unfinished_receipts,
)
from hub.store._bulk import OrderRows, add_events_bulk, enqueue_deliveries_bulk, order_rows, save_orders_bulk
from hub.store._catalogue import (
    CatalogueProduct,
    CustomerCredit,
    PricelistPrice,
    catalogue,
    credit_of,
    pricelist_prices,
    replace_catalogue,
    set_customer_credit,
)
from hub.store._claims import give_up_claim, holder_is_dead, new_claim_token
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
from hub.store._invoices import (
    InvoiceEvent,
    InvoiceState,
    StoredInvoice,
    add_invoice,
    change_invoice,
    count_invoices,
    delivered_order_ids,
    get_invoice,
    held_by_category,
    invoice_events_of,
    invoices_of_order,
    list_invoices,
    open_invoice_exception,
    release_invoice,
)
from hub.store._ledger import interchange_seen, next_control_number, record_interchange
from hub.store._order_states import OrderStatus, SaveAction
from hub.store._orders import (
    SavedOrder,
    StoredOrder,
    add_event,
    cancel_channel_order,
    load_order,
    load_stored_order,
    order_events_of,
    order_revision,
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
    DELIVERY_CLAIM_STALE_AFTER,
    DONE,
    FAILED,
    IN_DOUBT_MARK,
    IN_FLIGHT,
    PENDING,
    SKIPPED,
    WRITE_SETTLE,
    Delivery,
    DeliveryState,
    claim_due_deliveries,
    deliveries_by_state,
    deliveries_claimed_by_run,
    delivery_of,
    enqueue_delivery,
    finish_delivery,
    in_doubt_until,
    requeue_delivery,
)
from hub.store._reconciliation import ExpectedOrders, orders_expected_at
from hub.store._reports import (
    DeliveredRecord,
    StoreCounts,
    deliveries_done_since,
    exception_files,
    store_counts,
)
from hub.store._shipments import (
    FINAL_TRACKING_STATUSES,
    ShipmentRow,
    ShipmentState,
    mark_shipment_bought,
    mark_shipment_buying,
    record_carrier_event,
    record_shipment_created,
    record_tracking,
    shipment_by_reference,
    shipments_of,
    stale_trackers,
)

__all__ = [
    "AWAITING_APPROVAL",
    "DEAD",
    "DELIVERY_CLAIM_STALE_AFTER",
    "DONE",
    "FAILED",
    "FINAL_TRACKING_STATUSES",
    "IN_DOUBT_MARK",
    "IN_FLIGHT",
    "OPEN",
    "PENDING",
    "RECEIPT_CLAIM_STALE_AFTER",
    "REJECTED_BY",
    "REPLAYED",
    "RESOLVED",
    "SKIPPED",
    "WRITE_SETTLE",
    "Approval",
    "ApprovalState",
    "AuditEntry",
    "CatalogueProduct",
    "ClaimLost",
    "CustomerCredit",
    "DeliveredRecord",
    "Delivery",
    "DeliveryState",
    "ExceptionKind",
    "ExceptionState",
    "ExceptionsSince",
    "ExpectedOrders",
    "HubStore",
    "InvoiceEvent",
    "InvoiceState",
    "OrderRows",
    "OrderStatus",
    "OutboundDocument",
    "OutboundState",
    "OverdueOutbound",
    "PricelistPrice",
    "QueuedException",
    "Receipt",
    "ReceiptState",
    "SaveAction",
    "SavedOrder",
    "ShipmentRow",
    "ShipmentState",
    "StoreCounts",
    "StoredInvoice",
    "StoredOrder",
    "add_event",
    "add_events_bulk",
    "add_invoice",
    "approval_history",
    "approval_of_order",
    "archive_raw",
    "archive_raw_file",
    "attach_raw_documents",
    "cancel_channel_order",
    "catalogue",
    "change_invoice",
    "claim_due_deliveries",
    "claim_receipt",
    "close_exception",
    "committed_interchange_rows",
    "count_invoices",
    "count_replay",
    "credit_of",
    "decide_approval",
    "delivered_order_ids",
    "deliveries_by_state",
    "deliveries_claimed_by_run",
    "deliveries_done_since",
    "delivery_of",
    "enqueue_deliveries_bulk",
    "enqueue_delivery",
    "exception_files",
    "exceptions_since",
    "finish_delivery",
    "finish_receipt",
    "get_approval",
    "get_cursor",
    "get_exception",
    "get_invoice",
    "get_outbound",
    "get_receipt",
    "give_back_delivery",
    "give_up_claim",
    "held_by_category",
    "hold_again",
    "hold_order",
    "holder_is_dead",
    "in_doubt_until",
    "interchange_seen",
    "invoice_events_of",
    "invoices_of_order",
    "iter_raw_content",
    "keep_held",
    "list_approvals",
    "list_exceptions",
    "list_invoices",
    "load_order",
    "load_stored_order",
    "make_engine",
    "mark_outbound_failed",
    "mark_outbound_sent",
    "mark_shipment_bought",
    "mark_shipment_buying",
    "migrate",
    "new_claim_token",
    "next_control_number",
    "open_exception",
    "open_exception_ids",
    "open_invoice_exception",
    "order_events_of",
    "order_revision",
    "order_rows",
    "orders_expected_at",
    "outbound_for_receipt",
    "overdue_outbound",
    "pending_outbound",
    "pricelist_prices",
    "processed_receipt_ids",
    "queue_outbound",
    "raw_content",
    "receipt_raw_attachments",
    "record_carrier_event",
    "record_interchange",
    "record_receipt",
    "record_reply",
    "record_shipment_created",
    "record_tracking",
    "release_invoice",
    "release_receipt_claim",
    "renew_receipt_claim",
    "replace_catalogue",
    "requeue_delivery",
    "requeue_outbound",
    "save_channel_order",
    "save_order",
    "save_orders_bulk",
    "set_cursor",
    "set_customer_credit",
    "sha256_hex",
    "shipment_by_reference",
    "shipments_of",
    "stale_trackers",
    "store_counts",
    "stored_version_time",
    "tables",
    "unexplained_receipts",
    "unfinished_receipts",
    "unprocessed_receipt_ids",
    "utcnow",
    "waiting_receipt_ids",
    "writes_in_doubt_until",
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
