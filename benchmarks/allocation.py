"""10,000 orders through allocation (hub.inventory): seconds and orders/s, in memory and through the store.

    .venv/bin/python benchmarks/allocation.py [--orders 10000] [--lines 5] [--store-url URL]

Stock: 3 warehouses (US/NJ, US/CA, DE) x 2,000 SKUs, enough that about one line in six runs short
and the partners' shortage policies (one partner each: backorder, ship_partial, reduce, reject_line)
all apply. Orders: ``--lines`` lines each, ship-to states spread over NJ, CA, TX and Germany.

1. ``Allocator`` alone: the warehouse choice and the policy for every line, ATP in memory.
2. ``allocate_orders`` on a new SQLite store (or ``--store-url``): read the orders' lines and ship-tos,
   live ATP, allocate, write one allocation row per line, commit. Storing the orders is not timed.
3. ``allocate_orders`` again: nothing left to allocate (the idempotent re-run's cost).

Compare ratios between machines rather than absolute numbers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from canonical.model import Order, OrderLine, Party, PartyRole, Source
from hub import store as st
from hub.inventory import (
    Allocator,
    LineDemand,
    OrderDemand,
    Site,
    StockLevel,
    WarehouseRow,
    allocate_orders,
    replace_stock,
)
from mappings.profiles import InventoryPolicy, PartnerProfile

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
SKUS = 2_000
WAREHOUSES = [WarehouseRow("EAST", 1, "East", "US", "NJ"), WarehouseRow("WEST", 2, "West", "US", "CA"),
              WarehouseRow("EU", 3, "Europe", "DE", None)]
PLACES = [("US", "NJ"), ("US", "CA"), ("US", "TX"), ("DE", "BY")]
POLICIES = ["backorder", "ship_partial", "reduce", "reject_line"]


def levels() -> list[StockLevel]:
    """Per SKU and warehouse: a little on hand, some incoming; the total a bit under the demand."""
    found = []
    for n in range(SKUS):
        for w, warehouse in enumerate(WAREHOUSES):
            on_hand = Decimal((n * 7 + w * 13) % 40)
            found.append(StockLevel(f"SKU{n:05d}", warehouse.code, on_hand, on_hand, Decimal(n % 5), on_hand,
                                    dt.date(2026, 12, 20)))
    return found


def orders(count: int, lines: int) -> list[Order]:
    """``count`` orders of ``lines`` lines, four partners, four ship-to places."""
    made = []
    for i in range(count):
        country, region = PLACES[i % len(PLACES)]
        made.append(Order(
            source=Source.X12, source_ref=f"PO{i:06d}", partner_id=f"p{i % len(POLICIES)}",
            order_date=dt.date(2026, 12, 1),
            parties=[Party(role=PartyRole.SHIP_TO, name="DC", country=country, region=region)],
            lines=[OrderLine(line_no=str(n + 1), sku=f"SKU{(i * 31 + n * 17) % SKUS:05d}",
                             quantity=Decimal(1 + (i + n) % 6), uom="EA", unit_price=Decimal("1.00"))
                   for n in range(lines)],
            total=Decimal(lines)))
    return made


def profiles() -> list[PartnerProfile]:
    """One partner per shortage policy."""
    return [PartnerProfile(id=f"p{n}", name=f"Partner {n}", inventory=InventoryPolicy(shortage=policy))
            for n, policy in enumerate(POLICIES)]


def in_memory(made: list[Order]) -> tuple[float, dict[str, int]]:
    """Seconds for the Allocator alone, and lines by outcome."""
    policies = {p.id: p.inventory for p in profiles()}
    atp = {(level.sku, level.warehouse): level.on_hand + level.incoming for level in levels()}
    demands = [OrderDemand(i, 1, order.partner_id, tuple(LineDemand(line.line_no, line.sku, line.quantity)
                                                         for line in order.lines),
                           order.parties[0].country, order.parties[0].region) for i, order in enumerate(made)]
    started = time.perf_counter()
    allocator = Allocator({w.code: Site(w.code, w.country, w.region, n) for n, w in enumerate(WAREHOUSES)}, atp,
                          today=NOW.date())
    outcomes: dict[str, int] = {}
    for demand in demands:
        for allocation in allocator.allocate(demand, policies[demand.partner_id]):
            outcomes[str(allocation.outcome)] = outcomes.get(str(allocation.outcome), 0) + 1
    return time.perf_counter() - started, outcomes


def through_store(url: str, made: list[Order]) -> tuple[float, float, dict[str, int]]:
    """Seconds for allocate_orders on a store holding ``made``, then for the re-run; lines by outcome."""
    store = st.HubStore(url).migrate()
    with store.transaction() as conn:
        replace_stock(conn, WAREHOUSES, levels(), horizon_days=7, now=NOW)
        for start in range(0, len(made), 500):
            st.save_orders_bulk(conn, made[start : start + 500], receipt_id=None, now=NOW)
    started = time.perf_counter()
    summary = allocate_orders(store, profiles(), now=NOW)
    first = time.perf_counter() - started
    started = time.perf_counter()
    again = allocate_orders(store, profiles(), now=NOW)
    rerun = time.perf_counter() - started
    assert summary.orders == len(made) and again.orders == 0, (summary.orders, again.orders)
    store.dispose()
    return first, rerun, summary.lines


def main() -> None:
    """Run both measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=5)
    parser.add_argument("--store-url", default=None, help="an empty store; default: a new SQLite file")
    args = parser.parse_args()
    made = orders(args.orders, args.lines)
    seconds, outcomes = in_memory(made)
    print(f"Allocator in memory: {args.orders} orders x {args.lines} lines in {seconds:.2f} s, "
          f"{args.orders / seconds:,.0f} orders/s; lines {dict(sorted(outcomes.items()))}")
    with tempfile.TemporaryDirectory() as folder:
        url = args.store_url or f"sqlite:///{Path(folder) / 'hub.sqlite3'}"
        first, rerun, lines = through_store(url, made)
    print(f"allocate_orders ({url.split(':', 1)[0]}): {first:.2f} s, {args.orders / first:,.0f} orders/s; "
          f"re-run {rerun:.2f} s (nothing allocated twice); lines {dict(sorted(lines.items()))}")


if __name__ == "__main__":
    main()
