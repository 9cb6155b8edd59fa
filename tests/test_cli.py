"""The ``hub`` command line as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub import store as st
from hub.cli import main
from hub.intake import process_x12_receipt, receive_document
from mappings.profiles import PartnerDirectory

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sandbox" / "samples"


def test_schema_prints_the_canonical_order_schema(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "Order"
    for key in ("source", "source_ref", "partner_id", "purpose", "order_date", "currency", "parties", "lines",
                "charges", "total"):
        assert key in schema["properties"], key
    line = schema["$defs"]["OrderLine"]["properties"]
    fields = {"line_no", "sku", "gtin", "buyer_part", "description", "quantity", "uom", "unit_price", "amount"}
    assert fields <= set(line)


def test_map_prints_one_json_object_per_file_and_writes_nothing(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HUB_DATABASE_URL", raising=False)
    files = [SAMPLES / "acme_po_4500012345.x12", SAMPLES / "acme_po_broken.x12", tmp_path / "nope.txt"]
    files[2].write_text("hello, not EDI")
    assert main(["map", "--source", "x12", *map(str, files)]) == 0
    outputs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o["outcome"] for o in outputs] == ["accepted", "partially_accepted", "not_x12"]
    good, broken, other = outputs
    assert [d["order"]["source_ref"] for d in good["documents"]] == ["4500012345", "4500012346"]
    assert good["documents"][0]["order"]["total"] == "358.90", (
        "102.00 + 199.90 + 42.00 + 15.00 freight (SAC05 1500, 2 implied decimals)"
    )
    assert good["documents"][0]["order"]["lines"][0] == {
        "line_no": "1", "sku": "WID-100", "gtin": "012345678905", "buyer_part": None,
        "description": "Widget, blue, 100 mm", "quantity": "24", "uom": "EA", "unit_price": "4.25",
        "amount": "102.00", "charges": []}
    assert broken["documents"][0]["outcome"] == "rejected"
    assert {e["location"] for e in broken["documents"][0]["errors"]} >= {
        "ISA 000004513 / GS 4513 / ST 0001 / segment 2 (BEG) / element 5"}
    assert len(broken["acks"]) == 1 and "AK9*P*2*2*1" in broken["acks"][0]
    assert other["acks"] == [] and "X12" in other["reason"]
    assert list(tmp_path.iterdir()) == [tmp_path / "nope.txt"], "map writes no store"


def test_map_reports_an_unreadable_file(capsys, tmp_path):
    assert main(["map", "--source", "x12", str(tmp_path / "missing.x12")]) == 1
    assert "cannot read" in capsys.readouterr().err


@pytest.fixture
def queued_store(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    monkeypatch.setenv("HUB_DATABASE_URL", url)
    store = st.HubStore(url).migrate()
    partners = PartnerDirectory.load(REPO / "mappings" / "partners")
    data = (SAMPLES / "acme_po_broken.x12").read_bytes()
    receipt = receive_document(store, channel="sftp", partner_id="acme", source_name="broken.x12", data=data,
                               max_bytes=10_000)
    process_x12_receipt(store, partners, receipt.id)
    yield store
    store.dispose()


def test_exceptions_list_show_and_replay(queued_store, capsys):
    assert main(["exceptions", "list"]) == 0
    listing = capsys.readouterr().out
    assert "rejected_document" in listing and "broken.x12" in listing and "BEG05" in listing

    assert main(["exceptions", "list", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["file"] == "broken.x12" and row["state"] == "open"

    assert main(["exceptions", "show", str(row["id"])]) == 0
    shown = capsys.readouterr().out
    assert "segment 2 (BEG) / element 5" in shown and f"hub exceptions replay {row['id']}" in shown

    # Nothing was fixed, so the replay fails, says why, and keeps the exception open.
    assert main(["exceptions", "replay", str(row["id"])]) == 1
    assert "still failing" in capsys.readouterr().out
    assert main(["exceptions", "show", "999"]) == 1


def test_exceptions_resolve_closes_open_ones_with_a_note(queued_store, capsys):
    with queued_store.transaction() as conn:
        (row,) = st.list_exceptions(conn)
    assert main(["exceptions", "resolve", str(row.id), "--note", "  "]) == 2  # a note is what makes it an audit
    assert main(["exceptions", "resolve", str(row.id), "--note", "partner resent it as PO 4500012399"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"exception {row.id}: resolved"
    with queued_store.transaction() as conn:
        closed = st.get_exception(conn, row.id)
        assert st.list_exceptions(conn) == []
    assert (closed.state, closed.resolution) == ("resolved", "partner resent it as PO 4500012399")
    # Resolving again, or an id that does not exist, changes nothing and fails.
    assert main(["exceptions", "resolve", str(row.id), "999", "--note", "again"]) == 1
    assert capsys.readouterr().out.splitlines()[-2:] == [f"exception {row.id}: already resolved",
                                                          "exception 999: not found"]
    with queued_store.transaction() as conn:
        assert st.get_exception(conn, row.id).resolution == "partner resent it as PO 4500012399"
    assert main(["exceptions", "show", str(row.id)]) == 0
    assert "resolution: partner resent it as PO 4500012399" in capsys.readouterr().out


def test_exceptions_list_filters_by_state_and_refuses_an_unknown_one(queued_store, capsys):
    with queued_store.transaction() as conn:
        (row,) = st.list_exceptions(conn)
        st.close_exception(conn, row.id, state=st.ExceptionState.RESOLVED, now=st.utcnow(), note="handled")
    assert main(["exceptions", "list"]) == 0
    assert capsys.readouterr().out == "no open exceptions\n"
    assert main(["exceptions", "list", "--state", "resolved", "--json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert (listed["id"], listed["state"], listed["file"]) == (row.id, "resolved", "broken.x12")
    assert main(["exceptions", "list", "--state", "all"]) == 0
    assert "resolved" in capsys.readouterr().out
    assert main(["exceptions", "list", "--state", "closed"]) == 2
    assert "--state is one of open, replayed, resolved or all" in capsys.readouterr().err


def test_exceptions_commands_open_the_store_in_the_data_folder_without_a_url(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("HUB_DATABASE_URL", raising=False)
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    store = st.HubStore(f"sqlite:///{tmp_path / 'hub.sqlite3'}").migrate()
    with store.transaction() as conn:
        st.open_exception(conn, channel="erp", kind=st.ExceptionKind.ERP_REJECTED, reason="unknown SKU",
                          now=st.utcnow())
    store.dispose()
    assert main(["exceptions", "list"]) == 0
    assert "erp_rejected" in capsys.readouterr().out


def test_map_shopify_bodies_as_saved(capsys):
    data = REPO / "tests" / "data" / "shopify"
    files = [data / "orders_page_multicurrency.json", data / "webhook_orders_create_digital.json"]
    assert main(["map", "--source", "shopify", *map(str, files)]) == 0
    page, webhook = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    expected = json.loads((data / "orders_page_multicurrency.expected.json").read_text())
    assert page["outcome"] == expected["outcome"]
    assert [d["order"]["source_ref"] for d in page["documents"] if d["order"]] == [
        d["order"]["source_ref"] for d in expected["documents"] if d["order"]]
    assert all(d["order"]["source"] == "shopify" and d["order"]["partner_id"] == "trailhead"
               for d in page["documents"] if d["order"])
    assert webhook["acks"] == [] and len(webhook["documents"]) == 1


def test_map_amazon_joins_items_to_orders_across_files(capsys):
    data = REPO / "tests" / "data" / "amazon"
    pages = sorted(data.glob("get_orders_page*.json"))
    items = sorted(data.glob("order_items_*.json"))
    assert main(["map", "--source", "amazon", *map(str, pages + items)]) == 0
    (result,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    orders = {d["order"]["source_ref"]: d for d in result["documents"] if d["order"]}
    assert "113-0000001-0000001" in orders
    two_pages = orders["113-0000001-0000001"]["order"]["lines"]
    assert len(two_pages) >= 2, "items from both getOrderItems pages are joined to their order"

    # Without the items files, orders are reported as incomplete instead of guessed.
    assert main(["map", "--source", "amazon", str(pages[0])]) == 0
    (alone,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {d["outcome"] for d in alone["documents"]} <= {"incomplete", "held", "rejected"}
    assert all(d["order"] is None for d in alone["documents"] if d["outcome"] == "incomplete")
