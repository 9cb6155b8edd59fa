"""The store-wide three-way match: the ``three_way_match`` asset per business day, its WARN checks, the reports it
links, the history it keeps, auto-release of held invoices found within tolerance, its sensor and schedule."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from hub import store as st
from hub.defs.matching.assets import (
    ASSET,
    match_job,
    three_way_match,
    three_way_match_daily,
    three_way_match_on_change,
    today,
)
from hub.defs.resources import HubStoreResource
from hub.matching import EXCEPTIONS, Tolerances, run_daily_match
from hub.store._match_runs import ShipmentLine, findings_of_run, match_runs_of, record_shipment_lines
from sandbox import demo_match


@pytest.fixture
def store(tmp_path):
    store = st.HubStore(f"sqlite:///{tmp_path / 'hub.sqlite3'}").migrate()
    yield store
    store.dispose()


def materialize(store: st.HubStore, tmp_path: Path, day: dt.date) -> dg.ExecuteInProcessResult:
    return dg.materialize([three_way_match], partition_key=day.isoformat(), resources={
        "hub_store": HubStoreResource(database_url=store.url, partners_dir="mappings/partners")},
        run_config={"ops": {ASSET: {"config": {"report_dir": str(tmp_path / "reports")}}}})


def held_invoice(store: st.HubStore, po: str, price: str, *, order_price: str = "2.00",
                 shipped: str = "5") -> int:
    """An order of 5 eaches at ``order_price``, ``shipped`` of them delivered, an invoice for 5 at ``price`` held."""
    now = st.utcnow()
    with store.transaction() as conn:
        st.save_channel_order(conn, demo_match._order(po, [("1", "SKU-1", "5", order_price)], now.date()),
                              source_updated_at=now, receipt_id=None, now=now - dt.timedelta(days=3),
                              not_pushed_reason="test")
        if Decimal(shipped):
            shipped_on = now.date() - dt.timedelta(days=2)
            record_shipment_lines(conn, [ShipmentLine("erp_delivery", f"WH/OUT/{po}", demo_match.CUSTOMER, po, "1",
                                                      "SKU-1", Decimal(shipped), shipped_on)], now=now)
        return st.add_invoice(
            conn, target="erp", partner_id=demo_match.CUSTOMER, po_number=po, order_id=None, reference=f"ref/{po}",
            kind="invoice", state=st.InvoiceState.HELD, amount=Decimal(price) * 5, refund_of=None,
            lines=[{"line_no": "1", "sku": "SKU-1", "quantity": "5", "unit_price": price, "source_line": "7"}],
            findings=[{"category": "invoiced_not_shipped"}], actor="hub", note="held",
            now=now - dt.timedelta(days=2))


def state_of(store: st.HubStore, invoice_id: int) -> st.InvoiceState:
    with store.transaction() as conn:
        invoice = st.get_invoice(conn, invoice_id)
    assert invoice is not None
    return invoice.state


def test_the_asset_finds_every_category_keeps_the_run_and_links_its_reports(store, tmp_path):
    demo_match.plant(store)
    result = materialize(store, tmp_path, today())

    (materialization,) = result.asset_materializations_for_node(ASSET)
    meta: dict[str, Any] = {key: value.value for key, value in materialization.metadata.items()}
    assert {category for category, row in meta["by_category"].items() if row["count"]} == set(EXCEPTIONS)
    html = Path(meta["report"])
    assert html.is_file() and meta["report_url"] == html.resolve().as_uri()
    assert Path(meta["report_csv"]).is_file() and Path(meta["report_xlsx"]).is_file()
    assert "| price_variance | 1 | 2.50 |" in meta["summary"]
    page = html.read_text()
    for category in EXCEPTIONS:
        assert f'<h2 id="{category}">' in page
    assert "<h2 id=customers>" in page and "<svg class=chart" in page
    # The held over-billed invoice (34 days) and the unbilled kettle shipment (45 days) in the 31-60 bucket.
    assert page.count("<tr><td>31-60</td><td class=n>1</td>") == 2

    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(checks) == {f"no_{category}" for category in EXCEPTIONS}
    assert all(not e.passed and e.severity is dg.AssetCheckSeverity.WARN for e in checks.values())
    assert checks["no_shipped_not_invoiced"].metadata["count"].value == 2
    assert checks["no_shipped_not_invoiced"].metadata["value_at_stake"].value == "162.00"

    with store.transaction() as conn:
        (run,) = match_runs_of(conn, today())
        findings = findings_of_run(conn, run.id)
    assert run.exceptions == len(findings) == meta["exceptions"] == 10
    assert run.value_at_stake == Decimal("253.50") and run.report_dir == str(html.parent)
    assert {f["category"] for f in findings} == set(EXCEPTIONS)


def test_a_held_invoice_found_clean_is_released_once_audited_and_only_by_todays_partition(store, tmp_path):
    clean = held_invoice(store, "PO-CLEAN", "2.00")
    unshipped = held_invoice(store, "PO-UNSHIPPED", "2.00", shipped="0")

    materialize(store, tmp_path, today() - dt.timedelta(days=1))  # yesterday: the orders exist, nothing released
    assert state_of(store, clean) is st.InvoiceState.HELD

    result = materialize(store, tmp_path, today())
    (materialization,) = result.asset_materializations_for_node(ASSET)
    assert materialization.metadata["released_invoices"].value == [clean]
    assert state_of(store, clean) is st.InvoiceState.RELEASED
    assert state_of(store, unshipped) is st.InvoiceState.HELD  # invoiced, nothing shipped: still held
    with store.transaction() as conn:
        last = st.invoice_events_of(conn, clean)[-1]
        runs = match_runs_of(conn)
    assert (last.actor, last.action, last.from_state, last.to_state) == ("hub", "auto_released", "held", "released")
    assert today().isoformat() in last.note and "within tolerance" in last.note
    assert [run.released for run in runs] == [[clean], []]  # newest first: today's released it, yesterday's not

    materialize(store, tmp_path, today())  # again: nothing left to release
    with store.transaction() as conn:
        assert match_runs_of(conn, today())[0].released == []
        assert [e.action for e in st.invoice_events_of(conn, clean)].count("auto_released") == 1


def test_an_invoice_held_for_what_only_the_target_sees_is_left_to_the_invoicing_pass(store):
    """Held as over-billed: maybe against an invoice typed by hand in the ERP, which the store does not hold."""
    invoice = held_invoice(store, "PO-BYHAND", "2.00")
    with store.transaction() as conn:
        conn.execute(st.tables.invoices.update().where(st.tables.invoices.c.id == invoice)
                     .values(findings=[{"category": "over_billed"}]))
    done = run_daily_match(store, today())
    assert done.result.exceptions.is_empty() and done.released == []
    assert state_of(store, invoice) is st.InvoiceState.HELD


@pytest.mark.parametrize(("price", "released"), [("2.04", True), ("2.0401", False)])
def test_auto_release_uses_the_tolerance_exactly_at_the_limit_passes(store, tmp_path, price, released):
    invoice = held_invoice(store, "PO-PRICE", price)
    done = run_daily_match(store, today(), tolerances=Tolerances.parse({"global": {"price_pct": "2%"}}))
    assert (done.released == [invoice]) is released
    assert state_of(store, invoice) is (st.InvoiceState.RELEASED if released else st.InvoiceState.HELD)


def test_a_partition_sees_the_store_as_it_stood_at_its_days_end(store):
    invoice = held_invoice(store, "PO-LATE", "2.00", shipped="0")
    with store.transaction() as conn:  # delivered tomorrow (a dated delivery recorded ahead)
        record_shipment_lines(conn, [ShipmentLine("erp_delivery", "WH/OUT/9", demo_match.CUSTOMER, "PO-LATE", "1",
                                                  "SKU-1", Decimal(5), today() + dt.timedelta(days=1))],
                              now=st.utcnow())
    done = run_daily_match(store, today(), release=False)
    assert [row["category"] for row in done.result.exceptions.to_dicts()] == ["invoiced_not_shipped"]
    later = run_daily_match(store, today() + dt.timedelta(days=1))
    assert later.result.exceptions.is_empty() and later.released == [invoice]
    earlier = run_daily_match(store, today() - dt.timedelta(days=5), release=False)
    assert earlier.summary["po_lines"] == 0, "the order came in three days ago"


def test_recording_a_shipment_line_again_replaces_it(store):
    line = ShipmentLine("asn", "ASN-1", "acme", "PO-1", "1", "SKU-1", Decimal(3), today())
    with store.transaction() as conn:
        record_shipment_lines(conn, [line], now=st.utcnow())
        record_shipment_lines(conn, [ShipmentLine(**{**line.__dict__, "quantity": Decimal(4)})], now=st.utcnow())
        from hub.store._match_runs import shipment_lines

        assert [(s.document, s.quantity) for s in shipment_lines(conn, until=today())] == [("ASN-1", Decimal(4))]


def test_the_sensor_asks_for_todays_partition_when_invoices_or_shipments_change(store):
    instance = dg.DagsterInstance.ephemeral()

    resource = HubStoreResource(database_url=store.url, partners_dir="mappings/partners")
    defs = dg.Definitions(assets=[three_way_match], jobs=[match_job], sensors=[three_way_match_on_change],
                          resources={"hub_store": resource})

    def tick(cursor: str | None) -> tuple[list[dg.RunRequest], str | None]:
        context = dg.build_sensor_context(instance=instance, cursor=cursor, definitions=defs,
                                          resources={"hub_store": resource})
        result = three_way_match_on_change.evaluate_tick(context)
        return list(result.run_requests or []), result.cursor

    assert tick(None) == ([], None), "no invoice and no shipment line: nothing to match"
    held_invoice(store, "PO-S", "2.00")
    (request,), cursor = tick(None)
    assert request.partition_key == today().isoformat() and request.tags["hub/trigger"] == "on_change"
    assert tick(cursor)[0] == [], "nothing changed since"
    with store.transaction() as conn:
        st.release_invoice(conn, 1, actor="finance", note="agreed", now=st.utcnow())
    (again,), _ = tick(cursor)
    assert again.run_key != request.run_key


def test_the_daily_schedule_matches_the_day_that_closed():
    defs = dg.Definitions(assets=[three_way_match], jobs=[match_job], schedules=[three_way_match_daily],
                          resources={"hub_store": HubStoreResource(partners_dir="mappings/partners")})
    context = dg.build_schedule_context(scheduled_execution_time=dt.datetime(2026, 12, 4, 6, tzinfo=dt.UTC),
                                        repository_def=defs.get_repository_def())
    request = three_way_match_daily.evaluate_tick(context).run_requests
    assert request is not None and [r.partition_key for r in request] == ["2026-12-03"]


def test_the_xlsx_has_the_customers_and_aging_sheets(store, tmp_path):
    demo_match.plant(store)
    done = run_daily_match(store, today(), report_dir=tmp_path)
    with zipfile.ZipFile(done.reports["xlsx"]) as book:
        sheets = re.findall(r'<sheet name="([^"]+)"', book.read("xl/workbook.xml").decode())
    assert sheets == ["Summary", "Customers", "Aging", "Exceptions", "Informational", "Matched"]


def test_the_code_location_has_the_asset_its_checks_job_schedule_and_sensor():
    from hub.definitions import defs

    repository = defs().get_repository_def()
    assert dg.AssetKey(ASSET) in repository.asset_graph.get_all_asset_keys()
    assert {"three_way_match_daily"} <= {s.name for s in repository.schedule_defs}
    assert {"three_way_match_on_change"} <= {s.name for s in repository.sensor_defs}
    checks = {key.name for key in repository.asset_graph.asset_check_keys if key.asset_key == dg.AssetKey(ASSET)}
    assert checks == {f"no_{category}" for category in EXCEPTIONS}


def test_aging_buckets_end_at_30_60_and_90_days(store):
    from hub.matching import Hold, aging

    empty = run_daily_match(store, today(), release=False).result
    as_of = dt.date(2026, 12, 4)
    holds = [Hold(f"I{days}", "acme", "PO", Decimal("1.00"), as_of - dt.timedelta(days=days))
             for days in (0, 30, 31, 60, 61, 90, 91)]
    buckets = aging(empty, as_of, holds)["held_invoices"]
    assert [(row["age_days"], row["count"], row["value"]) for row in buckets] == [
        ("0-30", 2, "2.00"), ("31-60", 2, "2.00"), ("61-90", 2, "2.00"), ("90+", 1, "1.00")]
