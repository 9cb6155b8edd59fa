"""Shipped orders back to their channel: each part of a fulfilment sent once, never twice.

Step by step (the outbox is ``channel_fulfilments``, keyed by our reference):

1. No rows yet: the channel plans the parts (Shopify: one per location; marketplace: one per package)
   and they are committed as ``planned`` before anything is sent, so a retry sends the same thing.
2. A part is committed ``sending`` right before its call, ``sent`` after the answer.
3. A part found ``sending`` (an answer lost, a run that died) is looked up at the channel once
   ``write_settle`` has passed: found, it is recorded ``sent`` and nothing is sent; not found, it is sent.
   Before that it waits (a write in doubt).
4. A part the channel refuses is ``rejected`` and opens a ``<source>_fulfilment_rejected`` exception with the
   channel's message; ``hub exceptions replay`` releases the refused parts (:func:`replay_refused_fulfilment`)
   and the next pass asks the channel again what is open, plans those parts anew and sends them (a part
   already sent keeps its row and is never sent again); the exception closes when that succeeds.

This is an ``OrderTarget`` in shape (``push``, ``cancel``, ``look_up``, ``reconcile``), but it is fed by
the carrier's bought labels, not by the intake's outbox: an order is fulfilled when it ships, not when
it arrives. ``fulfil_shipped_orders`` is the pass the Dagster asset runs.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from canonical.errors import RejectedDocument, RetriableError
from canonical.model import Order
from hub import store as st
from hub.store._fulfilment import (
    REPLAN,
    FulfilmentRow,
    FulfilmentState,
    PlannedPart,
    ShippedOrder,
    delete_fulfilments,
    fulfilments_of,
    mark_fulfilment_planned,
    mark_fulfilment_rejected,
    mark_fulfilment_sending,
    mark_fulfilment_sent,
    plan_fulfilments,
    release_rejected_fulfilments,
    shipped_orders,
)
from hub.targets._protocol import Action, Delivered, Expected, Found, Reconciliation, reconcile_by_look_up
from hub.targets.channel_fulfilment._channels import NOT_PLANNED, NOTHING_OPEN, FulfilmentChannel

_log = logging.getLogger(__name__)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ChannelFulfilmentTarget:
    """A channel account (Shopify store, marketplace seller) as the target of its shipped orders' fulfilments."""

    def __init__(self, channel: FulfilmentChannel, store: st.HubStore, *, partner_id: str,
                 write_settle: dt.timedelta, now: Callable[[], dt.datetime] = _utcnow) -> None:
        self.channel = channel
        self.store = store
        self.partner_id = partner_id
        self.name = f"{channel.source}_fulfilment"
        self.refusal_kind = f"{self.name}_rejected"  # a target's refusals are ``<name>_rejected``
        self.label = channel.label
        self.write_settle = write_settle
        self._now = now

    # -- the OrderTarget shape ------------------------------------------------------------------------

    def push(self, order: Order) -> Delivered:
        """Fulfil the order at its channel if its label is bought (a ``RetriableError`` until it is)."""
        with self.store.transaction() as conn:
            shipped = next((s for s in shipped_orders(conn, self.channel.source, order.partner_id)
                            if s.order_ref == order.source_ref), None)
        if shipped is None:
            raise RetriableError(f"{order.source_ref}: not shipped yet (no bought label with a tracking number)")
        return self.fulfil(order, shipped)

    def cancel(self, order: Order) -> Delivered:
        """A fulfilment is not taken back by the hub: the parcel left; a person cancels it at the channel."""
        with self.store.transaction() as conn:
            rows = fulfilments_of(conn, self.channel.source, order.partner_id, order.source_ref)
        if not any(row.state is FulfilmentState.SENT for row in rows):
            return Delivered(Action.NOT_THERE)
        return Delivered(Action.REFUSED, reason="the order is fulfilled at the channel: cancel it there if needed")

    def look_up(self, partner_id: str, po_numbers: Sequence[str]) -> dict[str, list[Found]]:
        """The fulfilments the channel holds per order id, under the tracking numbers our rows name.

        The parts of one fulfilment (Shopify: one per location) count as one record; more live ones than
        parts planned are handed back one by one, so the reconciliation sees the order doubled.
        """
        found: dict[str, list[Found]] = {}
        for ref in po_numbers:
            with self.store.transaction() as conn:
                rows = fulfilments_of(conn, self.channel.source, partner_id, ref)
            numbers = sorted({row.tracking_number for row in rows})
            held = self.channel.held(ref, numbers) if numbers else []
            live = [h for h in held if h.live]
            parts = sum(1 for row in rows if row.part not in (NOTHING_OPEN, NOT_PLANNED))
            if len(live) > max(1, parts):
                found[ref] = held
            else:
                found[ref] = [Found(record=", ".join(h.record for h in held), live=bool(live))] if held else []
        return found

    def reconcile(self, expected: Expected) -> Reconciliation:
        """Each shipped order held by the channel once (all its parts), none doubled."""
        return reconcile_by_look_up(self, expected)

    # -- fulfilling -------------------------------------------------------------------------------------

    def fulfil(self, order: Order, shipped: ShippedOrder) -> Delivered:
        """Send every part of the order's fulfilment that the channel does not hold yet; each at most once.

        A refusal opens (or refreshes) the order's exception; a fulfilment complete at the channel closes it.
        """
        try:
            delivered = self._fulfil(order, shipped)
        except RejectedDocument as exc:
            reason = exc.reason if exc.reason.startswith(self.label) else (
                f"{self.label} refused the fulfilment of {order.source_ref}: {exc.reason}")
            with self.store.transaction() as conn:
                st.open_exception(conn, channel=self.name, kind=self.refusal_kind, reason=reason, now=self._now(),
                                  partner_id=order.partner_id, order_id=shipped.order_id,
                                  document_ref=order.source_ref, location=exc.location)
            raise
        with self.store.transaction() as conn:
            for queued in st.list_exceptions(conn, order_id=shipped.order_id):
                if queued.kind == self.refusal_kind:
                    st.close_exception(conn, queued.id, state=st.REPLAYED, now=self._now())
        return delivered

    def _fulfil(self, order: Order, shipped: ShippedOrder) -> Delivered:
        source, partner, ref = self.channel.source, order.partner_id, order.source_ref
        with self.store.transaction() as conn:
            rows = fulfilments_of(conn, source, partner, ref)
        if not rows:
            rows = self._plan(order, shipped)
        rows = self._settle_in_doubt(ref, rows)
        released = [row for row in rows if _released(row)]
        if released:  # a replay handed refused parts back: ask the channel again before sending anything
            rows = self._plan(order, shipped, released)
        records: list[str] = []
        sent_now = 0
        for row in rows:
            if row.state is FulfilmentState.SENT:
                records.append(row.channel_record or row.part)
                continue
            if row.state is FulfilmentState.REJECTED:
                raise RejectedDocument(f"{self.label} refused the fulfilment of {ref}: {row.error}",
                                       location=row.reference)
            records.append(self._send(row) or row.part)
            sent_now += 1
        return Delivered(Action.CREATED if sent_now else Action.UNCHANGED, record=", ".join(records),
                         record_id=shipped.tracking_number)

    def _plan(self, order: Order, shipped: ShippedOrder, released: Sequence[FulfilmentRow] = ()) -> list[FulfilmentRow]:
        """Ask the channel what is open and record it as planned parts (``released``: refused parts they replace)."""
        try:
            parts = self.channel.plan(order, shipped)
        except RejectedDocument as exc:
            # Recorded, so the order waits for a person instead of being planned again every pass.
            with self.store.transaction() as conn:
                if not released:
                    released = plan_fulfilments(conn, channel=self.channel.source, partner_id=order.partner_id,
                                                order_ref=order.source_ref, shipment_id=shipped.shipment_id,
                                                tracking_number=shipped.tracking_number, clock=self._now(),
                                                parts=[PlannedPart(part=NOT_PLANNED, reference=f"{order.partner_id}:"
                                                                   f"{order.source_ref}:!", request={})])
                for row in released:
                    mark_fulfilment_rejected(conn, row.id, str(exc), clock=self._now())
            raise
        with self.store.transaction() as conn:
            delete_fulfilments(conn, [row.id for row in released])
            kept = fulfilments_of(conn, self.channel.source, order.partner_id, order.source_ref)
            nothing_open = not parts and not kept
            if nothing_open:  # fulfilled by hand or elsewhere: recorded, so the order is not planned every pass
                parts = [PlannedPart(part=NOTHING_OPEN, reference=f"{order.partner_id}:{order.source_ref}:-",
                                     request={})]
            # A part planned under a reference already used (sent, or in doubt) keeps that row: never sent twice.
            rows = plan_fulfilments(conn, channel=self.channel.source, partner_id=order.partner_id,
                                    order_ref=order.source_ref, shipment_id=shipped.shipment_id,
                                    tracking_number=shipped.tracking_number, parts=parts, clock=self._now())
            if nothing_open:
                for row in rows:
                    if row.part == NOTHING_OPEN and row.state is FulfilmentState.PLANNED:
                        mark_fulfilment_sent(conn, row.id, f"nothing open at {self.label}", clock=self._now())
                rows = fulfilments_of(conn, self.channel.source, order.partner_id, order.source_ref)
        return rows

    def _settle_in_doubt(self, ref: str, rows: list[FulfilmentRow]) -> list[FulfilmentRow]:
        """Parts sent without an answer: wait until they may have landed, then look them up before anything."""
        in_doubt = [row for row in rows if row.state is FulfilmentState.SENDING]
        if not in_doubt:
            return rows
        settles_at = max(row.updated_at for row in in_doubt) + self.write_settle
        if self._now() < settles_at:
            exc = RetriableError(f"{ref}: a fulfilment sent to {self.label} may still land; looking it up later",
                                 retry_after=(settles_at - self._now()).total_seconds())
            exc.write_in_doubt = True
            raise exc
        landed = self.channel.landed(ref, in_doubt)
        with self.store.transaction() as conn:
            for row in in_doubt:
                if row.id in landed:
                    _log.info("%s: fulfilment %s of %s was taken already; not sending again",
                              self.name, row.part, ref)
                    mark_fulfilment_sent(conn, row.id, landed[row.id], clock=self._now())
            return fulfilments_of(conn, self.channel.source, rows[0].partner_id, ref)

    def _send(self, row: FulfilmentRow) -> str | None:
        with self.store.transaction() as conn:  # committed before the call: a lost answer is looked up next time
            mark_fulfilment_sending(conn, row.id, clock=self._now())
        try:
            record = self.channel.send(row)
        except RejectedDocument as exc:
            with self.store.transaction() as conn:
                mark_fulfilment_rejected(conn, row.id, str(exc), clock=self._now())
            raise
        except RetriableError as exc:
            if not exc.write_in_doubt:  # refused before it was processed (throttled, unreachable): send again
                with self.store.transaction() as conn:
                    mark_fulfilment_planned(conn, row.id, str(exc), clock=self._now())
            else:
                exc.retry_after = max(exc.retry_after or 0.0, self.write_settle.total_seconds())
            raise
        with self.store.transaction() as conn:
            mark_fulfilment_sent(conn, row.id, record, clock=self._now())
        return record


