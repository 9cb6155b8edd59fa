"""Every accepted production order exists exactly once in the ERP, and a cancelled one is cancelled there."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import select

from hub import store as st

# Odoo's sale.order state of a cancelled sale order; every other state is a live one.
ERP_CANCELLED = "cancel"


class SaleOrderStates(Protocol):
    """What the check needs of an ERP (``connectors.erp.OdooSalesGateway`` provides it)."""

    def sale_order_states(self, client_order_refs: list[str], *, partner_id: str | None = None) -> dict[str, list[str]]: ...


# The name this protocol had when the check only counted sale orders.
SaleOrderCounts = SaleOrderStates


@dataclass(frozen=True)
class ErpReconciliation:
    """The result, each list sorted.

    ``missing``: open orders with no sale order; ``doubled``: open orders with more than one live
    sale order (how many); ``cancelled_in_erp``: open orders whose only sale orders are cancelled;
    ``not_cancelled``: cancelled orders whose sale order is still live.
    """

    expected: int
    found: int
    missing: list[str]
    doubled: dict[str, int]
    cancelled_in_erp: list[str] = field(default_factory=list)
    not_cancelled: list[str] = field(default_factory=list)
    cancelled_expected: int = 0

    @property
    def passed(self) -> bool:
        return not (self.missing or self.doubled or self.cancelled_in_erp or self.not_cancelled)


def reconcile_erp_orders(store: st.HubStore, erp: SaleOrderStates) -> ErpReconciliation:
    """Compare the store's production orders meant for the ERP with the ERP's sale orders, by partner and PO number.

    Open orders must have exactly one live sale order; cancelled ones none (a cancelled sale order,
    or none at all when the order was cancelled before it reached the ERP). A cancelled order that
    never had a delivery queued is not looked up. Orders are named ``partner:PO`` when more than one
    partner is involved, else by the bare PO number.
    """
    orders, outbox = st.tables.orders, st.tables.outbox
    production = orders.c.is_test.is_(False) & orders.c.not_pushed_reason.is_(None)
    with store.transaction() as conn:
        open_rows = conn.execute(
            select(orders.c.partner_id, orders.c.source_ref)
            .where((orders.c.status == "open") & production)
            .order_by(orders.c.partner_id, orders.c.source_ref)
        ).all()
        cancelled_rows = conn.execute(
            select(orders.c.partner_id, orders.c.source_ref)
            .where((orders.c.status == "cancelled") & production)
            .where(select(outbox.c.id).where(outbox.c.order_id == orders.c.id).exists())
            .order_by(orders.c.partner_id, orders.c.source_ref)
        ).all()
    wanted: dict[str, dict[str, bool]] = defaultdict(dict)  # partner -> PO -> should be live
    for partner_id, ref in open_rows:
        wanted[partner_id][ref] = True
    for partner_id, ref in cancelled_rows:
        wanted[partner_id][ref] = False

    missing, doubled, cancelled_in_erp, not_cancelled, found = [], {}, [], [], 0
    for partner_id, refs in wanted.items():
        states = erp.sale_order_states(list(refs), partner_id=partner_id)
        for ref, should_be_live in refs.items():
            present = states.get(ref, [])
            live = sum(1 for state in present if state != ERP_CANCELLED)
            key = (partner_id, ref)
            if should_be_live:
                found += len(present)
                if not present:
                    missing.append(key)
                elif live == 0:
                    cancelled_in_erp.append(key)
                elif live > 1:
                    doubled[key] = live
            elif live:
                not_cancelled.append(key)
    label = (lambda p, r: f"{p}:{r}") if len(wanted) > 1 else (lambda p, r: r)
    return ErpReconciliation(
        expected=len(open_rows),
        found=found,
        missing=sorted(label(p, r) for p, r in missing),
        doubled={label(p, r): n for (p, r), n in sorted(doubled.items())},
        cancelled_in_erp=sorted(label(p, r) for p, r in cancelled_in_erp),
        not_cancelled=sorted(label(p, r) for p, r in not_cancelled),
        cancelled_expected=len(cancelled_rows),
    )
