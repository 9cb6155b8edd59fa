"""The inventory tables: the ERP's stock as last synced, live ATP, and allocations (functions take a Connection)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import ColumnElement, Connection, and_, delete, false, func, insert, select, true, update

from hub import store as st
from hub.inventory._allocate import ZERO, Allocation, Allocator, LineDemand, OrderDemand, Outcome, Site

_t = st.tables
warehouses_t, levels_t, allocations_t = _t.stock_warehouses, _t.stock_levels, _t.stock_allocations
orders_t, lines_t, parties_t = _t.orders, _t.order_lines, _t.order_parties
shipments_t = _t.match_shipments
_CHUNK = 500  # ids per IN list
SHIPPED_SOURCE = "erp_delivery"
"""The ``match_shipments`` source whose lines release allocations: the ``erp_deliveries`` feed (the ERP's
``qty_delivered`` so far per order line, every order delivered to the ERP, not only 856 partners). The 856
pass reads the same done pickings, so counting it as well would release a shipment twice."""


@dataclass(frozen=True)
class StockLevel:
    """One SKU in one warehouse as the ERP reported it; ``incoming`` is what arrives within the horizon."""

    sku: str
    warehouse: str
    on_hand: Decimal
    free_qty: Decimal
    incoming: Decimal
    virtual_available: Decimal
    next_receipt: dt.date | None = None


@dataclass(frozen=True)
class WarehouseRow:
    """A warehouse as stored: the ERP's code and id, its name and where it is."""

    code: str
    erp_id: int
    name: str
    country: str | None
    region: str | None


def snapshot_time(conn: Connection) -> dt.datetime | None:
    """When the stored stock snapshot was taken (before the ERP was read), or None before the first sync."""
    return conn.execute(select(func.min(levels_t.c.synced_at))).scalar()


def _open_quantities(conn: Connection, where: ColumnElement[bool], shipped_by: dt.datetime | None
                     ) -> dict[int, tuple[int, str, tuple[str, str], Decimal]]:
    """Per allocation id: order, line, (SKU, warehouse) and its open quantity = max(0, allocated - shipped).

    Shipped is the line's delivered quantity so far from :data:`SHIPPED_SOURCE`, counted only when it was
    recorded no later than ``shipped_by`` (the snapshot's time, taken before the ERP's on hand was read):
    such a shipment had left the ERP's on hand when the snapshot read it, so releasing it counts each unit
    once. A shipment recorded after the snapshot keeps its allocation open until the next sync (ATP low,
    never high). Joined in SQL per (partner, PO, line); the arithmetic in Decimal here (SQLite stores the
    quantities as text)."""
    recorded = false() if shipped_by is None else shipments_t.c.recorded_at <= shipped_by
    on = and_(shipments_t.c.source == SHIPPED_SOURCE, shipments_t.c.partner_id == orders_t.c.partner_id,
              shipments_t.c.po_number == orders_t.c.source_ref, shipments_t.c.line_no == allocations_t.c.line_no,
              recorded)
    query = (select(allocations_t.c.id, allocations_t.c.order_id, allocations_t.c.line_no, allocations_t.c.sku,
                    allocations_t.c.warehouse, allocations_t.c.allocated, shipments_t.c.quantity)
             .select_from(allocations_t.join(orders_t, orders_t.c.id == allocations_t.c.order_id)
                          .outerjoin(shipments_t, on))
             .where(allocations_t.c.released_at.is_(None), allocations_t.c.warehouse.is_not(None),
                    allocations_t.c.allocated > 0, orders_t.c.status != st.OrderStatus.CANCELLED, where))
    allocated: dict[int, tuple[int, str, tuple[str, str], Decimal]] = {}
    shipped: dict[int, Decimal] = {}
    for row in conn.execute(query):
        allocated[row.id] = (row.order_id, row.line_no, (row.sku, row.warehouse), row.allocated)
        if row.quantity is not None:  # one row per ERP document: the most any says, never their sum
            shipped[row.id] = max(shipped.get(row.id, ZERO), row.quantity)
    return {i: (order_id, line_no, key, max(ZERO, quantity - shipped.get(i, ZERO)))
            for i, (order_id, line_no, key, quantity) in allocated.items()}


def open_allocated(conn: Connection, skus: Sequence[str] | None = None, *,
                   shipped_by: dt.datetime | None = None) -> dict[tuple[str, str], Decimal]:
    """Quantities allocated, not released and not shipped, per (SKU, warehouse), of orders that are not
    cancelled (of ``skus`` only, when given); shipments count as of ``shipped_by``, by default the stored
    snapshot's time (see :func:`_open_quantities`)."""
    if shipped_by is None:
        shipped_by = snapshot_time(conn)
    where = allocations_t.c.sku.in_(list(skus)) if skus is not None else true()
    found: dict[tuple[str, str], Decimal] = {}
    for _order, _line, key, quantity in _open_quantities(conn, where, shipped_by).values():
        found[key] = found.get(key, ZERO) + quantity
    return found


