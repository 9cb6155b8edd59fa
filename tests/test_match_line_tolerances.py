"""Per-line quantity tolerances (a customer's or a SKU's own) reach the line totals: the engine carries tolerance
columns only when some customer or SKU has its own limits, and literals otherwise, so both paths are checked."""

from __future__ import annotations

from tests.test_match_engine import categories, found, inv, po, run, ship

ORDERS = [po(po_number="P1", sku="SOAP", qty="100", customer="ACME"),
          po(po_number="P2", sku="TOWEL", qty="100", customer="ACME"),
          po(po_number="P3", sku="TOWEL", qty="100", customer="BETA")]
# 105 shipped and billed on each line: 5 % over what was ordered.
SHIPMENTS = [ship(po_number=p, sku=s, qty_shipped="105") for p, s in (("P1", "SOAP"), ("P2", "TOWEL"),
                                                                      ("P3", "TOWEL"))]
INVOICES = [inv(invoice_number=f"I{p}", po_number=p, sku=s, qty_invoiced="105")
            for p, s in (("P1", "SOAP"), ("P2", "TOWEL"), ("P3", "TOWEL"))]


def test_a_skus_quantity_tolerance_decides_its_lines_only():
    result = run(ORDERS, SHIPMENTS, INVOICES, {"global": {"qty_pct": 1}, "skus": {"soap": {"qty_pct": 5}}})
    assert {row["po_number"]: row["category"] for row in found(result)} == {"P2": "over_shipped",
                                                                           "P3": "over_shipped"}
    assert [(row["po_number"], row["category"]) for row in found(result, informational=True)] == [
        ("P1", "within_tolerance")]   # exactly at the SKU's 5 %


def test_a_customers_quantity_tolerance_and_the_global_one():
    result = run(ORDERS, SHIPMENTS, INVOICES, {"global": {"qty_abs": 4}, "customers": {"ACME": {"qty_abs": 5}}})
    assert {row["po_number"] for row in found(result)} == {"P3"}   # BETA keeps the global 4 eaches
    assert sorted(row["po_number"] for row in found(result, informational=True)) == ["P1", "P2"]
    assert result.matched["po_number"].to_list() == ["P1", "P2"]


def test_global_limits_alone_apply_to_every_line():
    result = run(ORDERS, SHIPMENTS, INVOICES, {"global": {"qty_pct": 5}})
    assert categories(result) == []
    assert categories(result, informational=True) == ["within_tolerance"] * 3