@dataclass
class FulfilmentPass:
    """What one pass over a channel account's shipped orders did."""

    fulfilled: int = 0
    unchanged: int = 0
    rejected: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)  # a write in doubt, or the channel unreachable

    def metadata(self) -> dict[str, int | str]:
        """Counts for the asset's materialization (order ids only, no customer data)."""
        return {"fulfilled": self.fulfilled, "unchanged": self.unchanged, "rejected": len(self.rejected),
                "waiting": len(self.waiting), "rejected_orders": ", ".join(self.rejected[:20])}


def fulfil_shipped_orders(target: ChannelFulfilmentTarget, *, limit: int = 200) -> FulfilmentPass:
    """Fulfil every shipped order of the target's account not fulfilled yet (up to ``limit`` a pass)."""
    result = FulfilmentPass()
    with target.store.transaction() as conn:
        todo = shipped_orders(conn, target.channel.source, target.partner_id, unfinished_only=True, limit=limit)
        orders = [(shipped, st.load_order(conn, shipped.order_id)) for shipped in todo]
    for shipped, order in orders:
        try:
            delivered = target.fulfil(order, shipped)
        except RejectedDocument as exc:
            _log.warning("%s: %s", target.name, exc)
            result.rejected.append(shipped.order_ref)
            continue
        except RetriableError as exc:
            _log.info("%s: %s", target.name, exc)
            result.waiting.append(shipped.order_ref)
            continue
        if delivered.action is Action.CREATED:
            result.fulfilled += 1
        else:
            result.unchanged += 1
    return result