def replace_stock(conn: Connection, warehouses: Sequence[WarehouseRow], levels: Sequence[StockLevel], *,
                  horizon_days: int, now: dt.datetime) -> list[dict[str, object]]:
    """Replace the stored warehouses and levels with a new sync, ATP computed now; the rows written.

    ``now`` must be taken before the ERP was read: shipments recorded by then have left its on hand."""
    allocated = open_allocated(conn, shipped_by=now)
    conn.execute(delete(levels_t))
    conn.execute(delete(warehouses_t))
    if warehouses:
        conn.execute(insert(warehouses_t), [{"code": w.code, "erp_id": w.erp_id, "name": w.name, "country": w.country,
                                             "region": w.region, "synced_at": now} for w in warehouses])
    rows: list[dict[str, object]] = []
    for level in levels:
        taken = allocated.get((level.sku, level.warehouse), ZERO)
        rows.append({"sku": level.sku, "warehouse": level.warehouse, "on_hand": level.on_hand,
                     "free_qty": level.free_qty, "incoming": level.incoming,
                     "virtual_available": level.virtual_available, "allocated": taken,
                     "atp": level.on_hand - taken + level.incoming, "next_receipt": level.next_receipt,
                     "horizon_days": horizon_days, "synced_at": now})
    for start in range(0, len(rows), _CHUNK):
        conn.execute(insert(levels_t), rows[start : start + _CHUNK])
    return rows


def live_atp(conn: Connection, skus: Sequence[str] | None = None) -> dict[tuple[str, str], Decimal]:
    """ATP per (SKU, warehouse) now: the last sync's on hand + incoming within its horizon - open allocations
    (of ``skus`` only, when given)."""
    allocated = open_allocated(conn, skus)
    query = select(levels_t.c.sku, levels_t.c.warehouse, levels_t.c.on_hand, levels_t.c.incoming)
    return {(sku, code): on_hand + incoming - allocated.get((sku, code), ZERO)
            for sku, code, on_hand, incoming in conn.execute(
                query if skus is None else query.where(levels_t.c.sku.in_(list(skus))))}


def load_allocator(conn: Connection, *, today: dt.date, skus: Sequence[str] | None = None) -> Allocator | None:
    """An allocator over live ATP (of ``skus`` only, when given: one order's), or None while no stock was ever
    synced (then nothing is allocated)."""
    sites = {row.code: Site(row.code, row.country, row.region, sequence)
             for sequence, row in enumerate(conn.execute(select(warehouses_t).order_by(warehouses_t.c.erp_id)))}
    if not sites:
        return None
    query = (select(levels_t.c.sku, levels_t.c.warehouse, levels_t.c.next_receipt)
             .where(levels_t.c.next_receipt.is_not(None)))
    receipts = {(sku, code): date for sku, code, date in conn.execute(
        query if skus is None else query.where(levels_t.c.sku.in_(list(skus))))}
    return Allocator(sites, live_atp(conn, skus), receipts, today)


def _demands(conn: Connection, heads: Sequence[tuple[int, int, str]]) -> list[OrderDemand]:
    """The lines and ship-to place of orders given as (id, revision, partner)."""
    ids = [order_id for order_id, _, _ in heads]
    lines: dict[int, list[LineDemand]] = {}
    places: dict[int, tuple[str | None, str | None]] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        for row in conn.execute(select(lines_t.c.order_id, lines_t.c.line_no, lines_t.c.sku, lines_t.c.quantity)
                                .where(lines_t.c.order_id.in_(chunk)).order_by(lines_t.c.id)):
            lines.setdefault(row.order_id, []).append(LineDemand(row.line_no, row.sku, row.quantity))
        for party in conn.execute(select(parties_t.c.order_id, parties_t.c.country, parties_t.c.region)
                                  .where(parties_t.c.order_id.in_(chunk), parties_t.c.role == "ship_to")):
            places.setdefault(party.order_id, (party.country, party.region))
    return [OrderDemand(order_id, revision, partner, tuple(lines.get(order_id, ())),
                        *places.get(order_id, (None, None))) for order_id, revision, partner in heads]


