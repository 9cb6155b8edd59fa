"""Every accepted production order exists exactly once in the ERP."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select

from hub import store as st


class SaleOrderCounts(Protocol):
    """What the check needs of an ERP (``connectors.erp.OdooSalesGateway`` provides it)."""

    def sale_order_refs(self, client_order_refs: list[str]) -> Counter[str]: ...


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
    """Compare the store's open production orders with the ERP's sale orders, by PO number."""
    orders = st.tables.orders
    with store.transaction() as conn:
        refs = sorted(
            conn.execute(
                select(orders.c.source_ref).where((orders.c.status == "open") & (orders.c.is_test.is_(False)))
            ).scalars()
        )
    counts = erp.sale_order_refs(refs) if refs else Counter()
    missing = [ref for ref in refs if counts.get(ref, 0) == 0]
    doubled = {ref: counts[ref] for ref in refs if counts.get(ref, 0) > 1}
    return ErpReconciliation(expected=len(refs), found=sum(counts[ref] for ref in refs), missing=missing, doubled=doubled)
