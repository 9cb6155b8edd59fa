"""Reading done deliveries from the sandbox ERP (connectors/erp/_pickings.py against sandbox/_erp_pickings.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.erp import OdooConfig, OdooJson2Client
from connectors.erp._pickings import OdooPickings
from tests.fixtures.erp import ERP_API_KEY


@pytest.fixture
def sale_order(erp) -> dict:
    """A confirmed sale order of two products (WID-100 x 5, GAD-300 x 2)."""
    products = {r["default_code"]: r["id"] for r in erp.records("product.product")}
    partner = erp.set_partner_credit("acme", limit=1000, owed=0)
    with OdooJson2Client(OdooConfig(database=erp.database, api_key=ERP_API_KEY,
                                    http={"base_url": erp.base_url})) as client:
        client.call("sale.order", "create", vals_list=[{
            "partner_id": partner, "client_order_ref": "PO-PICK-1",
            "order_line": [[0, 0, {"product_id": products["WID-100"], "product_uom_qty": 5}],
                           [0, 0, {"product_id": products["GAD-300"], "product_uom_qty": 2}]]}])
    erp.confirm_sale_order("PO-PICK-1")
    (order,) = erp.sale_orders_by_ref("PO-PICK-1")
    return order


@pytest.fixture
def pickings(erp):
    with OdooJson2Client(OdooConfig(database=erp.database, api_key=ERP_API_KEY,
                                    http={"base_url": erp.base_url})) as client:
        yield OdooPickings(client)


def test_a_done_delivery_reads_with_its_packages_quantities_and_tracking(erp, sale_order, pickings):
    name = erp.ship("PO-PICK-1", [[("WID-100", 3)], [("WID-100", 2), ("GAD-300", 2)]], tracking_ref="1Z1",
                    carrier="UPS", weight=4.5)
    (picking,) = pickings.done_deliveries([sale_order["id"]])[sale_order["id"]]
    assert (picking.name, picking.tracking_ref, picking.carrier, picking.weight) == (name, "1Z1", "UPS", Decimal("4.5"))
    assert picking.origin == sale_order["name"] and picking.date_done is not None
    packed = sorted((c.package, c.default_code, c.quantity) for c in picking.contents)
    first, second = sorted({c.package for c in picking.contents})
    assert packed == [(first, "WID-100", Decimal(3)), (second, "GAD-300", Decimal(2)),
                      (second, "WID-100", Decimal(2))]
    assert {c.barcode for c in picking.contents if c.default_code == "WID-100"} == {"00012345678905"}
    # The done delivery counts as delivered on the sale order, as Odoo computes it.
    assert [line["qty_delivered"] for line in erp.sale_order_lines("PO-PICK-1")] == [5.0, 2.0]


def test_a_delivery_not_yet_validated_is_not_read(erp, sale_order, pickings):
    erp.ship("PO-PICK-1", state="assigned")
    assert pickings.done_deliveries([sale_order["id"]]) == {sale_order["id"]: []}


def test_a_move_validated_without_detailed_operations_reads_as_unpacked(erp, sale_order, pickings):
    erp.ship("PO-PICK-1")
    with erp._db.lock:  # as Odoo keeps it when a picking is validated without move lines
        lines = erp._db.records["stock.move.line"]
        for line_id in list(lines):
            lines.pop(line_id)
    (picking,) = pickings.done_deliveries([sale_order["id"]])[sale_order["id"]]
    assert sorted((c.default_code, c.quantity, c.package) for c in picking.contents) == [
        ("GAD-300", Decimal(2), None), ("WID-100", Decimal(5), None)]


def test_deliveries_of_other_sale_orders_are_not_read(erp, sale_order, pickings):
    erp.ship("PO-PICK-1")
    assert pickings.done_deliveries([sale_order["id"] + 100]) == {sale_order["id"] + 100: []}
