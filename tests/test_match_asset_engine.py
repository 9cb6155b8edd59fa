"""The engine's hash shortcuts (documents joined to PO lines, resubmitted invoice lines found) give exactly the
result of comparing the texts, whatever the hashes do: colliding everywhere, or only between a document's
key and another PO line's."""

from __future__ import annotations

import polars as pl
import pytest

from hub.matching import _engine
from tests.test_match_engine import inv, po, run, ship

ORDERS = [po("P1", "1", "A", "10"), po("PO22", "1", "B", "4", "2.00"), po("PO22", "2", "C", "3"),
          po("PO3", "1", "D", "5", "1.00", uom="CS", pack_size="6")]
SHIPMENTS = [ship("P1", "1", "A", "10"), ship("PO22", "1", "B", "5"), ship("X9", "1", "Z", "2"),  # no such PO
             ship("PO22", "2", "WRONG", "3"), ship("PO3", "1", "D", "30"), ship("PO22", "3", "C", "1")]
INVOICES = [inv("I1", "P1", "1", "A", "10"), inv("I1", "P1", "1", "a", "10"),  # the same line again (SKU case)
            inv("I2", "PO22", "1", "B", "5", "2.10"), inv("I3", "X9", "1", "Z", "2", "1.00"),
            inv("I4", "", "", "Q", "1", "1.00"), inv("I5", "PO3", "1", "D", "5", "6.00", uom="CS"),
            inv("I5", "PO3", "1", "D", "5", "6.00", uom="CS"), inv("I6", "PO22", "2", "C", "3")]


def _all(result: _engine.MatchResult) -> list[pl.DataFrame]:
    return [frame.with_columns(pl.col(pl.List(pl.String)).list.join(" ")).sort(pl.all(), nulls_last=True)
            for frame in (result.exceptions, result.informational, result.matched)]


@pytest.mark.parametrize("hashed", [
    # every key collides (0 on every row): the PO lines' hashes repeat, the texts decide
    lambda value: value.struct.field("line_no").str.len_bytes().fill_null(0).cast(pl.UInt64) * 0,
    # unique over the PO lines, but X9/1 collides with P1/1 (PO length, line): the texts must refuse the candidate
    lambda value: value.struct.field("po_number").str.len_bytes().cast(pl.UInt64) * 1000
    + value.struct.field("line_no").cast(pl.UInt64, strict=False),
], ids=["all-collide", "document-collides"])
def test_hash_collisions_change_nothing(monkeypatch, hashed):
    expected = run(ORDERS, SHIPMENTS, INVOICES, {"global": {"price_pct": "2"}})
    categories = set(expected.exceptions["category"].to_list())
    assert {"duplicate_invoice", "invoice_without_po", "shipment_without_po", "sku_mismatch", "price_variance",
            "over_shipped"} <= categories
    monkeypatch.setattr(_engine, "_hash", hashed)
    collided = run(ORDERS, SHIPMENTS, INVOICES, {"global": {"price_pct": "2"}})
    for got, want in zip(_all(collided), _all(expected), strict=True):
        assert got.equals(want)
