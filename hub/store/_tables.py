"""The hub store's tables (SQLAlchemy Core). Alembic migrations in ``migrations/`` create them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import CursorResult

from hub.store._types import ExactDecimal, UtcDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

TS = UtcDateTime()

# Every inbound byte, content addressed. Insert-only: a trigger refuses UPDATE and DELETE.
raw_documents = Table(
    "raw_documents",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", Integer, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("chunks", Integer, nullable=False, server_default="0"),
    Column("first_seen_at", TS, nullable=False),
)

# One row per arrival of a raw document: who sent it, under which name, and what became of it.
receipts = Table(
    "receipts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(20), nullable=False),
    Column("partner_id", String(63), nullable=False),
    Column("source_name", String(512), nullable=False),
    Column("raw_sha256", String(64), ForeignKey("raw_documents.sha256"), nullable=False),
    Column("received_at", TS, nullable=False),
    Column("state", String(20), nullable=False),
    Column("outcome", String(40)),
    Column("reason", Text),
    Column("processed_at", TS),
    # Who is processing it (compare-and-set, renewed at every batch commit) and how far it got:
    # a run that died is taken over and resumes after the interchanges already committed.
    Column("claim_token", String(120)),
    Column("claimed_at", TS),
    Column("interchanges_done", Integer, nullable=False, server_default=text("0")),
    UniqueConstraint("channel", "partner_id", "source_name", "raw_sha256"),
)

# The interchange ledger: every ISA seen. An accepted one blocks any resend of its control number.
interchanges = Table(
    "interchanges",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("receipt_id", Integer, ForeignKey("receipts.id"), nullable=False),
    Column("partner_id", String(63)),
    Column("sender_qualifier", String(2), nullable=False),
    Column("sender_id", String(15), nullable=False),
    Column("receiver_qualifier", String(2), nullable=False),
    Column("receiver_id", String(15), nullable=False),
    Column("control_number", String(9), nullable=False),
    Column("is_test", Boolean, nullable=False),
    Column("outcome", String(40), nullable=False),
    Column("blocks_resend", Boolean, nullable=False),
    Column("received_at", TS, nullable=False),
    Index(
        "uq_interchanges_sender_control",
        "sender_qualifier",
        "sender_id",
        "control_number",
        unique=True,
        sqlite_where=text("blocks_resend"),
        postgresql_where=text("blocks_resend"),
    ),
)

orders = Table(
    "orders",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(20), nullable=False),
    Column("partner_id", String(63), nullable=False),
    Column("source_ref", String(80), nullable=False),
    Column("purpose", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("order_date", Date, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total", ExactDecimal, nullable=False),
    Column("is_test", Boolean, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("receipt_id", Integer, ForeignKey("receipts.id")),
    Column("raw_sha256", String(64), ForeignKey("raw_documents.sha256")),
    Column("document_ref", String(120)),
    Column("payload", JSON, nullable=False),
    # The channel's own last-modified time of the version stored (API channels): older versions are ignored.
    Column("source_updated_at", TS),
    # Set when the order must not be delivered (test order, fulfilled by the marketplace, held...).
    Column("not_pushed_reason", Text),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    UniqueConstraint("source", "partner_id", "source_ref"),
)

order_lines = Table(
    "order_lines",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("line_no", String(80), nullable=False),
    Column("sku", String(80)),
    Column("gtin", String(80)),
    Column("buyer_part", String(80)),
    Column("description", Text),
    Column("quantity", ExactDecimal, nullable=False),
    Column("uom", String(80), nullable=False),
    Column("unit_price", ExactDecimal),
    Column("amount", ExactDecimal),
)

order_parties = Table(
    "order_parties",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("role", String(20), nullable=False),
    Column("name", Text),
    Column("party_id", String(80)),
    Column("id_qualifier", String(80)),
    Column("address_lines", JSON, nullable=False),
    Column("city", Text),
    Column("region", Text),
    Column("postal_code", String(80)),
    Column("country", String(80)),
)

order_events = Table(
    "order_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("kind", String(40), nullable=False),
    Column("at", TS, nullable=False),
    Column("receipt_id", Integer, ForeignKey("receipts.id")),
    Column("detail", JSON, nullable=False),
)

# Documents (or whole files) that could not be processed, for an operator to fix and replay.
exceptions = Table(
    "exceptions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(20), nullable=False),
    Column("partner_id", String(63)),
    Column("receipt_id", Integer, ForeignKey("receipts.id")),
    Column("raw_sha256", String(64), ForeignKey("raw_documents.sha256")),
    Column("order_id", Integer, ForeignKey("orders.id")),
    Column("document_ref", String(120)),
    Column("kind", String(40), nullable=False),
    Column("reason", Text, nullable=False),
    Column("location", Text),
    Column("state", String(20), nullable=False),
    Column("replays", Integer, nullable=False, server_default="0"),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    Column("resolution", Text),  # how it was handled, when resolved by hand (migration 0003)
    Index("ix_exceptions_state", "state"),
)

# One delivery per (order, target system): pushes are retried, dead-lettered, replayed from here.
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False),
    Column("target", String(40), nullable=False),
    Column("state", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("last_error", Text),
    Column("external_ref", String(200)),
    Column("external_id", String(200)),
    Column("next_attempt_at", TS),
    Column("updated_at", TS, nullable=False),
    Column("claimed_by", String(120)),  # the run pushing it while in_flight: reclaimed when that run is dead
    UniqueConstraint("order_id", "target"),
    Index("ix_outbox_target_state", "target", "state"),
)

# Documents we send to partners (997, TA1, later 855/856/810), written to their SFTP outbound folder.
outbound_documents = Table(
    "outbound_documents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("partner_id", String(63), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("receipt_id", Integer, ForeignKey("receipts.id")),
    Column("control_number", String(9), nullable=False),
    Column("file_name", String(255), nullable=False),
    Column("content", Text, nullable=False),
    Column("state", String(20), nullable=False),
    Column("created_at", TS, nullable=False),
    Column("sent_at", TS),
    UniqueConstraint("partner_id", "control_number"),
)

# Our outbound control numbers, per partner and kind: gap-free, never reused.
control_numbers = Table(
    "control_numbers",
    metadata,
    Column("partner_id", String(63), primary_key=True),
    Column("kind", String(20), primary_key=True),
    Column("last_value", Integer, nullable=False),
)

# How far each API channel account has been read (e.g. Shopify updated_at high-water mark).
sync_cursors = Table(
    "sync_cursors",
    metadata,
    Column("partner_id", String(63), primary_key=True),
    Column("channel", String(20), primary_key=True),
    Column("position", String(200), nullable=False),
    Column("updated_at", TS, nullable=False),
)

# Large raw documents in fixed-size pieces, so a 250 MB file is never held in memory whole.
# raw_documents.content is empty for them and raw_documents.chunks says how many there are.
# Raw documents a receipt needs besides its body (a marketplace page's getOrderItems answers), in
# the order they were read: a page can be mapped again from the archive alone.
receipt_attachments = Table(
    "receipt_attachments",
    metadata,
    Column("receipt_id", Integer, ForeignKey("receipts.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("raw_sha256", String(64), ForeignKey("raw_documents.sha256"), nullable=False),
)

raw_document_chunks = Table(
    "raw_document_chunks",
    metadata,
    Column("sha256", String(64), ForeignKey("raw_documents.sha256"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

# 855s we owe partners that ask for them: one per order revision (PO version), the outbound document
# carrying it, and the partner's 997/999 for it (or its absence past the partner's ack SLA).
po_acknowledgments = Table(
    "po_acknowledgments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("partner_id", String(63), nullable=False),
    Column("reference", String(120), nullable=False),  # ours: 855/<partner>/<PO>/r<revision>
    Column("outbound_id", Integer, ForeignKey("outbound_documents.id"), nullable=False),
    Column("ack_type", String(2), nullable=False),  # BAK02
    Column("group_control", String(9), nullable=False),  # GS06: what the partner's AK102 names
    Column("set_control", String(9), nullable=False),  # ST02: AK202
    Column("ack_due_hours", Integer, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("fa_status", String(1)),  # AK901/AK501 of the partner's 997/999: A, E, P, R
    Column("fa_received_at", TS),
    UniqueConstraint("order_id", "revision"),
    UniqueConstraint("partner_id", "group_control"),
)


# The carrier's outbox: one label per (carrier target, our reference). The EasyPost shipment id is kept
# here BEFORE the label is bought, so a retry after a timeout retrieves the shipment instead of buying again.
carrier_shipments = Table(
    "carrier_shipments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("target", String(40), nullable=False),
    Column("reference", String(200), nullable=False),  # ours, sent as the shipment's `reference`
    Column("partner_id", String(63), nullable=False),
    Column("po_number", String(80), nullable=False),
    Column("mode", String(10), nullable=False),  # test | production: which key bought it
    Column("shipment_id", String(64)),
    Column("state", String(20), nullable=False),  # created | buying | bought
    Column("rate_id", String(64)),
    Column("carrier", String(40)),
    Column("service", String(80)),
    Column("rate", ExactDecimal()),
    Column("tracking_code", String(80)),
    Column("label_url", String(1000)),
    Column("tracker_id", String(64)),
    Column("tracking_status", String(40)),
    Column("tracking_updated_at", TS),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    UniqueConstraint("target", "reference"),
    Index("ix_carrier_shipments_tracker_id", "tracker_id"),
)

# Tracking webhook events already applied, by the carrier's event id: a replayed event changes nothing.
carrier_events = Table(
    "carrier_events",
    metadata,
    Column("event_id", String(100), primary_key=True),
    Column("tracker_id", String(64)),
    Column("received_at", TS, nullable=False),
)


# Invoices and credit notes the hub sends to an accounting target (``hub.accounting``), one row per document
# under our reference; a held one waits here, not in the target, until it is released (issue 13).
invoices = Table(
    "invoices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("target", String(63), nullable=False),
    Column("partner_id", String(63), nullable=False),
    Column("po_number", String(80), nullable=False),
    Column("order_id", Integer, ForeignKey("orders.id")),
    Column("reference", String(200), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("state", String(20), nullable=False),
    Column("lines", JSON, nullable=False),
    Column("amount", ExactDecimal, nullable=False),
    Column("refund_of", String(64)),  # a credit note: the target's record id of the invoice it credits
    Column("findings", JSON, nullable=False),  # the exceptions of the last match (why it is held)
    Column("record", String(64)),
    Column("record_id", String(64)),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    UniqueConstraint("target", "reference"),
    Index("ix_invoices_state", "state"),
    Index("ix_invoices_order", "target", "partner_id", "po_number"),
)

# Every change of an invoice's state: who (a person's name, or ``hub``), when, and why. Insert-only.
invoice_events = Table(
    "invoice_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("invoice_id", Integer, ForeignKey("invoices.id"), nullable=False, index=True),
    Column("at", TS, nullable=False),
    Column("actor", String(120), nullable=False),
    Column("action", String(30), nullable=False),
    Column("from_state", String(20)),
    Column("to_state", String(20), nullable=False),
    Column("note", Text, nullable=False),
)


# Orders held for a person's decision because they broke a validation rule (hub.validation): one
# row per order; the targets it was meant for are kept so an approval queues exactly those.
approvals = Table(
    "approvals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False, unique=True),
    Column("partner_id", String(63), nullable=False),
    Column("source", String(20), nullable=False),
    Column("source_ref", String(80), nullable=False),
    Column("state", String(20), nullable=False),
    Column("findings", JSON, nullable=False),
    Column("targets", JSON, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("decided_at", TS),
    Column("decided_by", String(120)),
    Column("note", Text),
    # What became of the channel's rejection (reply email sent, not sent and why, 855 not available).
    Column("reply", Text),
    Index(None, "state", "created_at"),
)

# Who did what to an approval, when and why: insert-only.
approval_audit = Table(
    "approval_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("approval_id", Integer, ForeignKey("approvals.id"), nullable=False, index=True),
    Column("action", String(20), nullable=False),
    Column("actor", String(120), nullable=False),
    Column("at", TS, nullable=False),
    Column("note", Text),
)

# The ERP's catalogue as last synced: one row per product code (product.product.default_code).
catalogue_products = Table(
    "catalogue_products",
    metadata,
    Column("sku", String(80), primary_key=True),
    Column("name", Text),
    Column("list_price", ExactDecimal),
    Column("currency", String(3)),
    Column("pack_qty", ExactDecimal),
    Column("active", Boolean, nullable=False),
    Column("synced_at", TS, nullable=False),
)

# The ERP's pricelists as last synced (name and currency; per-product prices where the ERP has them).
catalogue_prices = Table(
    "catalogue_prices",
    metadata,
    Column("pricelist", String(120), primary_key=True),
    Column("sku", String(80), primary_key=True),
    Column("currency", String(3), nullable=False),
    Column("price", ExactDecimal),
    Column("synced_at", TS, nullable=False),
)

# Each customer's credit as the ERP knew it at the last sync (res.partner credit_limit and credit).
customer_credit = Table(
    "customer_credit",
    metadata,
    Column("partner_id", String(63), primary_key=True),
    Column("credit_limit", ExactDecimal),
    Column("open_amount", ExactDecimal),
    Column("currency", String(3)),
    Column("synced_at", TS, nullable=False),
)


# 810 invoices we send (one per posted accounting invoice or credit note of a partner with send_810): the
# outbound document that carries it, its GS06/ST02 (what the partner's 997 names), its ack SLA and the 997.
invoices_810 = Table(
    "invoices_810",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("invoice_id", Integer, ForeignKey("invoices.id"), nullable=False, unique=True),
    Column("partner_id", String(63), nullable=False),
    Column("reference", String(220), nullable=False, unique=True),  # ours: 810/<invoice reference>
    Column("outbound_id", Integer, ForeignKey("outbound_documents.id"), nullable=False),
    Column("invoice_number", String(64), nullable=False),  # BIG02
    Column("group_control", String(9), nullable=False),  # GS06: what the partner's AK102 names
    Column("set_control", String(9), nullable=False),  # ST02
    Column("ack_due_hours", Integer, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("fa_status", String(1)),  # AK901/AK501 of the partner's 997/999: A, E, P, R
    Column("fa_received_at", TS),
    UniqueConstraint("partner_id", "group_control"),
)

# Inventory (hub.inventory, docs/inventory.md): the ERP's warehouses and per-warehouse stock as last synced,
# with the ATP computed at that sync; and the hub's allocation of each order line to a warehouse.
stock_warehouses = Table(
    "stock_warehouses",
    metadata,
    Column("code", String(40), primary_key=True),
    Column("erp_id", Integer, nullable=False),
    Column("name", Text),
    Column("country", String(3)),
    Column("region", String(40)),
    Column("synced_at", TS, nullable=False),
)

stock_levels = Table(
    "stock_levels",
    metadata,
    Column("sku", String(80), primary_key=True),
    Column("warehouse", String(40), primary_key=True),
    Column("on_hand", ExactDecimal, nullable=False),
    Column("free_qty", ExactDecimal, nullable=False),
    Column("incoming", ExactDecimal, nullable=False),
    Column("virtual_available", ExactDecimal, nullable=False),
    Column("allocated", ExactDecimal, nullable=False),
    Column("atp", ExactDecimal, nullable=False),
    Column("next_receipt", Date),
    Column("horizon_days", Integer, nullable=False),
    Column("synced_at", TS, nullable=False),
)

stock_allocations = Table(
    "stock_allocations",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("order_id", Integer, ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    Column("revision", Integer, nullable=False),
    Column("line_no", String(80), nullable=False),
    Column("sku", String(80)),
    Column("warehouse", String(40)),
    Column("ordered", ExactDecimal, nullable=False),
    Column("allocated", ExactDecimal, nullable=False),
    Column("policy", String(20), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("ship_date", Date),
    Column("created_at", TS, nullable=False),
    Column("released_at", TS),
    UniqueConstraint("order_id", "line_no"),
    Index("ix_stock_allocations_sku_warehouse", "sku", "warehouse"),
)


# The latest OAuth refresh token of an account whose provider rotates it (QuickBooks Online: a new one on every
# renewal, the old one dead soon after); ``seed_sha256`` fingerprints the token the environment seeded it with,
# so a token an operator sets anew after reconnecting the app wins over the row.
oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    Column("provider", String(40), primary_key=True),
    Column("account", String(120), primary_key=True),
    Column("refresh_token", Text, nullable=False),
    Column("seed_sha256", String(64), nullable=False),
    Column("expires_at", TS),
    Column("rotated_at", TS, nullable=False),
)


# Fulfilments sent back to a channel (Shopify fulfillmentCreate per location, marketplace confirmShipment per
# package) for shipped orders: one row per part under our own reference, written before the call (issue 12).
channel_fulfilments = Table(
    "channel_fulfilments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(20), nullable=False),  # the order's source: shopify | amazon
    Column("partner_id", String(63), nullable=False),
    Column("order_ref", String(80), nullable=False),  # the channel's order id (orders.source_ref)
    Column("reference", String(200), nullable=False),  # ours: partner, order and part
    Column("part", String(120), nullable=False),  # a Shopify location id, a marketplace packageReferenceId
    Column("shipment_id", Integer, ForeignKey("carrier_shipments.id"), nullable=False),
    Column("tracking_number", String(80), nullable=False),
    Column("request", JSON, nullable=False),  # what is sent, planned once (a retry sends the same)
    Column("state", String(20), nullable=False),  # planned | sending | sent | rejected
    Column("channel_record", String(120)),  # the channel's id of the fulfilment, when it gives one
    Column("attempts", Integer, nullable=False),
    Column("error", Text),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
    UniqueConstraint("channel", "reference"),
    Index("ix_channel_fulfilments_order", "channel", "partner_id", "order_ref"),
)


# Shipment lines the three-way match reads (ERP deliveries, ASNs...), in the order line's own unit; one row per
# (source, document, partner, PO, line): recording the same document line again replaces its quantity.
match_shipments = Table(
    "match_shipments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(40), nullable=False),
    Column("document", String(120), nullable=False),
    Column("partner_id", String(63), nullable=False),
    Column("po_number", String(80), nullable=False),
    Column("line_no", String(80), nullable=False),
    Column("sku", String(80), nullable=False),
    Column("quantity", ExactDecimal, nullable=False),
    Column("ship_date", Date, nullable=False),
    Column("recorded_at", TS, nullable=False),
    UniqueConstraint("source", "document", "partner_id", "po_number", "line_no", name="uq_match_shipments_line"),
    Index("ix_match_shipments_po", "partner_id", "po_number"),
)

# One row per run of the daily three-way match (``match_findings`` its exceptions): the partition's history.
match_runs = Table(
    "match_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("business_day", Date, nullable=False, index=True),
    Column("ran_at", TS, nullable=False),
    Column("po_lines", Integer, nullable=False),
    Column("matched", Integer, nullable=False),
    Column("exceptions", Integer, nullable=False),
    Column("value_at_stake", ExactDecimal, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("released", JSON, nullable=False),  # invoice ids this run released (within tolerance)
    Column("report_dir", Text),
)

match_findings = Table(
    "match_findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_id", Integer, ForeignKey("match_runs.id"), nullable=False, index=True),
    Column("category", String(40), nullable=False),
    Column("customer", String(63)),
    Column("po_number", String(200)),
    Column("line_no", String(80)),
    Column("sku", String(80)),
    Column("invoice_number", String(200)),
    Column("variance_pct", ExactDecimal),
    Column("value_at_stake", ExactDecimal),
    Column("detail", Text, nullable=False),
)


# 856 ship notices we send: one per ERP delivery (done stock.picking) of a partner's order, the outbound
# document carrying it, its GS06/ST02 and the SSCC of every carton; ``complete`` once the order shipped in full.
asn_notices = Table(
    "asn_notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("partner_id", String(63), nullable=False),
    Column("order_id", Integer, ForeignKey("orders.id"), nullable=False),
    Column("picking_id", Integer, nullable=False),  # the ERP's stock.picking id
    Column("picking_name", String(80), nullable=False),
    Column("reference", String(200), nullable=False),  # ours: 856/<partner>/<PO>/<picking>
    Column("outbound_id", Integer, ForeignKey("outbound_documents.id"), nullable=False),
    Column("group_control", String(9), nullable=False),
    Column("set_control", String(9), nullable=False),
    Column("ssccs", JSON, nullable=False),
    Column("complete", Boolean, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("fa_status", String(1)),  # AK901/AK501 of the partner's 997/999 for it: A, E, P, R
    Column("fa_received_at", TS),
    UniqueConstraint("partner_id", "picking_id"),
    UniqueConstraint("partner_id", "group_control"),
    Index("ix_asn_notices_order_id", "order_id"),
)


# Stock published to a channel account (Shopify available at one location, marketplace listing quantity):
# the last quantity each SKU was given and the ATP it came from, so a re-run sends only what changed (issue 12).
published_stock = Table(
    "published_stock",
    metadata,
    Column("channel", String(20), primary_key=True),  # shopify | amazon
    Column("partner_id", String(63), primary_key=True),
    Column("sku", String(80), primary_key=True),
    Column("quantity", Integer, nullable=False),  # what the channel was told
    Column("atp", ExactDecimal, nullable=False),  # hub.inventory.atp_by_sku when it was computed
    Column("safety_stock", Integer, nullable=False),
    Column("outcome", String(20), nullable=False),  # set | unchanged | unknown_sku (the channel has no such SKU)
    Column("published_at", TS, nullable=False),
)

def inserted_id(result: CursorResult[Any]) -> Any:
    """The primary key the database gave the one row a single-row INSERT just added."""
    key = result.inserted_primary_key
    # SQLAlchemy types it optional (None for statements that are not an INSERT); ours always are.
    assert key is not None, "not the result of a single-row INSERT"
    return key[0]
