"""Every accepted production order exists exactly once in the ERP."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select

from hub import store as st


class SaleOrderCounts(Protocol):
    """What the check needs of an ERP (``connectors.erp.OdooSalesGateway`` provides it)."""

    def sale_order_refs(self, client_order_refs: list[str], *, partner_id: str | None = None) -> Counter[str]: ...


@dataclass(frozen=True)
class ErpReconciliation:
    """The result: missing and doubled PO numbers, sorted."""

    expected: int
    found: int
    missing: list[str]
    doubled: dict[str, int]

    @property
    def passed(self) -> bool:
        return not self.missing and not self.doubled


def reconcile_erp_orders(store: st.HubStore, erp: SaleOrderCounts) -> ErpReconciliation:
    """Compare the store's open production orders meant for the ERP with the ERP's sale orders, by partner and PO number.

    Missing and doubled orders are named ``partner:PO`` when more than one partner is involved,
    else by the bare PO number.
    """
    orders = st.tables.orders
    with store.transaction() as conn:
        rows = conn.execute(
            select(orders.c.partner_id, orders.c.source_ref)
            .where((orders.c.status == "open") & orders.c.is_test.is_(False) & orders.c.not_pushed_reason.is_(None))
            .order_by(orders.c.partner_id, orders.c.source_ref)
        ).all()
    by_partner: dict[str, list[str]] = defaultdict(list)
    for partner_id, ref in rows:
        by_partner[partner_id].append(ref)
    missing, doubled, found = [], {}, 0
    for partner_id, refs in by_partner.items():
        counts = erp.sale_order_refs(refs, partner_id=partner_id)
        found += sum(counts[ref] for ref in refs)
        missing += [(partner_id, ref) for ref in refs if counts.get(ref, 0) == 0]
        doubled.update({(partner_id, ref): counts[ref] for ref in refs if counts.get(ref, 0) > 1})
    label = (lambda p, r: f"{p}:{r}") if len(by_partner) > 1 else (lambda p, r: r)
    return ErpReconciliation(
        expected=len(rows),
        found=found,
        missing=sorted(label(p, r) for p, r in missing),
        doubled={label(p, r): n for (p, r), n in sorted(doubled.items())},
    )
