"""Allocation (hub/inventory): a warehouse per order line against ATP, the partner's shortage policy, once per
line; and the 855 line codes it gives (IA, IB, IQ, IR). Tests taking ``store`` run on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from canonical.model import Order, OrderLine, Party, PartyRole, Source
from hub import store as st
from hub.delivery._acks855 import queue_po_acknowledgments
from hub.inventory import (
    Allocator,
    LineDemand,
    OrderDemand,
    Outcome,
    Site,
    StockLevel,
    WarehouseRow,
    allocate_orders,
    allocations_of,
    atp_by_sku,
    live_atp,
    release_allocations,
    replace_stock,
)
from mappings.profiles import InventoryPolicy, PartnerDirectory
from tests.edi855_orders import NOW
from tests.test_855_sending import acme_855, outbound, stored_order

D = Decimal
NEXT_RECEIPT = dt.date(2026, 12, 20)


def save_order(store: st.HubStore, po: str, lines: list[tuple[str, str, str]], *, partner: str = "acme",
               country: str | None = None, region: str | None = None) -> int:
    """An order of (line_no, sku, quantity) lines, shipping to ``country``/``region``; its id."""
    order = Order(source=Source.X12, source_ref=po, partner_id=partner, order_date=dt.date(2026, 12, 1),
                  parties=[Party(role=PartyRole.SHIP_TO, name="DC", country=country, region=region)],
                  lines=[OrderLine(line_no=n, sku=sku, quantity=D(q), uom="EA", unit_price=D("1"))
                         for n, sku, q in lines],
                  total=sum((D(q) for _, _, q in lines), D(0)))
    with store.transaction() as conn:
        return st.save_order(conn, order, receipt_id=None, now=NOW).stored_id


def stock(store: st.HubStore, levels: dict[tuple[str, str], tuple[str, str]]) -> None:
    """Two warehouses, EAST (US/NJ) and WEST (US/CA), with (on hand, incoming) per (sku, warehouse)."""
    with store.transaction() as conn:
        replace_stock(conn, [WarehouseRow("EAST", 1, "East", "US", "NJ"), WarehouseRow("WEST", 2, "West", "US", "CA")],
                      [StockLevel(sku, code, D(on_hand), D(on_hand), D(incoming), D(on_hand) + D(incoming),
                                  NEXT_RECEIPT if code == "EAST" else None)
                       for (sku, code), (on_hand, incoming) in levels.items()], horizon_days=7, now=NOW)


def with_policy(shortage: str, **settings) -> PartnerDirectory:
    """ACME asking for 855s, with this shortage policy."""
    (profile,) = acme_855()
    policy = InventoryPolicy(shortage=shortage, **settings)
    return PartnerDirectory([profile.model_copy(update={"inventory": policy})])


def acks(store: st.HubStore) -> tuple[str, list[str]]:
    """BAK02 and the ACK segments of the one 855 queued."""
    (document,) = outbound(store)
    return (document.content.split("BAK*00*", 1)[1][:2],
            [s for s in document.content.splitlines() if s.startswith("ACK")])


# -- the 855 for a short order (tests.edi855_orders: line 1 SKU-1 x10 EA, line 2 SKU-2 x3 CA) --


def test_a_backorder_855_says_ib_with_the_date_of_the_next_receipt(store):
    stock(store, {("SKU-1", "EAST"): ("4", "0"), ("SKU-2", "EAST"): ("50", "0")})
    order_id = stored_order(store)
    queue_po_acknowledgments(store, with_policy("backorder"), now=NOW)
    assert acks(store) == ("AC", ["ACK*IB*10*EA*068*20261220~", "ACK*IA*3*CA~"])
    with store.transaction() as conn:
        by_line = {a.line_no: a for a in allocations_of(conn, order_id)}
        assert (by_line["1"].outcome, by_line["1"].allocated) == (Outcome.BACKORDERED, D(4))  # held for the line
        assert live_atp(conn)["SKU-1", "EAST"] == 0 and live_atp(conn)["SKU-2", "EAST"] == 47


def test_ship_partial_acknowledges_what_ships_and_backorders_the_rest(sqlite_store):
    stock(sqlite_store, {("SKU-1", "EAST"): ("4", "0"), ("SKU-2", "EAST"): ("50", "0")})
    stored_order(sqlite_store)
    queue_po_acknowledgments(sqlite_store, with_policy("ship_partial"), now=NOW)
    assert acks(sqlite_store) == ("AC", ["ACK*IA*4*EA~", "ACK*IB*6*EA*068*20261220~", "ACK*IA*3*CA~"])


def test_a_backorder_without_a_receipt_ships_after_the_partners_backorder_days(sqlite_store):
    stock(sqlite_store, {("SKU-1", "WEST"): ("0", "0"), ("SKU-2", "WEST"): ("50", "0")})  # WEST: no receipt known
    stored_order(sqlite_store)
    queue_po_acknowledgments(sqlite_store, with_policy("ship_partial", backorder_days=10), now=NOW)
    assert acks(sqlite_store)[1][0] == "ACK*IB*10*EA*068*20261214~"  # nothing to ship now: IB alone


def test_reduce_changes_the_quantity_to_what_is_there(sqlite_store):
    stock(sqlite_store, {("SKU-1", "EAST"): ("3", "3"), ("SKU-2", "EAST"): ("0", "0")})
    order_id = stored_order(sqlite_store)
    queue_po_acknowledgments(sqlite_store, with_policy("reduce"), now=NOW)
    assert acks(sqlite_store) == ("AC", ["ACK*IQ*6*EA~", "ACK*IR*3*CA~"])  # none of SKU-2: reduced to nothing
    with sqlite_store.transaction() as conn:
        assert [a.outcome for a in allocations_of(conn, order_id)] == [Outcome.REDUCED, Outcome.REJECTED]


def test_reject_line_rejects_the_short_line_and_holds_nothing(sqlite_store):
    stock(sqlite_store, {("SKU-1", "EAST"): ("9", "0"), ("SKU-2", "EAST"): ("3", "0")})
    stored_order(sqlite_store)
    queue_po_acknowledgments(sqlite_store, with_policy("reject_line"), now=NOW)
    assert acks(sqlite_store) == ("AC", ["ACK*IR*10*EA~", "ACK*IA*3*CA~"])
    with sqlite_store.transaction() as conn:
        assert live_atp(conn)["SKU-1", "EAST"] == 9 and live_atp(conn)["SKU-2", "EAST"] == 0


def test_an_order_in_stock_is_still_ad_and_one_without_any_stock_known_too(sqlite_store):
    stored_order(sqlite_store, po="PO-NO-STOCK")  # no sync yet: nothing allocated, nothing guessed
    queue_po_acknowledgments(sqlite_store, with_policy("backorder"), now=NOW)
    assert acks(sqlite_store) == ("AD", ["ACK*IA*10*EA~", "ACK*IA*3*CA~"])
    with sqlite_store.transaction() as conn:
        assert allocations_of(conn, 1) == []


def test_a_sku_no_warehouse_stocks_is_accepted_as_ordered(sqlite_store):
    stock(sqlite_store, {("SKU-2", "EAST"): ("5", "0")})
    order_id = stored_order(sqlite_store)
    queue_po_acknowledgments(sqlite_store, with_policy("reject_line"), now=NOW)
    assert acks(sqlite_store) == ("AD", ["ACK*IA*10*EA~", "ACK*IA*3*CA~"])
    with sqlite_store.transaction() as conn:
        assert allocations_of(conn, order_id)[0].outcome is Outcome.NOT_STOCKED


# -- choosing the warehouse --


def test_allocation_takes_the_second_warehouse_when_the_first_cannot_ship_the_line(store):
    stock(store, {("WID", "EAST"): ("5", "0"), ("WID", "WEST"): ("8", "0")})
    order_id = save_order(store, "PO-W1", [("1", "WID", "6")], country="US", region="NJ")  # EAST is nearer
    allocate_orders(store, [], now=NOW)
    with store.transaction() as conn:
        (allocation,) = allocations_of(conn, order_id)
        assert (allocation.warehouse, allocation.allocated, allocation.outcome) == ("WEST", D(6), Outcome.ALLOCATED)
        assert live_atp(conn) == {("WID", "EAST"): 5, ("WID", "WEST"): 2}


def test_among_warehouses_with_stock_the_preferred_then_the_nearest_wins():
    sites = {"EAST": Site("EAST", "US", "NJ", 0), "WEST": Site("WEST", "US", "CA", 1), "EU": Site("EU", "DE", None, 2)}

    def chosen(country: str | None, region: str | None, **policy) -> str | None:
        allocator = Allocator(sites, {("WID", code): D(100) for code in sites}, today=dt.date(2026, 12, 4))
        demand = OrderDemand(1, 1, "acme", (LineDemand("1", "WID", D(1)),), country, region)
        return allocator.allocate(demand, InventoryPolicy(**policy))[0].warehouse

    assert chosen("US", "CA") == "WEST" and chosen("US", "NJ") == "EAST" and chosen("DE", "BY") == "EU"
    assert chosen("US", "TX") == "EAST"  # same country, no state match: the ERP's first warehouse
    assert chosen(None, None) == "EAST"
    assert chosen("US", "CA", preferred_warehouse="EU") == "EU"


def test_when_no_warehouse_can_ship_the_line_the_shortage_is_taken_where_most_is():
    sites = {"EAST": Site("EAST", "US", "NJ", 0), "WEST": Site("WEST", "US", "CA", 1)}
    allocator = Allocator(sites, {("WID", "EAST"): D(2), ("WID", "WEST"): D(5)}, today=dt.date(2026, 12, 4))
    demand = OrderDemand(1, 1, "acme", (LineDemand("1", "WID", D(9)),), "US", "NJ")
    (allocation,) = allocator.allocate(demand, InventoryPolicy(shortage="ship_partial"))
    assert (allocation.warehouse, allocation.allocated, allocation.ship_date) == ("WEST", D(5), dt.date(2026, 12, 18))


# -- once per order line --


def test_a_rerun_allocates_nothing_twice_and_atp_goes_down_once(store):
    stock(store, {("WID", "EAST"): ("10", "0")})
    first_id = save_order(store, "PO-R1", [("1", "WID", "4"), ("2", "WID", "3")])
    first = allocate_orders(store, [], now=NOW)
    again = allocate_orders(store, [], now=NOW)
    assert (first.orders, first.lines) == (1, {"allocated": 2}) and again.orders == 0
    with store.transaction() as conn:
        assert live_atp(conn)["WID", "EAST"] == 3
        assert len(allocations_of(conn, first_id)) == 2
    save_order(store, "PO-R2", [("1", "WID", "5")])
    assert allocate_orders(store, [], now=NOW).lines == {"backordered": 1}  # 3 left: held, the line backordered
    assert atp_by_sku(store) == {"WID": 0}


def test_a_new_revision_gives_its_quantities_back_and_is_allocated_anew(sqlite_store):
    stock(sqlite_store, {("WID", "EAST"): ("10", "0")})
    order_id = save_order(sqlite_store, "PO-V1", [("1", "WID", "8")])
    allocate_orders(sqlite_store, [], now=NOW)
    with sqlite_store.transaction() as conn:  # a replacement arrived: 5 instead of 8
        conn.execute(st.tables.orders.update().where(st.tables.orders.c.id == order_id).values(revision=2))
        conn.execute(st.tables.order_lines.update().where(st.tables.order_lines.c.order_id == order_id)
                     .values(quantity=D(5)))
    assert allocate_orders(sqlite_store, [], now=NOW).orders == 1
    with sqlite_store.transaction() as conn:
        (allocation,) = allocations_of(conn, order_id)
        assert (allocation.revision, allocation.allocated) == (2, D(5)) and live_atp(conn)["WID", "EAST"] == 5


def test_cancelled_and_released_orders_stop_counting_against_atp(sqlite_store):
    stock(sqlite_store, {("WID", "EAST"): ("10", "0")})
    cancelled = save_order(sqlite_store, "PO-C1", [("1", "WID", "4")])
    shipped = save_order(sqlite_store, "PO-C2", [("1", "WID", "5")])
    allocate_orders(sqlite_store, [], now=NOW)
    with sqlite_store.transaction() as conn:
        conn.execute(st.tables.orders.update().where(st.tables.orders.c.id == cancelled)
                     .values(status=st.OrderStatus.CANCELLED))
        assert live_atp(conn)["WID", "EAST"] == 5
        assert release_allocations(conn, shipped, now=NOW) == 1
        assert live_atp(conn)["WID", "EAST"] == 10


@pytest.mark.parametrize("shortage", ["backorder", "ship_partial", "reduce", "reject_line"])
def test_every_policy_allocates_a_line_in_stock_whole(shortage):
    allocator = Allocator({"EAST": Site("EAST")}, {("WID", "EAST"): D(5)}, today=dt.date(2026, 12, 4))
    (allocation,) = allocator.allocate(OrderDemand(1, 1, "acme", (LineDemand("1", "WID", D(5)),)),
                                       InventoryPolicy(shortage=shortage))
    assert (allocation.outcome, allocation.allocated, allocation.decisions()) == (Outcome.ALLOCATED, D(5), ())
