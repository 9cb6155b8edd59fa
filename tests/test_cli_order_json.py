"""``hub map``'s fast record writer says exactly what ``DocumentResult.to_json`` says, for every kind of order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from canonical.model import Order
from hub.cli._order_json import document_record, order_exclude, order_json_text
from mappings._results import order_json
from mappings.profiles import PartnerDirectory
from mappings.x12 import process_interchange_file

REPO = Path(__file__).resolve().parent.parent
X12_FILES = sorted((REPO / "tests" / "data" / "x12").rglob("*.x12")) + sorted(
    (REPO / "sandbox" / "samples").glob("*.x12"))


def documents(path: Path) -> list:
    partners = PartnerDirectory.load(REPO / "mappings" / "partners")
    result = process_interchange_file(path.read_bytes(), partners=partners)
    return [d for interchange in result.interchanges for d in interchange.documents]


@pytest.mark.parametrize("path", X12_FILES, ids=lambda p: p.name)
def test_every_sample_document_reads_the_same(path):
    for document in documents(path):
        fast = json.loads(document_record("f.x12", document))
        slow = json.loads(json.dumps(document.to_json(), default=str))
        assert fast == {"record": "document", "file": "f.x12", **slow}
        if document.order is not None:
            assert json.loads(order_json_text(document.order)) == order_json(document.order)


def test_the_samples_cover_line_charges_parties_and_details():
    """The comparison above is only worth something if the samples hold the nested and optional parts."""
    orders = [d.order for path in X12_FILES for d in documents(path) if d.order is not None]
    lines = [line for order in orders for line in order.lines]
    assert any(line.charges for line in lines)  # line parties: test_built_orders_read_the_same
    assert any(line.pack is not None for line in lines) and any(order.carrier for order in orders)


def base_order(**changes) -> dict:
    line = {"line_no": "1", "quantity": "2", "uom": "EA", "unit_price": "1.50", "amount": "3.00"}
    return {"source": "x12", "source_ref": "PO-1", "partner_id": "acme", "order_date": "2026-12-04",
            "lines": [line, {**line, "line_no": "2"}], "total": "6.00", **changes}


@pytest.mark.parametrize("changes", [
    {},
    # Details given explicitly empty must be left out too (not only the ones never set).
    {"carrier": None, "contacts": [], "taxes_included": None},
    {"taxes_included": False, "tax_total": "0"},  # falsy but not empty: kept
    {"parties": [{"role": "ship_to", "name": "Dock 4", "references": {}, "contacts": []},
                 {"role": "bill_to", "name": "HQ", "references": {"DP": "042"}, "entity_code": "BT"}]},
    {"charges": [{"kind": "charge", "code": "D240", "amount": "1.00", "percent": None},
                 {"kind": "allowance", "code": "C310", "amount": "0.50", "percent": "5", "handling": "02"}]},
    {"lines": [{"line_no": "1", "quantity": "2", "dates": {}, "attributes": {"color": "red"},
                "charges": [{"kind": "charge", "code": "H000", "amount": "1", "rate": "0.5"}],
                "parties": [{"role": "ship_to", "id": "0012", "contacts": []}]},
               {"line_no": "2", "quantity": "1", "price_basis": "PE", "pack": "12"}],
     "total": "1"},
    {"references": {"DP": "Café Müller"}},  # non-ASCII: still an ASCII line, as json.dumps writes it
])
def test_built_orders_read_the_same(changes):
    order = Order.model_validate(base_order(**changes))
    text = order_json_text(order)
    assert text.isascii()
    assert json.loads(text) == order_json(order)


def test_an_unchanged_line_layout_is_excluded_once_for_all_lines():
    order = Order.model_validate(base_order())
    assert set(order_exclude(order)["lines"]) == {"__all__"}
