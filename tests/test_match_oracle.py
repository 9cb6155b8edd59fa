"""The polars engine against a plain-Python reading of the rules (exact fractions, one line at a time) on
generated documents: every quantity and price category, informational findings and matched lines must agree.

The oracle divides freely (price per each = case price / pack) in exact rational arithmetic; the engine
never divides. A Decimal oracle would be wrong at the boundary itself: 0.01 / 7 rounded at any precision
makes an invoice at exactly 2 % off read as just over."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.test_match_engine import inv, po, run, ship

_PACKS = st.integers(1, 24)
_FACTORS = st.sampled_from(["0.95", "0.98", "0.99", "1", "1", "1.01", "1.02", "1.025", "1.05"])
_TOLERANCES = st.fixed_dictionaries({
    "price_pct": st.sampled_from([None, "2"]), "price_abs": st.sampled_from([None, "0.05"]),
    "qty_pct": st.sampled_from([None, "5"]), "qty_abs": st.sampled_from([None, "1"]),
})


@st.composite
def documents(draw):
    orders, shipments, invoices, lines = [], [], [], []
    for n in range(1, draw(st.integers(1, 5)) + 1):
        cases, pack = draw(st.booleans()), draw(_PACKS)
        price = Decimal(draw(st.integers(1, 10_000))) / 100
        qty = draw(st.integers(1, 40))
        orders.append(po(line_no=str(n), sku=f"S{n}", qty=str(qty), unit_price=str(price), uom="CS" if cases else "EA",
                         pack_size=str(pack)))
        line = {"n": n, "ordered": qty * (pack if cases else 1), "po_each": Fraction(price) / (pack if cases else 1),
                "po_price": price, "f_po": pack if cases else 1, "pack": pack, "shipped": 0, "invoiced": 0,
                "bills": []}
        # Quantities near the boundaries are what tolerances decide: often exactly or nearly what was ordered.
        near_ordered = draw(st.sampled_from([None, 0, 1, -1, 2]))
        if near_ordered is not None:
            shipments.append(ship(line_no=str(n), sku=f"S{n}", qty_shipped=str(line["ordered"] + near_ordered),
                                  asn_number=f"A{n}"))
            line["shipped"] += line["ordered"] + near_ordered
        for k in range(draw(st.integers(0, 2)) if near_ordered is None else 0):
            in_cases, q = draw(st.booleans()), draw(st.integers(0, 30))
            shipments.append(ship(line_no=str(n), sku=f"S{n}", qty_shipped=str(q), uom="CS" if in_cases else "EA",
                                  asn_number=f"A{n}{k}"))
            line["shipped"] += q * (pack if in_cases else 1)
        near_shipped = draw(st.sampled_from([None, 0, 1, -1, 2]))
        if near_shipped is not None and line["shipped"] + near_shipped > 0:
            quantities = [(False, line["shipped"] + near_shipped)]
        else:
            quantities = [(draw(st.booleans()), draw(st.integers(1, 30))) for _ in range(draw(st.integers(0, 2)))]
        for k, (in_cases, q) in enumerate(quantities):
            exact = line["po_each"] * Fraction(draw(_FACTORS)) * (pack if in_cases else 1)
            unit = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal("0.0001"), ROUND_HALF_UP)
            if unit == 0:
                continue
            invoices.append(inv(invoice_number=f"I{n}{k}", line_no=str(n), sku=f"S{n}", qty_invoiced=str(q),
                                unit_price=str(unit), uom="CS" if in_cases else "EA"))
            line["invoiced"] += q * (pack if in_cases else 1)
            line["bills"].append((f"I{n}{k}", Fraction(unit) / (pack if in_cases else 1), pack if in_cases else 1))
        lines.append(line)
    return orders, shipments, invoices, lines


def _within(diff, base, pct, absolute):
    if diff == 0:
        return True
    if pct is None and absolute is None:
        return False
    pct_ok = pct is None or abs(diff) * 100 <= Fraction(pct) * base
    return pct_ok and (absolute is None or abs(diff) <= Fraction(absolute))


def expected(lines, tol):
    """The rules of docs/three-way-match.md, line by line."""
    found: set[tuple[str, ...]] = set()
    info: set[tuple[str, ...]] = set()
    matched: set[str] = set()
    for line in lines:
        n, o, s, i = str(line["n"]), line["ordered"], line["shipped"], line["invoiced"]
        ship_ok = _within(s - o, o, tol["qty_pct"], tol["qty_abs"])
        bill_ok = _within(i - s, s, tol["qty_pct"], tol["qty_abs"])
        flags: set[tuple[str, ...]] = set()
        if s > o and not ship_ok:
            flags.add(("over_shipped", n))
        if i > 0 and s == 0:
            flags.add(("invoiced_not_shipped", n))
        if s > 0 and i > s and not bill_ok:
            flags.add(("over_billed", n))
        if s > i and not bill_ok:
            flags.add(("shipped_not_invoiced", n))
        for number, each, _ in line["bills"]:
            diff_each = each - line["po_each"]
            # the absolute limit is per unit of the PO line's price
            ok = _within(diff_each * line["f_po"], Fraction(line["po_price"]), tol["price_pct"], tol["price_abs"])
            if not ok:
                flags.add(("price_variance", n, number))
            elif diff_each != 0:
                info.add(("within_tolerance", n))
        found |= flags
        if s == 0 and i == 0:
            info.add(("open_not_shipped", n))
        if s != o and s > 0 and ship_ok:
            info.add(("within_tolerance", n))
        if i != s and s > 0 and i > 0 and bill_ok:
            info.add(("within_tolerance", n))
        if s > 0 and s < o and not ship_ok and i > 0 and bill_ok:
            info.add(("partial_shipment_billed", n))
        if s > 0 and i > 0 and ship_ok and bill_ok and not flags:
            matched.add(n)
    return found, info, matched


@settings(max_examples=150, deadline=None)
@given(documents(), _TOLERANCES)
def test_engine_agrees_with_the_rules_read_line_by_line(docs, tol):
    orders, shipments, invoices, lines = docs
    result = run(orders, shipments, invoices, {"global": {k: v for k, v in tol.items() if v is not None}})
    found = {(r["category"], r["line_no"], r["invoice_number"]) if r["category"] == "price_variance"
             else (r["category"], r["line_no"]) for r in result.exceptions.to_dicts()}
    info = {(r["category"], r["line_no"]) for r in result.informational.to_dicts()}
    want_found, want_info, want_matched = expected(lines, tol)
    assert found == want_found
    assert info == want_info
    assert set(result.matched["line_no"].to_list()) == want_matched
