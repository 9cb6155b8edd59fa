"""Inventory services: stock synced from the ERP, ATP, allocation of orders, the 855's line decisions.

ATP (available to promise) per SKU and warehouse = on hand (Odoo ``qty_available``) - the hub's open
allocations + incoming due within the horizon (Odoo ``incoming_qty`` read with ``to_date`` = now +
horizon). An allocation is open for what its line has not shipped yet as of the snapshot (the
``erp_deliveries`` feed, see ``_store._open_quantities``), so a shipped unit counts once: it left on hand.
Odoo's ``free_qty`` and ``virtual_available`` are kept beside it for people to compare.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Connection

from connectors.erp import OdooStock
from hub import store as st
from hub.inventory._allocate import ZERO, Allocation, Outcome
from hub.inventory._store import (
    StockLevel,
    WarehouseRow,
    allocations_of,
    live_atp,
    load_allocator,
    open_allocations_of_orders,
    order_demand,
    orders_to_allocate,
    replace_allocations,
    replace_stock,
)
from mappings.profiles import InventoryPolicy, PartnerProfile
from mappings.x12.outbound import LineDecision

DEFAULT_HORIZON_DAYS = 7
DEFAULT_POLICY = InventoryPolicy()


@dataclass
class StockSync:
    """What one sync read and computed."""

    warehouses: list[str] = field(default_factory=list)
    levels: int = 0
    skus: int = 0
    negative_atp: int = 0
    rows: list[dict[str, object]] = field(default_factory=list)


@dataclass
class AllocationSummary:
    """What one allocation pass did."""

    orders: int = 0
    lines: dict[str, int] = field(default_factory=dict)
    by_warehouse: dict[str, int] = field(default_factory=dict)

    def add(self, allocations: Iterable[Allocation]) -> None:
        """Count allocated lines by outcome and warehouse."""
        for allocation in allocations:
            self.lines[str(allocation.outcome)] = self.lines.get(str(allocation.outcome), 0) + 1
            if allocation.warehouse and allocation.allocated > 0:
                self.by_warehouse[allocation.warehouse] = self.by_warehouse.get(allocation.warehouse, 0) + 1


def sync_stock(store: st.HubStore, stock: OdooStock, *, horizon_days: int = DEFAULT_HORIZON_DAYS,
               now: dt.datetime | None = None) -> StockSync:
    """Read every warehouse's quantities from the ERP and replace the store's snapshot (one transaction)."""
    now = now or st.utcnow()
    horizon_end = now + dt.timedelta(days=horizon_days)
    summary = StockSync()
    warehouses = stock.warehouses()
    rows = [WarehouseRow(w.code, w.id, w.name, w.country, w.region) for w in warehouses]
    levels: list[StockLevel] = []
    for warehouse in warehouses:
        # The first receipt after the horizon: the date a line short within the horizon can ship.
        after: dict[int, dt.date] = {}
        for move in stock.incoming_moves(warehouse.id):
            if move.date > horizon_end:
                after.setdefault(move.product_id, move.date.date())
        for product in stock.quantities(warehouse.id, to_date=horizon_end):
            levels.append(StockLevel(product.sku, warehouse.code, product.qty_available, product.free_qty,
                                     product.incoming_qty, product.virtual_available, after.get(product.product_id)))
    with store.transaction() as conn:
        summary.rows = replace_stock(conn, rows, levels, horizon_days=horizon_days, now=now)
    summary.warehouses = [w.code for w in warehouses]
    summary.levels = len(levels)
    summary.skus = len({level.sku for level in levels})
    summary.negative_atp = sum(1 for row in summary.rows if isinstance(row["atp"], Decimal) and row["atp"] < 0)
    return summary


def _policies(partners: Iterable[PartnerProfile]) -> dict[str, InventoryPolicy]:
    return {profile.id: profile.inventory for profile in partners}


def allocate_orders(store: st.HubStore, partners: Iterable[PartnerProfile], *, since_days: int = 30,
                    now: dt.datetime | None = None) -> AllocationSummary:
    """Allocate every open order of the last ``since_days`` whose current revision has no allocation yet.

    Idempotent by order line: an allocated revision is never allocated again; a newer revision gives
    its predecessor's quantities back and is allocated anew. Nothing happens before the first stock sync.
    """
    now = now or st.utcnow()
    summary = AllocationSummary()
    policies = _policies(partners)
    with store.transaction() as conn:
        allocator = load_allocator(conn, today=now.date())
        if allocator is None:
            return summary
        demands = orders_to_allocate(conn, since=now - dt.timedelta(days=since_days))
        # Of older revisions, as ATP counts them now (a shipped part is not given back: it left on hand).
        earlier = open_allocations_of_orders(conn, [d.order_id for d in demands])
        allocations: list[Allocation] = []
        for demand in demands:
            allocator.give_back(earlier.get(demand.order_id, ()))
            allocations += allocator.allocate(demand, policies.get(demand.partner_id, DEFAULT_POLICY))
        replace_allocations(conn, [d.order_id for d in demands], allocations, now=now)
    summary.orders = len(demands)
    summary.add(allocations)
    return summary


def allocate_order(conn: Connection, order_id: int, policy: InventoryPolicy, *, now: dt.datetime
                   ) -> list[Allocation]:
    """The allocations of a stored order's current revision, made now if it has none (idempotent); [] while
    no stock was ever synced."""
    demand = order_demand(conn, order_id)
    existing = allocations_of(conn, order_id)
    if existing and all(a.revision == demand.revision for a in existing):
        return existing
    skus = sorted({line.sku for line in demand.lines if line.sku})
    allocator = load_allocator(conn, today=now.date(), skus=skus)
    if allocator is None:
        return []
    allocator.give_back(open_allocations_of_orders(conn, [order_id]).get(order_id, ()))
    allocations = allocator.allocate(demand, policy)
    replace_allocations(conn, [order_id], allocations, now=now)
    return allocations


def line_decisions(conn: Connection, order_id: int, policy: InventoryPolicy, *, now: dt.datetime
                   ) -> dict[str, tuple[LineDecision, ...]]:
    """The 855's ACKs per line number from the order's allocation (made now if needed); lines accepted as
    ordered are left out, so an order with every line in stock (or no stock known) is BAK02 AD as before."""
    decisions = {}
    for allocation in allocate_order(conn, order_id, policy, now=now):
        acks = allocation.decisions()
        if acks:
            decisions[allocation.line_no] = acks
    return decisions


def atp_by_sku(store: st.HubStore) -> dict[str, Decimal]:
    """What may be published per SKU: the sum over warehouses of live ATP, each at least 0.

    Inventory publishing (Shopify ``inventorySetQuantities``, marketplace listings, EDI 846) takes
    its quantities from here (less its safety stock), so published stock is never above ATP; a SKU
    missing from the dict has no known stock and must be published as 0.
    """
    with store.transaction() as conn:
        atp = live_atp(conn)
    totals: dict[str, Decimal] = {}
    for (sku, _warehouse), quantity in atp.items():
        totals[sku] = totals.get(sku, ZERO) + max(ZERO, quantity)
    return totals


def outcome_counts(allocations: Mapping[str, int]) -> dict[str, int]:
    """Every outcome with its count (0 for those that did not happen), for metadata that keeps its shape."""
    return {str(outcome): allocations.get(str(outcome), 0) for outcome in Outcome}