@dataclass(frozen=True)
class FulfilmentCheck:
    """Shipped orders of an account against their fulfilment rows."""

    shipped: int
    fulfilled: int
    missing: list[str]  # nothing sent (or not every part)
    rejected: list[str]
    in_doubt: list[str]

    @property
    def passed(self) -> bool:
        """Every shipped order fulfilled at its channel."""
        return not (self.missing or self.rejected or self.in_doubt)


def check_fulfilments(store: st.HubStore, source: str, partner_id: str) -> FulfilmentCheck:
    """Every open shipped order of the account has every part of its fulfilment sent (from the store)."""
    missing, rejected, in_doubt, fulfilled = [], [], [], 0
    with store.transaction() as conn:
        shipped = shipped_orders(conn, source, partner_id, limit=100_000)
        for order in shipped:
            states = {row.state for row in fulfilments_of(conn, source, partner_id, order.order_ref)}
            if FulfilmentState.REJECTED in states:
                rejected.append(order.order_ref)
            elif FulfilmentState.SENDING in states:
                in_doubt.append(order.order_ref)
            elif not states or states != {FulfilmentState.SENT}:
                missing.append(order.order_ref)
            else:
                fulfilled += 1
    return FulfilmentCheck(len(shipped), fulfilled, sorted(missing), sorted(rejected), sorted(in_doubt))