def orders_to_allocate(conn: Connection, *, since: dt.datetime, limit: int = 10_000) -> list[OrderDemand]:
    """Open, non-test orders created since ``since`` whose current revision has no allocation yet, oldest first."""
    done = select(allocations_t.c.order_id).where(allocations_t.c.order_id == orders_t.c.id,
                                                  allocations_t.c.revision == orders_t.c.revision).exists()
    heads = conn.execute(
        select(orders_t.c.id, orders_t.c.revision, orders_t.c.partner_id)
        .where(orders_t.c.status == st.OrderStatus.OPEN, orders_t.c.is_test.is_(False),
               orders_t.c.created_at >= since, ~done)
        .order_by(orders_t.c.id).limit(limit)).all()
    return _demands(conn, [(r.id, r.revision, r.partner_id) for r in heads])


def order_demand(conn: Connection, order_id: int) -> OrderDemand:
    """One stored order's current revision as allocation sees it."""
    head = conn.execute(select(orders_t.c.id, orders_t.c.revision, orders_t.c.partner_id)
                        .where(orders_t.c.id == order_id)).one()
    return _demands(conn, [(head.id, head.revision, head.partner_id)])[0]


def allocations_of(conn: Connection, order_id: int) -> list[Allocation]:
    """The stored allocations of one order, in line order."""
    return allocations_of_orders(conn, [order_id]).get(order_id, [])


def allocations_of_orders(conn: Connection, order_ids: Sequence[int]) -> dict[int, list[Allocation]]:
    """The stored allocations of many orders, in line order (orders without any are left out)."""
    found: dict[int, list[Allocation]] = {}
    for start in range(0, len(order_ids), _CHUNK):
        for r in conn.execute(select(allocations_t).where(allocations_t.c.order_id.in_(order_ids[start:start + _CHUNK]))
                              .order_by(allocations_t.c.id)):
            found.setdefault(r.order_id, []).append(Allocation(
                r.order_id, r.revision, r.line_no, r.sku, r.warehouse, r.ordered, r.allocated, r.policy,
                Outcome(r.outcome), r.ship_date))
    return found


def open_allocations_of_orders(conn: Connection, order_ids: Sequence[int]) -> dict[int, list[Allocation]]:
    """The stored allocations of many orders with ``allocated`` = what ATP counts of each now (0 when released,
    shipped or the order cancelled): what giving them back returns, so ATP never gains more than it lost."""
    shipped_by = snapshot_time(conn)
    found = allocations_of_orders(conn, order_ids)
    open_now: dict[tuple[int, str], Decimal] = {}
    for start in range(0, len(order_ids), _CHUNK):
        where = allocations_t.c.order_id.in_(order_ids[start : start + _CHUNK])
        for order_id, line_no, _key, quantity in _open_quantities(conn, where, shipped_by).values():
            open_now[order_id, line_no] = quantity
    return {order_id: [replace(a, allocated=open_now.get((order_id, a.line_no), ZERO)) for a in allocations]
            for order_id, allocations in found.items()}


def replace_allocations(conn: Connection, order_ids: Iterable[int], allocations: Sequence[Allocation], *,
                        now: dt.datetime) -> None:
    """Drop the given orders' earlier allocations (an older revision) and record ``allocations``.

    Unique on (order, line): a concurrent run that allocated the same line first makes this one fail
    (IntegrityError), never allocate it twice.
    """
    ids = list(order_ids)
    for start in range(0, len(ids), _CHUNK):
        conn.execute(delete(allocations_t).where(allocations_t.c.order_id.in_(ids[start : start + _CHUNK])))
    rows = [{"order_id": a.order_id, "revision": a.revision, "line_no": a.line_no, "sku": a.sku,
             "warehouse": a.warehouse, "ordered": a.ordered, "allocated": a.allocated, "policy": a.policy,
             "outcome": str(a.outcome), "ship_date": a.ship_date, "created_at": now} for a in allocations]
    for start in range(0, len(rows), _CHUNK):
        conn.execute(insert(allocations_t), rows[start : start + _CHUNK])


def release_allocations(conn: Connection, order_id: int, *, now: dt.datetime) -> int:
    """Stop counting an order's allocations against ATP (it shipped: the ERP's on hand went down instead)."""
    result = conn.execute(update(allocations_t).where(allocations_t.c.order_id == order_id,
                                                      allocations_t.c.released_at.is_(None))
                          .values(released_at=now))
    return int(result.rowcount or 0)


def allocation_counts(conn: Connection) -> dict[str, int]:
    """Open allocations by outcome (lines)."""
    return {str(outcome): int(count) for outcome, count in conn.execute(
        select(allocations_t.c.outcome, func.count()).where(allocations_t.c.released_at.is_(None))
        .group_by(allocations_t.c.outcome))}
