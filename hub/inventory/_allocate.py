"""Allocation, pure: choose a warehouse per order line against ATP and apply the partner's shortage policy.

No database here: :class:`Allocator` holds the ATP per (SKU, warehouse) in memory and takes it down
as it allocates, so a batch of orders (or the benchmark's 10,000) costs dictionary lookups.

Which warehouse: stock first. Among the warehouses whose ATP covers the whole line, the partner's
preferred warehouse, else the nearest, else the first in the ERP's warehouse order; when none
covers it, the one with the most ATP (ties: preferred, nearest, ERP order). "Nearest" is
deliberately simple: a warehouse in the ship-to's state or province (same country) is nearer than
one elsewhere in the ship-to's country, which is nearer than one abroad; no distances, no carrier
zones. A line is never split across warehouses.

A line short of stock follows the partner's ``inventory.shortage`` (``available`` is the chosen
warehouse's ATP, at least 0; ``ship date``: its next receipt after the horizon, else today +
``backorder_days``):

| policy | allocated | 855 ACKs |
|---|---|---|
| ``backorder`` | available (held for the line) | IB ordered, ship date |
| ``ship_partial`` | available | IA available + IB the rest, ship date (IB alone when none) |
| ``reduce`` | available | IQ available (IR ordered when none) |
| ``reject_line`` | 0 | IR ordered |
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from mappings.profiles import InventoryPolicy
from mappings.x12.outbound import LineDecision, LineStatus

ZERO = Decimal(0)


class Outcome(StrEnum):
    """What allocation did with a line (``stock_allocations.outcome``)."""

    ALLOCATED = "allocated"
    """All of it from ATP: accepted as ordered."""
    BACKORDERED = "backordered"
    PARTIAL = "partial"
    REDUCED = "reduced"
    REJECTED = "rejected"
    NOT_STOCKED = "not_stocked"
    """No warehouse knows the SKU (a service, a SKU the ERP does not stock): nothing allocated, nothing guessed."""


@dataclass(frozen=True)
class Site:
    """A warehouse as allocation sees it: its code, where it is, its place in the ERP's order."""

    code: str
    country: str | None = None
    region: str | None = None
    sequence: int = 0


@dataclass(frozen=True)
class LineDemand:
    """One order line to allocate."""

    line_no: str
    sku: str | None
    quantity: Decimal


@dataclass(frozen=True)
class OrderDemand:
    """One order revision to allocate: its lines and where it ships."""

    order_id: int
    revision: int
    partner_id: str
    lines: tuple[LineDemand, ...]
    country: str | None = None
    region: str | None = None


@dataclass(frozen=True)
class Allocation:
    """The decision for one line."""

    order_id: int
    revision: int
    line_no: str
    sku: str | None
    warehouse: str | None
    ordered: Decimal
    allocated: Decimal
    policy: str
    outcome: Outcome
    ship_date: dt.date | None = None

    def decisions(self) -> tuple[LineDecision, ...]:
        """The 855 ACKs of this line; empty means accepted as ordered (the builder's default)."""
        short = self.ordered - self.allocated
        if self.outcome is Outcome.BACKORDERED:
            return (LineDecision(LineStatus.BACKORDERED, self.ordered, self.ship_date),)
        if self.outcome is Outcome.PARTIAL:
            later = LineDecision(LineStatus.BACKORDERED, short, self.ship_date)
            return (LineDecision(LineStatus.ACCEPTED, self.allocated), later) if self.allocated > 0 else (later,)
        if self.outcome is Outcome.REDUCED:
            return (LineDecision(LineStatus.QUANTITY_CHANGED, self.allocated),)
        if self.outcome is Outcome.REJECTED:
            return (LineDecision(LineStatus.REJECTED, self.ordered),)
        return ()


def nearness(site: Site, country: str | None, region: str | None) -> int:
    """2: same state/province, 1: same country, 0: elsewhere or unknown."""
    if not country or not site.country or site.country.upper() != country.upper():
        return 0
    return 2 if region and site.region and site.region.upper() == region.upper() else 1


@dataclass
class Allocator:
    """ATP per (SKU, warehouse) in memory, taken down by each allocation."""

    sites: Mapping[str, Site]
    atp: dict[tuple[str, str], Decimal]
    next_receipt: Mapping[tuple[str, str], dt.date] = field(default_factory=dict)
    today: dt.date = field(default_factory=dt.date.today)
    _by_sku: dict[str, list[str]] = field(init=False, default_factory=dict)
    _near: dict[tuple[str, str | None, str | None], int] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        for sku, code in self.atp:
            if code in self.sites:
                self._by_sku.setdefault(sku, []).append(code)

    def give_back(self, allocations: Iterable[Allocation]) -> None:
        """Return earlier allocations' quantities (an order replaced or re-allocated)."""
        for allocation in allocations:
            if allocation.sku and allocation.warehouse:
                key = (allocation.sku, allocation.warehouse)
                self.atp[key] = self.atp.get(key, ZERO) + allocation.allocated

    def allocate(self, order: OrderDemand, policy: InventoryPolicy) -> list[Allocation]:
        """Allocate every line of ``order`` (ATP goes down as it goes)."""
        return [self._line(order, line, policy) for line in order.lines]

    def _line(self, order: OrderDemand, line: LineDemand, policy: InventoryPolicy) -> Allocation:
        codes = self._by_sku.get(line.sku or "", [])
        if not codes or line.quantity <= 0:
            return Allocation(order.order_id, order.revision, line.line_no, line.sku, None, line.quantity, ZERO,
                              policy.shortage, Outcome.NOT_STOCKED)
        sku = line.sku or ""

        def place(code: str) -> tuple[bool, int, int]:
            key = (code, order.country, order.region)
            near = self._near.get(key)
            if near is None:
                near = self._near[key] = nearness(self.sites[code], order.country, order.region)
            return (code == policy.preferred_warehouse, near, -self.sites[code].sequence)

        fillers = [code for code in codes if self.atp[sku, code] >= line.quantity]
        if fillers:
            code = max(fillers, key=place)
        else:  # short everywhere: where the most is, so the most ships
            code = max(codes, key=lambda c: (self.atp[sku, c], place(c)))
        available = max(ZERO, min(self.atp[sku, code], line.quantity))
        if available >= line.quantity:
            outcome, allocated, ship_date = Outcome.ALLOCATED, line.quantity, None
        else:
            ship_date = self.next_receipt.get((sku, code)) or self.today + dt.timedelta(days=policy.backorder_days)
            outcome, allocated = {
                "backorder": (Outcome.BACKORDERED, available),
                "ship_partial": (Outcome.PARTIAL, available),
                "reduce": (Outcome.REDUCED if available > 0 else Outcome.REJECTED, available),
                "reject_line": (Outcome.REJECTED, ZERO),
            }[policy.shortage]
            if outcome not in (Outcome.BACKORDERED, Outcome.PARTIAL):
                ship_date = None
        self.atp[sku, code] -= allocated
        return Allocation(order.order_id, order.revision, line.line_no, line.sku, code, line.quantity, allocated,
                          policy.shortage, outcome, ship_date)
