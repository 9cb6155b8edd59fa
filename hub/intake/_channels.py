"""API channels (Shopify, marketplaces): pages archived raw, orders stored as their newest version.

Polling and webhooks can both deliver an order, and overlapping syncs re-read some on purpose
(the lookback window). Each order version is identified by the channel's ``updated_at``: the same
or an older version changes nothing, so every path may deliver the same order any number of times.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Connection
from sqlalchemy.exc import DataError, InterfaceError, OperationalError

from canonical.errors import RejectedDocument
from canonical.model import Order
from canonical.outcomes import MappedOrderState, ReceiptOutcome
from hub import store as st
from hub.intake._x12 import deliver_cancellation, deliver_new_version
from hub.targets import delivery_targets
from hub.validation import admit, gated
from mappings._channel import BAD_ORDER_ERRORS
from mappings.profiles import PartnerDirectory, PartnerProfile

_log = logging.getLogger(__name__)
# What a page that is no order list at all raises in a mapper (bad orders are rejected one by one).
_NOT_AN_ORDER_LIST: tuple[type[BaseException], ...] = (RejectedDocument, *BAD_ORDER_ERRORS)


class MappedOrderLike(Protocol):
    """What a channel mapper returns per order (``mappings._channel.MappedOrder``); read only."""

    @property
    def channel_order_id(self) -> str: ...
    @property
    def updated_at(self) -> dt.datetime | None: ...
    @property
    def order(self) -> Order | None: ...
    @property
    def state(self) -> str: ...  # a MappedOrderState value (test doubles pass plain strings)
    @property
    def problems(self) -> list[str]: ...
    @property
    def push(self) -> bool: ...
    @property
    def reason_not_pushed(self) -> str | None: ...


@dataclass
class ChannelSummary:
    """What a sync or a webhook batch did (shown as Dagster run metadata)."""

    pages: int = 0
    orders_new: int = 0
    orders_updated: int = 0
    orders_unchanged: int = 0
    orders_cancelled: int = 0
    orders_held: int = 0
    orders_not_pushed: int = 0
    orders_rejected: int = 0
    unreadable_pages: int = 0
    exceptions: list[int] = field(default_factory=list)

    def metadata(self) -> dict[str, int]:
        return {
            "pages": self.pages, "orders_new": self.orders_new, "orders_updated": self.orders_updated,
            "orders_unchanged": self.orders_unchanged, "orders_cancelled": self.orders_cancelled,
            "orders_held": self.orders_held, "orders_not_pushed": self.orders_not_pushed,
            "orders_rejected": self.orders_rejected, "unreadable_pages": self.unreadable_pages,
            "exceptions": len(self.exceptions),
        }


# Exception kinds of the API channels: one order that cannot be stored (the rest of its body is),
# and a body that is not even JSON (the sync that met it holds its cursor and reads the window again).
REJECTED_ORDER = st.ExceptionKind.REJECTED_ORDER
UNREADABLE_PAGE = st.ExceptionKind.UNREADABLE_PAGE
# Limits of the exceptions table's columns.
_DOCUMENT_REF_MAX = 120


def store_channel_document(
    store: st.HubStore,
    *,
    channel: str,
    partner_id: str,
    source_name: str,
    raw: bytes,
    map_orders: Callable[[str], Iterable[MappedOrderLike]],
    summary: ChannelSummary,
    attachments: Iterable[bytes] = (),
    profile: PartnerProfile | None = None,
    now: dt.datetime | None = None,
) -> st.Receipt:
    """Archive one raw API body (and the bodies it needs, e.g. order items), then map and store its orders.

    All in one transaction. The bodies it needs are linked to its receipt, in order
    (``receipt_raw_attachments``), so a replay maps it again from the archive alone.
    ``map_orders`` gets the body's sha256 (for the orders' ``raw_document_id``) and yields mapped
    orders; new ones are queued for every target of ``profile`` (``hub.targets.delivery_targets``).
    A receipt already processed is not applied again.
    """
    now = now or st.utcnow()
    with store.transaction() as conn:
        attached = [st.archive_raw(conn, attachment, now=now) for attachment in attachments]
        sha = st.archive_raw(conn, raw, now=now)
        receipt = st.record_receipt(conn, channel=channel, partner_id=partner_id, source_name=source_name,
                                    raw_sha256=sha, now=now)
        st.attach_raw_documents(conn, receipt.id, attached)  # so the body can be mapped again from the archive
        receipt = st.get_receipt(conn, receipt.id, for_update=True)
        summary.pages += 1
        if receipt.state == st.ReceiptState.PROCESSED:
            return receipt
        _map_and_apply(conn, receipt, lambda _raw, sha256, _receipt: map_orders(sha256), summary, now,
                       gated(delivery_targets(profile), profile), raw=raw)
    return receipt


def store_unreadable_page(
    store: st.HubStore, *, channel: str, partner_id: str, source_name: str, raw: bytes, reason: str,
    summary: ChannelSummary, now: dt.datetime | None = None,
) -> st.Receipt:
    """Archive an API answer that cannot be read at all (not JSON, not the documented shape) and queue it.

    Its orders are unknown, so the caller must not move its cursor past them: the next sync reads
    the same window again and :func:`settle_unreadable_pages` closes the exception then.
    """
    now = now or st.utcnow()
    with store.transaction() as conn:
        sha = st.archive_raw(conn, raw, now=now)
        receipt = st.record_receipt(conn, channel=channel, partner_id=partner_id, source_name=source_name,
                                    raw_sha256=sha, now=now)
        receipt = st.get_receipt(conn, receipt.id, for_update=True)
        summary.pages += 1
        summary.unreadable_pages += 1
        summary.exceptions.append(st.open_exception(
            conn, channel=channel, kind=UNREADABLE_PAGE, now=now, partner_id=partner_id, receipt_id=receipt.id,
            raw_sha256=sha, location="$",
            reason=f"{reason}; its orders are read again by the account's next sync (the cursor was held)"))
        if receipt.state != st.ReceiptState.PROCESSED:
            st.finish_receipt(conn, receipt.id, outcome=ReceiptOutcome.REJECTED, reason=reason, now=now)
    return receipt


def settle_unreadable_pages(store: st.HubStore, *, partner_id: str, channel: str,
                            now: dt.datetime | None = None) -> int:
    """Close the account's open ``unreadable_page`` exceptions after a sync that read its whole window.

    The sync that met such a page held the cursor, so this later one started at or before that
    sync's window and read every order the unreadable page could have held.
    """
    now = now or st.utcnow()
    with store.transaction() as conn:
        ids = st.open_exception_ids(conn, kind=UNREADABLE_PAGE, channel=channel, partner_id=partner_id)
        for exception_id in ids:
            st.close_exception(conn, exception_id, state=st.RESOLVED, now=now,
                               note=f"the sync of {now.isoformat()} read the same window again completely")
    return len(ids)


def process_queued_receipt(
    store: st.HubStore, receipt_id: int,
    map_orders: Callable[[bytes, str, st.Receipt], Iterable[MappedOrderLike]],
    summary: ChannelSummary, *, now: dt.datetime | None = None, replay: bool = False,
    partners: PartnerDirectory | None = None,
) -> st.Receipt:
    """Map and store a receipt that was archived earlier (a queued webhook body, an API page); idempotent.

    ``map_orders(raw, sha256, receipt)`` maps the body; a body that is no order at all
    (``RejectedDocument``) goes to the exception queue. ``replay=True`` maps a processed receipt
    again after a fix: versions already stored stay unchanged, and the receipt's exceptions that no
    longer occur are closed. New orders are queued for every target of the receipt's partner in
    ``partners`` (``hub.targets.delivery_targets``).
    """
    now = now or st.utcnow()
    with store.transaction() as conn:
        receipt = st.get_receipt(conn, receipt_id, for_update=True)
        if receipt.state == st.ReceiptState.PROCESSED and not replay:
            return receipt
        earlier = st.list_exceptions(conn, receipt_id=receipt.id, limit=10_000) if replay else []
        already = len(summary.exceptions)
        profile = partners.get(receipt.partner_id) if partners is not None else None
        _map_and_apply(conn, receipt, map_orders, summary, now, gated(delivery_targets(profile), profile))
        still_failing = set(summary.exceptions[already:])
        for queued in earlier:
            if queued.id in still_failing:
                st.count_replay(conn, queued.id, now=now)
            else:
                st.close_exception(conn, queued.id, state=st.REPLAYED, now=now)
    return receipt


def process_queued_receipts(
    store: st.HubStore, receipt_ids: Iterable[int],
    map_orders: Callable[[bytes, str, st.Receipt], Iterable[MappedOrderLike]],
    summary: ChannelSummary, *, now: dt.datetime | None = None, partners: PartnerDirectory | None = None,
) -> list[int]:
    """Process queued receipts one by one; one that fails for a reason nobody foresaw never stops the others.

    Such a receipt is queued as an exception (replayable once the cause is fixed). A database that
    cannot be reached is no receipt's fault: that stops the batch, to be retried as a whole.
    Returns the receipts that failed.
    """
    failed = []
    for receipt_id in receipt_ids:
        try:
            process_queued_receipt(store, receipt_id, map_orders, summary, now=now, partners=partners)
        except (OperationalError, InterfaceError):
            raise
        except Exception as exc:  # noqa: BLE001 - recorded in the exception queue, not swallowed
            # The type only: an exception's text may quote the body's (personal) data.
            _log.error("receipt %s could not be processed (%s); queued as an exception", receipt_id,
                       type(exc).__name__)
            failed.append(receipt_id)
            _queue_failed_receipt(store, receipt_id, type(exc).__name__, summary, now or st.utcnow())
    return failed


def _queue_failed_receipt(store: st.HubStore, receipt_id: int, error: str, summary: ChannelSummary,
                          now: dt.datetime) -> None:
    reason = f"processing failed ({error}); replay it once the cause is fixed"
    with store.transaction() as conn:
        receipt = st.get_receipt(conn, receipt_id, for_update=True)
        summary.exceptions.append(st.open_exception(
            conn, channel=receipt.channel, kind=st.ExceptionKind.REJECTED_DOCUMENT, reason=reason, location="$",
            now=now, partner_id=receipt.partner_id, receipt_id=receipt.id, raw_sha256=receipt.raw_sha256))
        if receipt.state != st.ReceiptState.PROCESSED:
            st.finish_receipt(conn, receipt.id, outcome=ReceiptOutcome.FAILED, reason=reason, now=now)


def _map_and_apply(conn: Connection, receipt: st.Receipt, map_orders, summary: ChannelSummary, now: dt.datetime,
                   targets: Sequence[str], *, raw: bytes | None = None) -> None:
    try:
        if raw is None:
            raw = st.raw_content(conn, receipt.raw_sha256)
        mapped = list(map_orders(raw, receipt.raw_sha256, receipt))
    except _NOT_AN_ORDER_LIST as exc:
        # The mappers reject bad orders one by one; this is a body that is no order list at all
        # (not JSON, not the channel's shape), or a mapper bug: the body is queued, not lost.
        reason = exc.reason if isinstance(exc, RejectedDocument) else \
            f"the body could not be mapped ({type(exc).__name__})"
        location = exc.location if isinstance(exc, RejectedDocument) else "$"
        summary.exceptions.append(st.open_exception(
            conn, channel=receipt.channel, kind=st.ExceptionKind.REJECTED_DOCUMENT, reason=reason, location=location,
            now=now, partner_id=receipt.partner_id, receipt_id=receipt.id, raw_sha256=receipt.raw_sha256))
        st.finish_receipt(conn, receipt.id, outcome=ReceiptOutcome.REJECTED, reason=reason, now=now)
        return
    already = len(summary.exceptions)
    apply_mapped_orders(conn, receipt, mapped, summary, now=now, targets=targets)
    rejected = len(summary.exceptions) - already
    if rejected:
        reason = f"{rejected} of {len(mapped)} orders could not be stored"
        st.finish_receipt(conn, receipt.id, outcome=ReceiptOutcome.PARTIALLY_ACCEPTED, reason=reason, now=now)
    else:
        st.finish_receipt(conn, receipt.id, outcome=ReceiptOutcome.ACCEPTED, reason=None, now=now)


def apply_mapped_orders(
    conn: Connection, receipt: st.Receipt, mapped_orders: Iterable[MappedOrderLike], summary: ChannelSummary,
    *, now: dt.datetime, targets: Sequence[str],
) -> None:
    """Store each mapped order's version; queue deliveries to ``targets``; queue an exception per order that
    cannot be stored.

    Each order is stored in its own savepoint: one the store refuses (a value out of a column's
    range) becomes that order's exception, and its neighbours are stored all the same.
    """
    for mapped in mapped_orders:
        if mapped.state == MappedOrderState.REJECTED or (mapped.order is None and mapped.state != MappedOrderState.HELD
                                          and not getattr(mapped, "cancelled", False)):
            if _superseded(conn, receipt, mapped):
                # A version as new or newer is stored already (the channel sent the fix): nothing lost.
                summary.orders_unchanged += 1
            else:
                _reject(conn, receipt, mapped, _mapping_problems(mapped), summary, now)
            continue
        try:
            with conn.begin_nested():
                _apply_one(conn, receipt, mapped, summary, now, targets)
        except DataError as exc:
            _reject(conn, receipt, mapped, [f"the store refused it ({_store_message(exc)})"], summary, now)


def _apply_one(conn: Connection, receipt: st.Receipt, mapped: MappedOrderLike, summary: ChannelSummary,
               now: dt.datetime, targets: Sequence[str]) -> None:
    if mapped.state == MappedOrderState.HELD:
        # Not complete yet (e.g. a marketplace order without prices or address): its next
        # version, once complete, arrives with a newer updated_at and is stored then.
        summary.orders_held += 1
        return
    if mapped.order is None:
        # Cancelled with nothing left to show (e.g. a marketplace cancelling every item).
        if _cancel_stored(conn, receipt, mapped, now, targets):
            summary.orders_cancelled += 1
        else:
            summary.orders_unchanged += 1
        return
    not_pushed = None if mapped.push else (mapped.reason_not_pushed or "not for delivery")
    assert mapped.updated_at is not None, "only a rejected order lacks its version time"
    saved = st.save_channel_order(conn, mapped.order, source_updated_at=mapped.updated_at,
                                  receipt_id=receipt.id, not_pushed_reason=not_pushed, now=now)
    if saved.action == st.SaveAction.UNCHANGED:
        summary.orders_unchanged += 1
        return
    if saved.action == st.SaveAction.CANCELLED:
        summary.orders_cancelled += 1
        deliver_cancellation(conn, saved.stored_id, now, targets)
        return
    if saved.action == st.SaveAction.CREATED:
        summary.orders_new += 1
    else:
        summary.orders_updated += 1
    if not_pushed:
        summary.orders_not_pushed += 1
        st.add_event(conn, saved.stored_id, "held", {"reason": not_pushed}, receipt_id=receipt.id, now=now)
        return
    if saved.action == st.SaveAction.UPDATED:
        deliver_new_version(conn, saved.stored_id, now, targets)  # each target's copy must follow it
    elif admit(conn, mapped.order, saved.stored_id, targets, now=now):
        for target in targets:
            st.enqueue_delivery(conn, order_id=saved.stored_id, target=target, now=now)


def _superseded(conn: Connection, receipt: st.Receipt, mapped: MappedOrderLike) -> bool:
    """Whether the store holds this order in a version at least as new as the rejected one."""
    if not mapped.channel_order_id or mapped.updated_at is None:
        return False
    stored_at = st.stored_version_time(conn, source=order_source_of(receipt.channel),
                                       partner_id=receipt.partner_id, source_ref=mapped.channel_order_id)
    return stored_at is not None and stored_at >= mapped.updated_at


def _mapping_problems(mapped: MappedOrderLike) -> list[str]:
    """The errors that stopped the order (its warnings and notes are not why it was refused)."""
    findings = getattr(mapped, "findings", None) or []
    errors = [str(p) for p in findings if getattr(p, "severity", "error") == "error"]
    return list(dict.fromkeys(errors or mapped.problems)) or ["the order could not be mapped"]


def _reject(conn: Connection, receipt: st.Receipt, mapped: MappedOrderLike, problems: list[str],
            summary: ChannelSummary, now: dt.datetime) -> None:
    """Queue one order that cannot be stored, pointing at the archived body it came in (for a replay)."""
    findings = [p for p in getattr(mapped, "findings", None) or [] if getattr(p, "severity", "error") == "error"]
    order_ref = mapped.channel_order_id or (findings[0].location if findings else "")
    what = f"{order_source_of(receipt.channel).capitalize()} order {mapped.channel_order_id}".rstrip()
    summary.orders_rejected += 1
    summary.exceptions.append(st.open_exception(
        conn, channel=receipt.channel, kind=REJECTED_ORDER, now=now, partner_id=receipt.partner_id,
        receipt_id=receipt.id, raw_sha256=receipt.raw_sha256,
        document_ref=f"order {order_ref}"[:_DOCUMENT_REF_MAX],
        location="; ".join(dict.fromkeys(p.location for p in findings)) or None,
        reason=f"{what} cannot be stored: {'; '.join(problems)}"))


def _store_message(exc: DataError) -> str:
    """The database's own one-line message (e.g. ``numeric field overflow``), without the values it quotes."""
    diag = getattr(exc.orig, "diag", None)
    primary = getattr(diag, "message_primary", None)
    return primary or type(exc.orig).__name__


