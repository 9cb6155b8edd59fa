"""``hub holds list|show|release``: held invoices listed with their exceptions, released with a note and a
name (audited), nothing released twice, usage errors exit 2."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from hub import store as st
from hub.cli import main
from hub.store import InvoiceState

FINDING = {"category": "over_billed", "po_number": "PO1", "line_no": "1", "sku": "WID-100", "invoice_number": "",
           "ordered_qty": "3", "shipped_qty": "3", "invoiced_qty": "6", "po_unit_price": "4.40",
           "invoice_unit_price": "4.40", "variance_pct": "100.00", "value_at_stake": "13.20",
           "detail": "invoiced 6 eaches, shipped 3"}


@pytest.fixture
def held_store(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    monkeypatch.setenv("HUB_DATABASE_URL", url)
    monkeypatch.setenv("HUB_USER", "maria")
    store = st.HubStore(url).migrate()
    with store.transaction() as conn:
        for n, state in ((1, InvoiceState.HELD), (2, InvoiceState.POSTED)):
            st.add_invoice(conn, target="erp", partner_id="acme", po_number=f"PO{n}", order_id=None,
                           reference=f"orderhub:acme:PO{n}/1", kind="invoice", state=state,
                           lines=[{"line_no": "1", "sku": "WID-100", "quantity": "3", "unit_price": "4.40"}],
                           amount=Decimal("13.20"), refund_of=None, findings=[FINDING] if n == 1 else [],
                           actor="hub", note="held: over_billed on line 1", now=st.utcnow())
    yield store
    store.dispose()


def test_list_shows_held_invoices_and_why(held_store, capsys):
    assert main(["holds", "list"]) == 0
    out = capsys.readouterr().out
    assert "orderhub:acme:PO1/1" in out and "over_billed" in out and "PO2" not in out

    assert main(["holds", "list", "--state", "all", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["po_number"], r["state"]) for r in rows] == [("PO1", "held"), ("PO2", "posted")]


def test_show_gives_lines_exceptions_and_history(held_store, capsys):
    assert main(["holds", "show", "1"]) == 0
    out = capsys.readouterr().out
    assert "over_billed line 1: value at stake 13.20" in out and "hub: created -> held" in out
    assert "hub holds release 1 --note" in out
    assert main(["holds", "show", "99"]) == 1


def test_release_needs_a_note_records_who_and_why_and_happens_once(held_store, capsys):
    assert main(["holds", "release", "1"]) == 2  # --note is required
    assert main(["holds", "release", "1", "--note", "   "]) == 2
    assert main(["holds", "release", "1", "--note", "price agreed with ACME, ticket 4411"]) == 0
    assert "released by maria" in capsys.readouterr().out
    with held_store.transaction() as conn:
        assert st.get_invoice(conn, 1).state is InvoiceState.RELEASED
        last = st.invoice_events_of(conn, 1)[-1]
    assert (last.actor, last.action, last.note) == ("maria", "released", "price agreed with ACME, ticket 4411")

    assert main(["holds", "release", "1", "2", "99", "--note", "again", "--by", "tom"]) == 1
    out = capsys.readouterr().out
    assert "invoice 1: not held (released)" in out and "invoice 2: not held (posted)" in out
    assert "invoice 99: not found" in out


def test_an_unknown_state_is_a_usage_error(held_store):
    assert main(["holds", "list", "--state", "bogus"]) == 2
