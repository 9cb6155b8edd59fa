"""Three-way match rules (hub.matching): each category on a small case whose outcome follows from the rule."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from hub.matching import (
    INVOICE_COLUMNS,
    ORDER_COLUMNS,
    SHIPMENT_COLUMNS,
    MatchDataError,
    MatchResult,
    ToleranceError,
    Tolerances,
    match,
    prepare_invoices,
    prepare_orders,
    prepare_shipments,
    present,
)


def frame(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Text columns as read from a CSV export; missing cells empty."""
    return pl.DataFrame({c: [str(r.get(c, "")) for r in rows] for c in columns}, schema=dict.fromkeys(columns,
                                                                                                  pl.String))


def po(po_number="PO1", line_no="1", sku="A", qty="10", unit_price="5.00", uom="EA", pack_size="", **extra):
    return {"po_number": po_number, "line_no": line_no, "sku": sku, "qty": qty, "unit_price": unit_price,
            "uom": uom, "pack_size": pack_size, **extra}


def ship(po_number="PO1", line_no="1", sku="A", qty_shipped="10", uom="EA", asn_number="ASN1",
         ship_date="2026-11-02"):
    return {"po_number": po_number, "line_no": line_no, "sku": sku, "qty_shipped": qty_shipped, "uom": uom,
            "asn_number": asn_number, "ship_date": ship_date}


def inv(invoice_number="INV1", po_number="PO1", line_no="1", sku="A", qty_invoiced="10", unit_price="5.00",
        uom="EA", invoice_date="2026-11-03"):
    return {"invoice_number": invoice_number, "invoice_date": invoice_date, "po_number": po_number,
            "line_no": line_no, "sku": sku, "qty_invoiced": qty_invoiced, "unit_price": unit_price, "uom": uom}


def run(orders, shipments, invoices, tolerances: dict | None = None) -> MatchResult:
    order_columns = ORDER_COLUMNS + (("customer",) if any("customer" in r for r in orders) else ())
    return match(prepare_orders(frame(order_columns, orders)),
                 prepare_shipments(frame(SHIPMENT_COLUMNS, shipments)),
                 prepare_invoices(frame(INVOICE_COLUMNS, invoices)), Tolerances.parse(tolerances))


def found(result: MatchResult, informational: bool = False) -> list[dict[str, Any]]:
    return present(result.informational if informational else result.exceptions).to_dicts()


def categories(result: MatchResult, informational: bool = False) -> list[str]:
    return sorted(row["category"] for row in found(result, informational))


def test_a_perfect_match_has_no_exception_and_is_matched():
    result = run([po()], [ship()], [inv()])
    assert categories(result) == []
    assert categories(result, informational=True) == []
    assert result.matched.to_dicts() == [{"po_number": "PO1", "line_no": "1"}]


def test_price_variance_carries_percent_value_and_documents():
    # 10 eaches invoiced at 5.20 against 5.00: 4 % above, 10 x 0.20 = 2.00 at stake.
    result = run([po()], [ship()], [inv(unit_price="5.20")], {"global": {"price_pct": 2}})
    [row] = found(result)
    assert row["category"] == "price_variance"
    assert (row["variance_pct"], row["value_at_stake"]) == ("4.00", "2.00")
    assert (row["po_number"], row["invoice_number"], row["asn_numbers"]) == ("PO1", "INV1", ["ASN1"])
    assert result.matched.is_empty()


@pytest.mark.parametrize(("price", "outcome"), [
    ("102.00", "within"),      # exactly 2 %: within
    ("102.01", "exception"),   # 2.01 %: 0.01 % over fails
    ("97.99", "exception"),    # 2.01 % under
    ("98.00", "within"),
])
def test_price_percent_tolerance_boundary(price, outcome):
    result = run([po(qty="1", unit_price="100.00")], [ship(qty_shipped="1")],
                 [inv(qty_invoiced="1", unit_price=price)], {"global": {"price_pct": "2%"}})
    assert categories(result) == (["price_variance"] if outcome == "exception" else [])
    assert categories(result, informational=True) == (["within_tolerance"] if outcome == "within" else [])


@pytest.mark.parametrize(("limits", "price", "flagged"), [
    ({"price_abs": "0.50"}, "100.50", False),   # at the absolute limit
    ({"price_abs": "0.50"}, "100.51", True),
    ({"price_pct": 2, "price_abs": "0.50"}, "101.00", True),   # 1 % is inside 2 %, 1.00 is over 0.50: stricter wins
    ({"price_pct": "0.5", "price_abs": "5"}, "100.50", False),  # 0.5 % and 0.50: inside both
    ({}, "100.0001", True),   # no limit: exact
])
def test_price_absolute_and_combined_limits(limits, price, flagged):
    result = run([po(qty="3", unit_price="100.00")], [ship(qty_shipped="3")],
                 [inv(qty_invoiced="3", unit_price=price)], {"global": limits})
    assert categories(result) == (["price_variance"] if flagged else [])


