"""Pushing accepted orders to the ERP from the outbox: idempotent, retried with backoff, dead-lettered."""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass
from typing import Protocol

from hub import store as st
from hub.errors import ConfigurationError, RejectedDocument, RetriableError
from hub.intake import ERP_TARGET
from hub.model import Order

log = logging.getLogger(__name__)


class PushedSaleOrder(Protocol):
    sale_order_id: int
    name: str
    created: bool


class SalesOrderTarget(Protocol):
    """What delivery needs of an ERP (``connectors.erp.OdooSalesGateway`` provides it)."""

    def push_sale_order(self, order: Order, *, client_order_ref: str) -> PushedSaleOrder: ...


@dataclass
class PushSummary:
    """What one push pass did."""

    pushed: int = 0
    already_present: int = 0
    retrying: int = 0
    dead: int = 0

    @property
    def attempted(self) -> int:
        return self.pushed + self.already_present + self.retrying + self.dead


def erp_reference(order: Order) -> str:
    """The reference the ERP knows our order by (``client_order_ref``): the customer's PO number."""
    return order.source_ref


def backoff(attempt: int, retry_after: float | None = None, *, base: float = 30.0, cap: float = 3600.0) -> float:
    """Seconds to wait before attempt ``attempt + 1``: the server's hint, else exponential with full jitter."""
    if retry_after is not None:
        return max(0.0, retry_after)
    return random.uniform(0, min(cap, base * 2 ** (attempt - 1)))


def push_due_orders(
    store: st.HubStore, target: SalesOrderTarget, *, max_attempts: int = 5, limit: int = 500,
    now: dt.datetime | None = None,
) -> PushSummary:
    """Push every due outbox row for the ERP once. A configuration error stops the pass (and is raised)."""
    now = now or st.utcnow()
    summary = PushSummary()
    with store.transaction() as conn:
        deliveries = st.claim_due_deliveries(conn, target=ERP_TARGET, now=now, limit=limit)
    for index, delivery in enumerate(deliveries):
        with store.transaction() as conn:
            order = st.load_order(conn, delivery.order_id)
        try:
            result = target.push_sale_order(order, client_order_ref=erp_reference(order))
        except ConfigurationError:
            _release(store, deliveries[index:], now)
            raise
        except RejectedDocument as exc:
            _dead(store, delivery, now, kind="erp_rejected", reason=f"the ERP refused the order: {exc.reason}")
            summary.dead += 1
            continue
        except RetriableError as exc:
            if delivery.attempts >= max_attempts:
                _dead(store, delivery, now, kind="erp_unreachable",
                      reason=f"gave up after {delivery.attempts} attempts: {exc}")
                summary.dead += 1
            else:
                wait = backoff(delivery.attempts, exc.retry_after)
                with store.transaction() as conn:
                    st.finish_delivery(conn, delivery.id, state=st.FAILED, now=now, error=str(exc),
                                       next_attempt_at=now + dt.timedelta(seconds=wait))
                summary.retrying += 1
            continue
        with store.transaction() as conn:
            st.finish_delivery(conn, delivery.id, state=st.DONE, now=now, external_ref=result.name,
                               external_id=str(result.sale_order_id))
            st.add_event(conn, delivery.order_id, "pushed",
                         {"target": ERP_TARGET, "sale_order": result.name, "created": result.created}, now=now)
            for queued in st.list_exceptions(conn, state=st.OPEN, limit=10_000):
                if queued.order_id == delivery.order_id and queued.kind.startswith("erp_"):
                    st.close_exception(conn, queued.id, state=st.REPLAYED, now=now)
        if result.created:
            summary.pushed += 1
        else:
            summary.already_present += 1
    return summary


def _dead(store: st.HubStore, delivery: st.Delivery, now: dt.datetime, *, kind: str, reason: str) -> None:
    with store.transaction() as conn:
        st.finish_delivery(conn, delivery.id, state=st.DEAD, now=now, error=reason)
        st.open_exception(conn, channel="erp", kind=kind, reason=reason, order_id=delivery.order_id, now=now)
    log.warning("ERP delivery %s dead-lettered (%s)", delivery.id, kind)


def _release(store: st.HubStore, deliveries: list[st.Delivery], now: dt.datetime) -> None:
    """Give claimed rows back untouched (attempt not counted) when the pass cannot run at all."""
    with store.transaction() as conn:
        for delivery in deliveries:
            st.finish_delivery(conn, delivery.id, state=st.FAILED, now=now, error="ERP configuration error",
                               next_attempt_at=now)
            conn.execute(
                st.tables.outbox.update()
                .where(st.tables.outbox.c.id == delivery.id)
                .values(attempts=delivery.attempts - 1)
            )
