"""Inventory: the ERP's stock per warehouse, ATP, allocation of order lines, and what an 855 says about them.

    from hub.inventory import sync_stock, allocate_orders, atp_by_sku

    sync_stock(store, OdooStock(client), horizon_days=7)   # snapshot + ATP (asset inventory_atp)
    allocate_orders(store, partners)                       # a warehouse per new order line
    atp_by_sku(store)                                      # {"WID-100": Decimal("40"), ...} for inventory publishing

No Dagster here: the assets are in ``hub/defs/inventory/``. See docs/inventory.md.
"""

from hub.inventory._allocate import (
    Allocation,
    Allocator,
    LineDemand,
    OrderDemand,
    Outcome,
    Site,
    nearness,
)
from hub.inventory._service import (
    DEFAULT_HORIZON_DAYS,
    AllocationSummary,
    StockSync,
    allocate_order,
    allocate_orders,
    atp_by_sku,
    line_decisions,
    outcome_counts,
    sync_stock,
)
from hub.inventory._store import (
    SHIPPED_SOURCE,
    StockLevel,
    WarehouseRow,
    allocation_counts,
    allocations_of,
    live_atp,
    open_allocated,
    release_allocations,
    replace_stock,
    snapshot_time,
)

__all__ = [
    "DEFAULT_HORIZON_DAYS",
    "SHIPPED_SOURCE",
    "Allocation",
    "AllocationSummary",
    "Allocator",
    "LineDemand",
    "OrderDemand",
    "Outcome",
    "Site",
    "StockLevel",
    "StockSync",
    "WarehouseRow",
    "allocate_order",
    "allocate_orders",
    "allocation_counts",
    "allocations_of",
    "atp_by_sku",
    "line_decisions",
    "live_atp",
    "nearness",
    "open_allocated",
    "outcome_counts",
    "release_allocations",
    "replace_stock",
    "snapshot_time",
    "sync_stock",
]