def _cancel_stored(conn: Connection, receipt: st.Receipt, mapped: MappedOrderLike, now: dt.datetime,
                   targets: Sequence[str]) -> bool:
    assert mapped.updated_at is not None, "only a rejected order lacks its version time"
    saved = st.cancel_channel_order(
        conn, source=order_source_of(receipt.channel), partner_id=receipt.partner_id,
        source_ref=mapped.channel_order_id, source_updated_at=mapped.updated_at, by=receipt.source_name,
        receipt_id=receipt.id, now=now)
    if saved.action == st.SaveAction.CANCELLED:
        deliver_cancellation(conn, saved.stored_id, now, targets)
    return saved.action == st.SaveAction.CANCELLED


# Receipts' channel -> the orders' source, where they differ (webhook bodies are Shopify orders);
# filled by hub.sources.register_source from each source's replay channels.
_SOURCE_OF: dict[str, str] = {}


def register_order_source(channel: str, order_source: str) -> None:
    """Say that orders archived under the receipt channel ``channel`` have ``order_source`` as their source."""
    _SOURCE_OF[channel] = order_source


def order_source_of(channel: str) -> str:
    """The orders' source of a receipt channel (the channel itself unless a source said otherwise)."""
    import hub.sources  # noqa: F401 - imported here (it imports the intake): the built-in sources register

    return _SOURCE_OF.get(channel, channel)


def sync_window_start(store: st.HubStore, *, partner_id: str, channel: str, lookback: dt.timedelta,
                      initial: dt.datetime) -> dt.datetime:
    """Where the next sync starts reading: the stored high-water mark minus the lookback window."""
    with store.transaction() as conn:
        position = st.get_cursor(conn, partner_id, channel)
    if position is None:
        return initial
    return dt.datetime.fromisoformat(position) - lookback


def advance_cursor(store: st.HubStore, *, partner_id: str, channel: str, newest: dt.datetime | None,
                   now: dt.datetime | None = None) -> str | None:
    """Move the high-water mark to the newest ``updated_at`` read (never backwards)."""
    if newest is None:
        return None
    with store.transaction() as conn:
        position = st.get_cursor(conn, partner_id, channel)
        if position is not None and dt.datetime.fromisoformat(position) >= newest:
            return position
        st.set_cursor(conn, partner_id, channel, newest.isoformat(), now=now or st.utcnow())
    return newest.isoformat()


def waiting_receipts(store: st.HubStore, channel: str) -> list[int]:
    """Receipts of a channel still queued (e.g. webhook bodies), oldest first."""
    with store.transaction() as conn:
        return st.waiting_receipt_ids(conn, channel)
