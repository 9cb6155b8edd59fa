"""Properties of the three-way match over generated documents (hypothesis)."""

from __future__ import annotations

from decimal import ROUND_UP, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.matching import EXCEPTIONS
from tests.test_match_engine import categories, inv, po, run, ship

_line = st.fixed_dictionaries({
    "qty": st.integers(1, 500),
    "cents": st.integers(1, 1_000_000),
    "cases": st.booleans(),
    "pack": st.integers(1, 48),
    "split": st.booleans(),          # shipped and invoiced in two parts
    "invoice_in_eaches": st.booleans(),
})


def _documents(lines: list[dict], price_factor: Decimal = Decimal(1)):
    orders, shipments, invoices = [], [], []
    for n, line in enumerate(lines, start=1):
        price = Decimal(line["cents"]) / 100
        uom = "CS" if line["cases"] else "EA"
        orders.append(po(line_no=str(n), sku=f"S{n}", qty=str(line["qty"]), unit_price=str(price), uom=uom,
                         pack_size=str(line["pack"])))
        # Prices carry 4 decimals: a scaled price is rounded up, so it stays beyond the PO price by the factor.
        billed = (price * price_factor).quantize(Decimal("0.0001"), ROUND_UP)
        parts = [line["qty"] - line["qty"] // 2, line["qty"] // 2] if line["split"] else [line["qty"]]
        for k, part in enumerate(filter(None, parts)):
            shipments.append(ship(line_no=str(n), sku=f"S{n}", qty_shipped=str(part), uom=uom, asn_number=f"A{n}-{k}"))
            if line["invoice_in_eaches"] and line["cases"]:
                # The same quantity in eaches; a case price divided by the pack is exact only when it divides.
                each = billed / line["pack"]
                if each != each.quantize(Decimal("0.0001")):
                    each, qty, unit = billed, part, "CS"
                else:
                    qty, unit = part * line["pack"], "EA"
                invoices.append(inv(invoice_number=f"I{n}-{k}", line_no=str(n), sku=f"S{n}", qty_invoiced=str(qty),
                                    unit_price=format(each.normalize(), "f"), uom=unit))
            else:
                invoices.append(inv(invoice_number=f"I{n}-{k}", line_no=str(n), sku=f"S{n}", qty_invoiced=str(part),
                                    unit_price=str(billed), uom=uom))
    return orders, shipments, invoices


@settings(max_examples=60, deadline=None)
@given(st.lists(_line, min_size=1, max_size=8))
def test_a_perfectly_matched_set_has_no_exception(lines):
    result = run(*_documents(lines))
    assert categories(result) == []
    assert result.matched.height == len(lines)


@settings(max_examples=60, deadline=None)
@given(st.lists(_line, min_size=1, max_size=8), st.integers(201, 5000))
def test_prices_scaled_beyond_tolerance_flag_every_line(lines, basis_points_over):
    # Every invoice price 2.01 % or more above the PO price (2 % allowed): every line has a price variance.
    factor = 1 + Decimal(basis_points_over) / 10_000
    orders, shipments, invoices = _documents(lines, factor)
    result = run(orders, shipments, invoices, {"global": {"price_pct": 2}})
    flagged = {row["line_no"] for row in result.exceptions.to_dicts() if row["category"] == "price_variance"}
    assert flagged == {str(n) for n in range(1, len(lines) + 1)}
    assert set(categories(result)) <= set(EXCEPTIONS)