def _released(row: FulfilmentRow) -> bool:
    return row.state is FulfilmentState.PLANNED and bool(row.request.get(REPLAN))


def replay_refused_fulfilment(store: st.HubStore, queued: st.QueuedException, *,
                              now: dt.datetime) -> tuple[bool, str]:
    """Release the refused parts a ``<source>_fulfilment_rejected`` exception is about, for the next pass to replan.

    Nothing is sent here: the account's fulfilment asset asks the channel what is still open, plans
    those parts anew and sends them; the parts sent before keep their rows, so none goes twice.
    """
    source = queued.channel.removesuffix("_fulfilment")
    if queued.partner_id is None or queued.document_ref is None:
        return False, "the exception names no order: resolve it by hand"
    with store.transaction() as conn:
        released = release_rejected_fulfilments(conn, source, queued.partner_id, queued.document_ref,
                                                note=f"released by the replay of exception {queued.id}", clock=now)
    if not released:
        return False, f"order {queued.document_ref} has no refused fulfilment part left at {source}"
    return True, (f"{released} refused part(s) of order {queued.document_ref} released: the next "
                  f"{source}_fulfilments_{queued.partner_id} run asks {source} again what is open and sends it "
                  "(parts sent before are never sent again); this exception closes when it succeeds")


def is_fulfilment_refusal(kind: str) -> bool:
    """Whether an exception kind is a channel fulfilment target's refusal."""
    return kind in (st.ExceptionKind.SHOPIFY_FULFILMENT_REJECTED, st.ExceptionKind.AMAZON_FULFILMENT_REJECTED)