def test_over_billed_is_invoiced_beyond_shipped_valued_at_po_price():
    result = run([po(qty="10")], [ship(qty_shipped="8")], [inv(qty_invoiced="10")])
    [row] = found(result)
    assert row["category"] == "over_billed"
    assert (row["shipped_qty"], row["invoiced_qty"], row["value_at_stake"], row["variance_pct"]) == \
        ("8", "10", "10.00", "25.00")   # 2 eaches x 5.00; 2 of 8 shipped


def test_over_shipped_and_its_quantity_tolerance():
    result = run([po(qty="100", unit_price="1.00")], [ship(qty_shipped="106")], [inv(qty_invoiced="106",
                                                                                     unit_price="1.00")],
                 {"global": {"qty_pct": 5}})
    [row] = found(result)
    assert (row["category"], row["value_at_stake"], row["variance_pct"]) == ("over_shipped", "6.00", "6.00")
    within = run([po(qty="100", unit_price="1.00")], [ship(qty_shipped="105")],
                 [inv(qty_invoiced="105", unit_price="1.00")], {"global": {"qty_pct": 5}})
    assert categories(within) == []
    assert categories(within, informational=True) == ["within_tolerance"]
    assert within.matched.height == 1


def test_shipped_not_invoiced():
    result = run([po()], [ship(), ship(qty_shipped="0", asn_number="ASN2")], [])
    [row] = found(result)
    assert (row["category"], row["value_at_stake"], row["asn_numbers"]) == ("shipped_not_invoiced", "50.00",
                                                                            ["ASN1", "ASN2"])


def test_invoiced_not_shipped():
    result = run([po()], [], [inv(qty_invoiced="4")])
    [row] = found(result)
    assert (row["category"], row["value_at_stake"], row["invoice_numbers"]) == ("invoiced_not_shipped", "20.00",
                                                                                ["INV1"])


def test_invoice_without_po_unknown_po_unknown_line_and_no_po_number():
    result = run([po()], [ship()], [inv(), inv(invoice_number="INV2", po_number="PO9", unit_price="1.25"),
                                    inv(invoice_number="INV3", line_no="7"),
                                    inv(invoice_number="INV4", po_number="", line_no="")])
    rows = {row["invoice_number"]: row for row in found(result)}
    assert set(rows) == {"INV2", "INV3", "INV4"}
    assert {row["category"] for row in rows.values()} == {"invoice_without_po"}
    assert rows["INV2"]["value_at_stake"] == "12.50"   # the invoice line's own amount: 10 x 1.25
    assert "PO PO9 is not among the orders" in rows["INV2"]["detail"]
    assert "has no line 7" in rows["INV3"]["detail"]
    assert "names no PO" in rows["INV4"]["detail"]
    assert result.matched.height == 1   # the real line still matches


def test_duplicate_invoice_number_resubmitted_is_flagged_once_and_not_counted_twice():
    result = run([po()], [ship()], [inv(), inv(invoice_date="2026-11-20")])
    [row] = found(result)   # no over_billed: the copy is not counted as billed
    assert (row["category"], row["invoice_number"], row["value_at_stake"]) == ("duplicate_invoice", "INV1", "50.00")
    assert "invoices line 3" in row["detail"]


def test_two_invoices_for_two_partial_shipments_are_not_duplicates():
    result = run([po(qty="10")], [ship(qty_shipped="5"), ship(qty_shipped="5", asn_number="ASN2")],
                 [inv(qty_invoiced="5"), inv(invoice_number="INV2", qty_invoiced="5")])
    assert categories(result) == []
    assert result.matched.height == 1


def test_sku_mismatch_is_not_counted_for_the_po_line():
    result = run([po()], [ship()], [inv(sku="B")])
    assert categories(result) == ["shipped_not_invoiced", "sku_mismatch"]
    mismatch = next(row for row in found(result) if row["category"] == "sku_mismatch")
    assert (mismatch["sku"], mismatch["value_at_stake"]) == ("B", "50.00")
    shipped_wrong = run([po()], [ship(sku="B")], [])
    assert categories(shipped_wrong) == ["sku_mismatch"]
    assert categories(shipped_wrong, informational=True) == ["open_not_shipped"]


def test_sku_compares_trimmed_and_case_insensitive():
    assert categories(run([po(sku="ab-1")], [ship(sku=" AB-1 ")], [inv(sku="Ab-1")])) == []


def test_shipment_without_po():
    result = run([po()], [ship(), ship(po_number="PO2", asn_number="ASN9")], [inv()])
    [row] = found(result)
    assert (row["category"], row["asn_numbers"]) == ("shipment_without_po", ["ASN9"])


def test_informational_partial_and_open_lines_are_not_exceptions():
    result = run([po(line_no="1", qty="10"), po(line_no="2", sku="B")],
                 [ship(qty_shipped="4")], [inv(qty_invoiced="4")])
    assert categories(result) == []
    assert categories(result, informational=True) == ["open_not_shipped", "partial_shipment_billed"]
    assert result.matched.is_empty()   # both lines are still open


