"""Shopify backfills through a bulk query: every order updated since a date, stored as the sync stores it.

The JSONL file is downloaded to a temporary file (never whole in memory), archived raw in chunks
with the shop's ``ianaTimezone`` answer linked to its receipt, then each re-assembled order is
mapped by the sync's own mapping (``mappings.shopify.map_shopify_order``, the shop's zone) and
stored by the sync's own code (``hub.intake.apply_mapped_orders``). Orders are versions keyed by
``source_ref`` and ``updated_at``, so a backfill over orders the sync stored changes nothing,
and a second backfill neither. The sync's cursor is not moved: a backfill reads the past.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from canonical.errors import ConfigurationError, RejectedDocument
from canonical.outcomes import ReceiptOutcome
from connectors.shopify import BulkOperation, ShopifyBulk, ShopifyClient, assemble_orders
from connectors.shopify._bulk import iter_lines
from hub import store as st
from hub.intake import ChannelSummary, MappedOrderLike, apply_mapped_orders
from hub.targets import delivery_targets
from hub.validation import gated
from mappings.profiles import PartnerDirectory, PartnerProfile

CHANNEL = "shopify"
"""Bulk files are receipts of the Shopify channel, like the sync's pages (replayed the same way)."""
BULK_MARK = " bulk gid://shopify/BulkOperation/"


@dataclass
class BackfillResult:
    """What one backfill did."""

    operation: BulkOperation
    summary: ChannelSummary
    bytes: int = 0
    receipt_id: int | None = None

    def describe(self) -> str:
        """One line for a person."""
        s = self.summary
        return (f"bulk operation {self.operation.id} {self.operation.status}: {self.bytes} bytes, "
                f"{self.operation.object_count or 0} objects; orders {s.orders_new} new, {s.orders_updated} updated, "
                f"{s.orders_unchanged} unchanged, {len(s.exceptions)} exceptions")


def is_bulk_receipt(receipt: st.Receipt) -> bool:
    """Whether a Shopify receipt is a bulk JSONL file (rather than a page or a webhook body)."""
    return BULK_MARK in receipt.source_name


def backfill_orders(store: st.HubStore, client: ShopifyClient, profile: PartnerProfile, *, since: dt.datetime,
                    max_bytes: int, bulk: ShopifyBulk | None = None, now: dt.datetime | None = None,
                    work_dir: Path | None = None) -> BackfillResult:
    """Run a bulk query for ``profile``'s store (orders updated since ``since``), wait, download, archive, store."""
    if profile.shopify is None:
        raise ConfigurationError(f"partner {profile.id!r} has no shopify channel")
    bulk = bulk or ShopifyBulk(client)
    now = now or st.utcnow()
    zone_answer = bulk.shop_timezone_answer()
    operation = bulk.wait(bulk.start_orders(since).id)
    summary = ChannelSummary()
    if operation.url is None:  # Shopify gives no file when the query matched nothing
        return BackfillResult(operation, summary)
    with tempfile.TemporaryDirectory(prefix="hub-shopify-bulk-", dir=work_dir) as folder:
        path = Path(folder) / "orders.jsonl"
        size = bulk.download(operation.url, path, max_bytes=max_bytes)
        source_name = f"{client.graphql_path}{BULK_MARK}{operation.id.rsplit('/', 1)[-1]} since {since.isoformat()}"
        with store.transaction() as conn:
            zone_sha = st.archive_raw(conn, zone_answer, now=now)
            sha = st.archive_raw_file(conn, path, now=now)  # raw, in chunks, before anything parses it
            receipt = st.record_receipt(conn, channel=CHANNEL, partner_id=profile.id, source_name=source_name,
                                        raw_sha256=sha, now=now)
            st.attach_raw_documents(conn, receipt.id, [zone_sha])
            receipt = st.get_receipt(conn, receipt.id, for_update=True)
            if receipt.state != st.ReceiptState.PROCESSED:
                summary = _store(conn, receipt, iter_lines(path), zone_answer, profile, now)
            summary.pages += 1
    return BackfillResult(operation, summary, size, receipt.id)


def map_bulk_again(store: st.HubStore, partners: PartnerDirectory, receipt_id: int, *, now: dt.datetime) -> str:
    """An archived bulk file mapped again (replay), from the archive alone."""
    with store.transaction() as conn:
        receipt = st.get_receipt(conn, receipt_id, for_update=True)
        attached = st.receipt_raw_attachments(conn, receipt_id)
        zone_answer = st.raw_content(conn, attached[0]) if attached else b"{}"
        earlier = st.list_exceptions(conn, receipt_id=receipt.id, limit=10_000)
        summary = _store(conn, receipt, _archived_lines(conn, receipt.raw_sha256), zone_answer,
                         partners.get(receipt.partner_id), now)
        failing = set(summary.exceptions)
        for queued in earlier:
            if queued.id in failing:
                st.count_replay(conn, queued.id, now=now)
            else:
                st.close_exception(conn, queued.id, state=st.REPLAYED, now=now)
    return f"mapped again: {summary.orders_new} new, {summary.orders_updated} updated"


def _store(conn: Any, receipt: st.Receipt, lines: Any, zone_answer: bytes, profile: PartnerProfile,
           now: dt.datetime) -> ChannelSummary:
    """Map and store the file's orders one by one; a file that is no bulk orders file goes to the queue whole."""
    from mappings.shopify import map_shopify_order
    from mappings.shopify._graphql import shop_timezone
    from mappings.shopify._payloads import parse_body

    try:
        shop = parse_body(zone_answer).get("data", {}).get("shop") or {}
    except (ValueError, AttributeError):
        shop = {}
    zone = shop_timezone(shop.get("ianaTimezone")) if isinstance(shop, dict) else None

    def mapped() -> Iterator[MappedOrderLike]:
        for n, node in assemble_orders(lines):
            yield map_shopify_order(node, profile=profile, raw_document_id=receipt.raw_sha256,
                                    document_ref=f"line {n}", timezone=zone)

    summary = ChannelSummary()
    try:
        with conn.begin_nested():  # all of the file or nothing of it
            apply_mapped_orders(conn, receipt, mapped(), summary, now=now,
                                targets=gated(delivery_targets(profile), profile))
    except RejectedDocument as exc:
        summary = ChannelSummary()
        summary.exceptions.append(st.open_exception(
            conn, channel=receipt.channel, kind=st.ExceptionKind.REJECTED_DOCUMENT, reason=exc.reason,
            location=exc.location or "$", now=now, partner_id=receipt.partner_id, receipt_id=receipt.id,
            raw_sha256=receipt.raw_sha256))
        st.finish_receipt(conn, receipt.id, outcome=ReceiptOutcome.REJECTED, reason=exc.reason, now=now)
        return summary
    if summary.exceptions:
        st.finish_receipt(conn, receipt.id, outcome=ReceiptOutcome.PARTIALLY_ACCEPTED,
                          reason=f"{len(summary.exceptions)} orders could not be stored", now=now)
    else:
        st.finish_receipt(conn, receipt.id, outcome=ReceiptOutcome.ACCEPTED, reason=None, now=now)
    return summary


def _archived_lines(conn: Any, sha: str) -> Iterator[bytes]:
    """The archived file's lines, read a chunk at a time (a line may span chunks)."""
    rest = b""
    for chunk in st.iter_raw_content(conn, sha):
        *lines, rest = (rest + chunk).split(b"\n")
        yield from lines
    if rest:
        yield rest
