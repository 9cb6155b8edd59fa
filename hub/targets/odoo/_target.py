"""The Odoo ERP as an order target: an order is a sale order, known by the PO number and the partner."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, Protocol

from canonical.errors import RejectedDocument
from canonical.model import Order
from connectors.erp import CANCELLED
from hub.targets._protocol import (
    DEFAULT_BATCH_SIZE,
    Action,
    Delivered,
    Expected,
    Found,
    Reconciliation,
    reconcile_by_look_up,
)
from hub.targets._registry import ERP_TARGET

# How long a write sent without an answer may still commit when the ERP's own setting is not known.
DEFAULT_WRITE_SETTLE = dt.timedelta(minutes=5)


class PushedSaleOrder(Protocol):
    """What a push did: ``action`` is created / updated / unchanged / needs_review (``changes`` and
    ``reason`` say what differs and why it was left alone)."""

    @property
    def sale_order_id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def action(self) -> str: ...
    @property
    def changes(self) -> tuple[str, ...]: ...
    @property
    def reason(self) -> str: ...


class CancelledSaleOrder(Protocol):
    """What a cancellation did: cancelled / already_cancelled / not_in_erp / refused (``reason`` says why)."""

    @property
    def action(self) -> str: ...
    @property
    def sale_order_id(self) -> int | None: ...
    @property
    def name(self) -> str: ...
    @property
    def reason(self) -> str: ...


class SalesOrderTarget(Protocol):
    """What the Odoo target needs of an ERP (``mappings.odoo.OdooSalesGateway`` provides it)."""

    def push_sale_order(self, order: Order, *, client_order_ref: str) -> PushedSaleOrder: ...

    def cancel_sale_order(self, order: Order, *, client_order_ref: str) -> CancelledSaleOrder: ...

    def sale_order_states(self, client_order_refs: list[str], *, partner_id: str | None = None
                          ) -> dict[str, list[str]]: ...


def erp_reference(order: Order) -> str:
    """The reference the ERP knows our order by (``client_order_ref``): the customer's PO number."""
    return order.source_ref


def _delivered(result: PushedSaleOrder) -> Delivered:
    return Delivered(Action(result.action), result.name, str(result.sale_order_id), tuple(result.changes),
                     result.reason)


_CANCEL_ACTIONS = {
    "cancelled": Action.CANCELLED,
    "already_cancelled": Action.ALREADY_CANCELLED,
    "not_in_erp": Action.NOT_THERE,
    "refused": Action.REFUSED,
}


class OdooTarget:
    """Orders as Odoo sale orders, through a sales gateway; the gateway keeps a push exactly-once
    (it looks the reference up before creating and again right after).

    A batching target (``hub.targets.BatchOrderTarget``) when the gateway has ``push_sale_orders``:
    ``batch_size`` orders per batch (one ``create`` call), ``max_in_flight`` batches at once;
    ``confirm`` confirms the sale orders a batch creates (``action_confirm`` on the list).
    """

    record_key = "sale_order"  # names the sale order in the order events' detail

    def __init__(self, gateway: SalesOrderTarget, *, name: str = ERP_TARGET, label: str = "the ERP",
                 write_settle: dt.timedelta = DEFAULT_WRITE_SETTLE, batch_size: int = DEFAULT_BATCH_SIZE,
                 max_in_flight: int = 1, confirm: bool = False) -> None:
        self.gateway = gateway
        self.name, self.label, self.write_settle = name, label, write_settle
        # A gateway without batched pushes (an older one, a test double) takes one order at a time.
        self.batch_size = batch_size if callable(getattr(gateway, "push_sale_orders", None)) else 1
        self.max_in_flight = max_in_flight
        self.confirm = confirm

    def push(self, order: Order) -> Delivered:
        """Create the order's sale order, or make the quotation follow the order's changes."""
        return _delivered(self.gateway.push_sale_order(order, client_order_ref=erp_reference(order)))

    def push_batch(self, orders: Sequence[Order]) -> list[Delivered | RejectedDocument]:
        """Every order's sale order in a few calls (``mappings.odoo`` ``push_sale_orders``); one answer each."""
        push_many: Any = getattr(self.gateway, "push_sale_orders")  # noqa: B009 - optional in SalesOrderTarget
        answers = push_many([(order, erp_reference(order)) for order in orders], confirm=self.confirm)
        return [answer if isinstance(answer, RejectedDocument) else _delivered(answer) for answer in answers]

    def cancel(self, order: Order) -> Delivered:
        """Cancel the order's sale order(s) with Odoo's ``action_cancel``."""
        result = self.gateway.cancel_sale_order(order, client_order_ref=erp_reference(order))
        record_id = None if result.sale_order_id is None else str(result.sale_order_id)
        return Delivered(_CANCEL_ACTIONS[result.action], result.name, record_id, reason=result.reason)

    def look_up(self, partner_id: str, po_numbers: Sequence[str]) -> dict[str, list[Found]]:
        """The partner's sale orders per PO number; a cancelled one is not live."""
        states = self.gateway.sale_order_states(list(po_numbers), partner_id=partner_id)
        return {ref: [Found(record=state, live=state != CANCELLED) for state in states.get(ref, [])]
                for ref in po_numbers}

    def reconcile(self, expected: Expected) -> Reconciliation:
        """Each open order exactly one live sale order; each cancelled one none."""
        return reconcile_by_look_up(self, expected)
