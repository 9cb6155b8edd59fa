"""The channel fulfilments' outbox on SQLite and PostgreSQL: which shipped orders still need their fulfilment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from canonical.model import Order, OrderLine, Purpose, Source
from hub import store as st
from hub.store._fulfilment import (
    FulfilmentState,
    PlannedPart,
    fulfilments_of,
    mark_fulfilment_rejected,
    mark_fulfilment_sending,
    mark_fulfilment_sent,
    plan_fulfilments,
    shipped_orders,
)

NOW = dt.datetime(2026, 12, 4, 15, 0, tzinfo=dt.UTC)


def order(ref: str, source: Source = Source.SHOPIFY) -> Order:
    return Order(source=source, source_ref=ref, partner_id="shop", order_date=NOW.date(),
                 lines=[OrderLine(line_no="1", sku="WID-100", quantity=Decimal(1))], total=Decimal(0))


def add(conn, ref: str, *, label: str | None = "bought", tracking: str | None = "1Z1",
        source: Source = Source.SHOPIFY) -> int | None:
    st.save_order(conn, order(ref, source), receipt_id=None, now=NOW)
    if label is None:
        return None
    row = st.record_shipment_created(conn, target="carrier", reference=f"shop:{ref}", partner_id="shop",
                                     po_number=ref, mode="test", shipment_id=f"shp_{ref}")
    if label == "bought":
        st.mark_shipment_bought(conn, row.id, rate_id="r", carrier="UPS", service="Ground", rate=Decimal(5),
                                tracking_code=tracking, label_url=None, tracker_id=None, tracking_status=None)
    return row.id


def plan(conn, ref: str, shipment: int | None, parts: int = 1):
    assert shipment is not None
    return plan_fulfilments(conn, channel="shopify", partner_id="shop", order_ref=ref, shipment_id=shipment,
                            tracking_number="1Z1", parts=[PlannedPart(f"loc{n}", f"shop:{ref}:{n}", {"n": n})
                                                          for n in range(parts)], clock=NOW)


def test_only_open_orders_with_a_bought_label_and_tracking_and_unfinished_parts_are_due(store):
    with store.transaction() as conn:
        add(conn, "1")                                  # shipped, nothing planned: due
        add(conn, "2", label="created")                 # label not bought: not shipped
        add(conn, "3", tracking=None)                   # bought without tracking: not yet
        add(conn, "4", source=Source.AMAZON)            # another channel
        add(conn, "5", label=None)                      # no label at all
        done = plan(conn, "6", add(conn, "6"), parts=2)  # both parts sent: finished
        for row in done:
            mark_fulfilment_sent(conn, row.id, "f", clock=NOW)
        half = plan(conn, "7", add(conn, "7"), parts=2)  # one sent, one in doubt: due
        mark_fulfilment_sent(conn, half[0].id, "f", clock=NOW)
        mark_fulfilment_sending(conn, half[1].id, clock=NOW)
        [refused] = plan(conn, "8", add(conn, "8"))     # refused: waits for a person, not due
        mark_fulfilment_rejected(conn, refused.id, "userErrors: not open", clock=NOW)
        add(conn, "9")                                  # cancelled after shipping: not an open order
        st.save_order(conn, order("9").model_copy(update={"purpose": Purpose.CANCELLATION}), receipt_id=None, now=NOW)
        plan(conn, "10", add(conn, "10"))               # planned, never sent: due

    with store.transaction() as conn:
        due = [s.order_ref for s in shipped_orders(conn, "shopify", "shop", unfinished_only=True)]
        every = [s.order_ref for s in shipped_orders(conn, "shopify", "shop")]
        assert sorted(due) == ["1", "10", "7"]
        assert sorted(every) == ["1", "10", "6", "7", "8"]
        [sending] = [r for r in fulfilments_of(conn, "shopify", "shop", "7") if r.state is FulfilmentState.SENDING]
        assert sending.attempts == 1
        # Planning again keeps what was planned (a concurrent pass, a retry): same rows, same requests.
        again = plan(conn, "10", 1)
        assert [(r.part, r.request) for r in again] == [("loc0", {"n": 0})]
