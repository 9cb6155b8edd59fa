"""``hub match`` end to end on CSV files: every format parses back, exit codes, errors for people."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from hub.cli import main

ORDERS = """po_number,line_no,sku,qty,unit_price,uom,pack_size,customer
PO1,1,A,2,24.00,CS,12,ACME
PO1,2,<b>&B,10,1.00,EA,,ACME
PO2,1,C,5,3.00,EA,,Beta & Co
"""
SHIPMENTS = """po_number,line_no,sku,qty_shipped,ship_date,asn_number,uom
PO1,1,A,24,2026-11-01,ASN-1,EA
PO1,2,<b>&B,10,2026-11-01,ASN-1,EA
PO2,1,C,5,2026-11-02,ASN-2,EA
"""
INVOICES = """invoice_number,invoice_date,po_number,line_no,sku,qty_invoiced,unit_price,uom
INV-1,2026-11-03,PO1,1,A,2,24.00,CS
INV-1,2026-11-03,PO1,2,<b>&B,10,1.05,EA
INV-2,2026-11-04,PO2,1,C,5,3.00,EA
"""


@pytest.fixture
def exports(tmp_path: Path) -> list[str]:
    paths = []
    for name, body in (("orders", ORDERS), ("shipments", SHIPMENTS), ("invoices", INVOICES)):
        path = tmp_path / f"{name}.csv"
        path.write_text(body, encoding="utf-8")
        paths += [f"--{name}", str(path)]
    return paths


def test_json_report_with_a_price_variance_exits_1(exports, capsys):
    assert main(["match", *exports, "--price-tolerance", "2%"]) == 1   # 1.05 vs 1.00 is 5 %
    report = json.loads(capsys.readouterr().out)
    [exception] = report["exceptions"]
    assert exception["category"] == "price_variance"
    assert (exception["po_number"], exception["line_no"], exception["sku"], exception["invoice_number"]) == \
        ("PO1", "2", "<b>&B", "INV-1")
    assert (exception["variance_pct"], exception["value_at_stake"]) == ("5.00", "0.50")   # 10 x 0.05
    assert report["matched"] == [{"po_number": "PO1", "line_no": "1"}, {"po_number": "PO2", "line_no": "1"}]
    assert report["informational"] == []
    assert report["summary"]["value_at_stake"] == "0.50"


def test_no_exception_exits_0_and_says_so_on_stderr(exports, capsys):
    assert main(["match", *exports, "--price-tolerance", "5%"]) == 0   # exactly 5 %: within
    captured = capsys.readouterr()
    report = json.loads(captured.out)
    assert report["exceptions"] == []
    assert [row["category"] for row in report["informational"]] == ["within_tolerance"]
    assert "3 PO lines: 3 matched, 0 exceptions" in captured.err


def test_tolerances_file_per_customer(exports, tmp_path, capsys):
    rules = tmp_path / "tolerances.yaml"
    rules.write_text("global: {price_pct: 0}\ncustomers:\n  ACME: {price_pct: 5, price_abs: '0.05'}\n")
    assert main(["match", *exports, "--tolerances", str(rules)]) == 0
    # The command line replaces the global limits only; ACME's own limit still applies to PO1.
    assert main(["match", *exports, "--tolerances", str(rules), "--price-tolerance", "1"]) == 0
    rules.write_text("skus: {'<B>&B': {price_abs: '0.04'}}\ncustomers: {ACME: {price_pct: 5}}\n")
    assert main(["match", *exports, "--tolerances", str(rules)]) == 1
    assert "customers but the orders have no customer column" not in capsys.readouterr().err
    orders = Path(exports[1])
    orders.write_text("\n".join(line.rsplit(",", 1)[0] for line in ORDERS.splitlines()) + "\n")
    rules.write_text("customers: {ACME: {price_pct: 5}}\n")
    assert main(["match", *exports, "--tolerances", str(rules)]) == 1   # ACME's 5 % cannot apply
    assert "customers but the orders have no customer column" in capsys.readouterr().err


def test_csv_report_reads_back(exports, tmp_path):
    out = tmp_path / "report.csv"
    assert main(["match", *exports, "--format", "csv", "--output", str(out)]) == 1
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [(r["finding"], r["category"]) for r in rows] == [
        ("exception", "price_variance"), ("matched", "matched"), ("matched", "matched")]
    assert (rows[0]["sku"], rows[0]["asn_numbers"], rows[0]["value_at_stake"]) == ("<b>&B", "ASN-1", "0.50")


def test_html_report_escapes_and_summarises(exports, capsys):
    assert main(["match", *exports, "--format", "html"]) == 1
    page = capsys.readouterr().out
    assert page.startswith("<!doctype html>")
    assert "<b>&B" not in page and "&lt;b&gt;&amp;B" in page
    assert 'href="#price_variance">price_variance</a></td><td class=n>1</td><td class=n>0.50</td>' in page
    assert '<h2 id="price_variance">price_variance (1)</h2>' in page
    assert '<h2 id="over_billed">' not in page   # categories without rows get no table


def test_xlsx_report_opens(exports, tmp_path, capsys):
    out = tmp_path / "report.xlsx"
    assert main(["match", *exports, "--format", "xlsx", "--output", str(out)]) == 1
    book = CalamineWorkbook.from_path(str(out))
    assert book.sheet_names == ["Summary", "Customers", "Aging", "Exceptions", "Informational", "Matched"]
    summary = book.get_sheet_by_name("Summary").to_python()
    assert summary[0] == ["category", "count", "value_at_stake"]
    assert ["price_variance", 1, 0.5] in [row[:3] for row in summary]
    exceptions = book.get_sheet_by_name("Exceptions").to_python()
    header, row = exceptions[0], exceptions[1]
    assert row[header.index("sku")] == "<b>&B" and row[header.index("value_at_stake")] == 0.5
    assert len(book.get_sheet_by_name("Matched").to_python()) == 3   # header + 2 lines
    capsys.readouterr()


def test_xlsx_without_output_is_a_usage_error(exports, capsys):
    assert main(["match", *exports, "--format", "xlsx"]) == 2
    assert "--output" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["2x", "-1", "1.00001"])
def test_bad_tolerance_is_a_usage_error(exports, capsys, value):
    assert main(["match", *exports, "--price-tolerance", value]) == 2
    assert "--price-tolerance" in capsys.readouterr().err


def test_missing_columns_and_bad_numbers_exit_1_naming_file_line_and_value(exports, tmp_path, capsys):
    orders = Path(exports[1])
    orders.write_text("po_number,line_no,sku,qty,unit_price,uom\nPO1,1,A,2,24.00,CS\n")
    assert main(["match", *exports]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"orders {orders}: missing column(s) pack_size" in captured.err
    orders.write_text(ORDERS.replace("5,3.00,EA", "5,3,00,EA"))
    assert main(["match", *exports]) == 1
    assert "not a readable CSV file (line 4 has 9 cells, the header 8" in capsys.readouterr().err
    orders.write_text(ORDERS.replace("5,3.00,EA", "five,3.00,EA"))
    assert main(["match", *exports]) == 1
    assert "qty is not a plain decimal number with at most 3 decimals: line 4 'five'" in capsys.readouterr().err


def test_missing_file_is_a_usage_error(exports, capsys):
    exports[1] = "/nonexistent/orders.csv"
    assert main(["match", *exports]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_help_has_examples_and_exit_codes(capsys):
    assert main(["match", "--help"]) == 0
    text = capsys.readouterr().out
    assert "Example" in text and "Exit 0: no exceptions" in text