def test_uom_cases_to_eaches_by_pack_size():
    # 2 cases of 12 at 24.00 a case == 24 eaches at 2.00 each.
    orders = [po(qty="2", unit_price="24.00", uom="CS", pack_size="12")]
    result = run(orders, [ship(qty_shipped="24", uom="EA")], [inv(qty_invoiced="24", unit_price="2.00", uom="EA")])
    assert categories(result) == [] and result.matched.height == 1
    # The other way round: ordered in eaches, shipped and invoiced in cases.
    result = run([po(qty="24", unit_price="2.00", uom="EA", pack_size="12")], [ship(qty_shipped="2", uom="case")],
                 [inv(qty_invoiced="2", unit_price="24.00", uom="CS")])
    assert categories(result) == [] and result.matched.height == 1
    # 2.05 an each is 2.5 % over 24.00/12: flagged, 24 x 0.05 = 1.20 at stake.
    result = run(orders, [ship(qty_shipped="24")], [inv(qty_invoiced="24", unit_price="2.05")],
                 {"global": {"price_pct": 2}})
    [row] = found(result)
    assert (row["category"], row["variance_pct"], row["value_at_stake"]) == ("price_variance", "2.50", "1.20")
    # One case short in eaches: 12 of 24 shipped and billed is a partial shipment.
    result = run(orders, [ship(qty_shipped="1", uom="CS")], [inv(qty_invoiced="12", unit_price="2.00")])
    assert categories(result, informational=True) == ["partial_shipment_billed"]


def test_price_per_case_compared_without_rounding():
    # A 7-pack at 10.00 a case is 1.428571... an each, which no 4-decimal price is. 1.4286 an each is 10.0002
    # a case: exactly 0.002 % over. Decided without dividing, 0.002 % is within and 0.0019 % is not.
    orders = [po(qty="1", unit_price="10.00", uom="CS", pack_size="7")]
    invoices = [inv(qty_invoiced="7", unit_price="1.4286")]
    assert categories(run(orders, [ship(qty_shipped="7")], invoices, {"global": {"price_pct": "0.002"}})) == []
    assert categories(run(orders, [ship(qty_shipped="7")], invoices, {"global": {"price_pct": "0.0019"}})) == \
        ["price_variance"]


def test_most_specific_tolerance_wins():
    tolerances = {"global": {"price_pct": 0}, "customers": {"ACME": {"price_pct": 5}}, "skus": {"x": {"price_pct": 1}}}
    orders = [po(po_number="P1", sku="Y", customer="ACME"), po(po_number="P2", sku="X", customer="ACME"),
              po(po_number="P3", sku="Y", customer="BETA")]
    ships = [ship(po_number=p, sku=s) for p, s in (("P1", "Y"), ("P2", "X"), ("P3", "Y"))]
    invoices = [inv(invoice_number=f"I{p}", po_number=p, sku=s, unit_price="5.15")   # 3 % over
                for p, s in (("P1", "Y"), ("P2", "X"), ("P3", "Y"))]
    flagged = {row["po_number"] for row in found(run(orders, ships, invoices, tolerances))}
    assert flagged == {"P2", "P3"}   # ACME's 5 % covers P1; SKU X's 1 % beats ACME's 5 %; BETA has the global 0


def test_leading_zeros_in_line_numbers():
    assert categories(run([po(line_no="001")], [ship(line_no="1")], [inv(line_no="01")])) == []


@pytest.mark.parametrize(("orders", "message"), [
    ([po(qty="ten")], "qty is not a plain decimal number"),
    ([po(unit_price="1.23456")], "at most 4 decimals"),
    ([po(unit_price="-1")], "negative"),
    ([po(uom="PL")], "uom is not a unit we convert"),
    ([po(uom="CS")], "pack_size is empty on a line ordered in cases"),
    ([po(uom="CS", pack_size="0")], "pack_size is not a whole number above 0"),
    ([po(), po()], "the same PO line appears more than once"),
    ([po(sku="")], "sku is empty"),
])
def test_bad_orders_are_named_by_line(orders, message):
    with pytest.raises(MatchDataError) as error:
        run(orders, [], [])
    assert message in str(error.value)
    assert "line 2" in str(error.value)


def test_missing_columns_and_unconvertible_cases():
    with pytest.raises(MatchDataError, match=r"missing column.*pack_size"):
        prepare_orders(pl.DataFrame({"po_number": ["1"]}))
    with pytest.raises(MatchDataError, match="no pack_size"):
        run([po()], [ship(qty_shipped="1", uom="CS")], [])
    with pytest.raises(MatchDataError, match="ship_date is not a date"):
        run([po()], [ship(ship_date="02/11/2026")], [])


def test_tolerance_values_checked():
    with pytest.raises(ToleranceError, match="not a number"):
        Tolerances.parse({"global": {"price_pct": "two"}})
    with pytest.raises(ToleranceError, match="unknown tolerance"):
        Tolerances.parse({"global": {"price": 2}})
    with pytest.raises(ToleranceError, match="at least 0"):
        Tolerances.parse({"skus": {"A": {"qty_abs": -1}}})
    with pytest.raises(ToleranceError, match="more than 4 decimals"):
        Tolerances.parse({"global": {"price_abs": "0.00001"}})
    assert Tolerances.parse({"global": {"price_pct": "2%"}}).default.price_pct == Decimal(2)
