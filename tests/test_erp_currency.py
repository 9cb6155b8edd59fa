"""The order's currency reaches the ERP (issue 8 point 12): Odoo books a sale order in its pricelist's
currency, so the hub picks a pricelist in the order's currency, or the delivery fails with a clear reason."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from connectors.erp import ErpRejected, OdooConfig, OdooJson2Client
from hub import store as st
from hub.delivery import push_due_orders
from hub.targets import ERP_TARGET
from mappings.odoo import OdooSalesGateway
from sandbox.erp_server import SandboxErp
from tests.fixtures.erp import ERP_API_KEY
from tests.present import present
from tests.test_erp_sandbox import make_order

API_KEY = ERP_API_KEY
NOW = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def gateway(erp: SandboxErp):
    config = OdooConfig(database=erp.database, api_key=API_KEY, http={"base_url": erp.base_url, "timeout_seconds": 10})
    with OdooJson2Client(config) as client:
        yield OdooSalesGateway(client)


def in_currency(po: str, currency: str):
    return make_order(po).model_copy(update={"currency": currency})


def store_for_delivery(store: st.HubStore, *orders) -> None:
    with store.transaction() as conn:
        for order in orders:
            saved = st.save_order(conn, order, receipt_id=None, now=NOW)
            st.enqueue_delivery(conn, order_id=present(saved.order_id), target=ERP_TARGET, now=NOW)


def booked_currency(erp: SandboxErp, ref: str) -> str:
    [sale_order] = erp.sale_orders_by_ref(ref)
    return sale_order["currency_id"][1]


def test_eur_and_usd_orders_book_in_their_own_currency(store, erp, gateway):
    store_for_delivery(store, in_currency("PO-EUR-1", "EUR"), in_currency("PO-USD-1", "USD"))

    summary = push_due_orders(store, gateway, now=NOW)

    assert summary.pushed == 2
    assert booked_currency(erp, "PO-EUR-1") == "EUR"
    assert booked_currency(erp, "PO-USD-1") == "USD"
    [eur] = erp.sale_orders_by_ref("PO-EUR-1")
    assert eur["pricelist_id"][1] == "EUR Pricelist"


def test_an_order_in_a_currency_without_an_erp_pricelist_is_dead_lettered_with_the_reason(store, erp, gateway):
    store_for_delivery(store, in_currency("PO-GBP-1", "GBP"))

    summary = push_due_orders(store, gateway, now=NOW)

    assert summary.dead == 1 and erp.sale_orders_by_ref("PO-GBP-1") == []
    with store.transaction() as conn:
        [exception] = st.list_exceptions(conn)
        outbox = conn.execute(select(st.tables.outbox.c.state)).scalar_one()
    assert outbox == st.DEAD and exception.kind == "erp_rejected"
    assert "no pricelist in GBP" in exception.reason
    assert not [p for p in erp.records("res.partner") if p["ref"] and p["ref"].startswith("acme:")], \
        "a refused order must not leave new partners behind"


def test_a_currency_the_erp_does_not_have_is_refused_with_what_to_set_up(erp, gateway):
    with pytest.raises(ErpRejected, match="not an active currency in the ERP"):
        gateway.push_sale_order(in_currency("PO-JPY-1", "JPY"), client_order_ref="PO-JPY-1")
    assert erp.sale_orders_by_ref("PO-JPY-1") == []


def test_a_quotation_booked_in_the_wrong_currency_is_moved_to_the_orders_pricelist(erp, gateway):
    order = in_currency("PO-CUR-1", "USD")
    gateway.push_sale_order(order, client_order_ref="PO-CUR-1")
    assert booked_currency(erp, "PO-CUR-1") == "USD"

    result = gateway.push_sale_order(order.model_copy(update={"currency": "EUR"}), client_order_ref="PO-CUR-1")

    assert result.action == "updated" and "currency USD -> EUR" in result.changes
    assert booked_currency(erp, "PO-CUR-1") == "EUR"
    # Pushed again as it is now: nothing differs.
    again = gateway.push_sale_order(order.model_copy(update={"currency": "EUR"}), client_order_ref="PO-CUR-1")
    assert again.action == "unchanged"


def test_the_sandbox_books_a_sale_order_without_a_pricelist_in_the_company_currency(erp, gateway):
    client = gateway._client
    partner = client.call("res.partner", "create", vals_list=[{"name": "Walk-in"}])[0]
    [so_id] = client.call("sale.order", "create", vals_list=[{"partner_id": partner}])
    [row] = client.call("sale.order", "read", ids=[so_id], fields=["currency_id", "pricelist_id"])
    assert row["currency_id"][1] == "USD" and row["pricelist_id"] is False

    assert erp.archive_pricelists("EUR") == 1
    with pytest.raises(ErpRejected, match="no pricelist in EUR"):
        gateway.push_sale_order(in_currency("PO-EUR-9", "EUR"), client_order_ref="PO-EUR-9")


def test_an_order_stored_with_a_currency_the_model_now_refuses_is_dead_lettered_not_stuck(store, erp, gateway):
    """Stored before the ISO 4217 check (currency XQZ): the pass goes on, the delivery ends in the exception queue."""
    store_for_delivery(store, in_currency("PO-OLD-1", "USD"), in_currency("PO-OK-1", "USD"))
    orders = st.tables.orders
    with store.transaction() as conn:
        row = conn.execute(select(orders.c.id, orders.c.payload).where(orders.c.source_ref == "PO-OLD-1")).one()
        conn.execute(orders.update().where(orders.c.id == row.id).values(payload={**row.payload, "currency": "XQZ"}))

    summary = push_due_orders(store, gateway, now=NOW)

    assert (summary.dead, summary.pushed) == (1, 1)
    assert erp.sale_orders_by_ref("PO-OLD-1") == [] and len(erp.sale_orders_by_ref("PO-OK-1")) == 1
    with store.transaction() as conn:
        [exception] = st.list_exceptions(conn)
        states = sorted(conn.execute(select(st.tables.outbox.c.state)).scalars())
    assert states == [st.DEAD, st.DONE] and exception.order_id == row.id
    assert "currency" in exception.reason and "ISO 4217" in exception.reason
