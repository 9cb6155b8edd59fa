"""Three-way match of 1,000,000 PO lines: wall and CPU time per step, peak RSS, and the ratio to a SQL join.

    .venv/bin/python benchmarks/three_way_match.py [--lines 1000000] [--keep DIR]

A child process writes the three CSV exports (``--lines`` PO lines of 10 lines per PO, a quarter ordered in
cases of 12; shipments in eaches, one line in ten shipped in two parts, 2 % not shipped; one invoice line per
shipment, 1 % of them 5 % above the PO price, 0.5 % resubmitted, 0.5 % naming an unknown PO). This process
then does what ``hub match`` does, timing each step: read and check the exports (``read_export`` +
``prepare_*``), match, and build the JSON report. Its peak RSS (``ru_maxrss``) is measured here, where
nothing but the hub was loaded before: the generator's memory is the child's.

The yardstick: another child loads the same exports into a SQLite store (as the hub's store, one table each,
the orders keyed by ``(po_number, line_no)``) and times the plain SQL join that sums each PO line's shipped and
invoiced quantities, which is all a database would do before the match's rules even start. The match's time is
printed as a ratio to it. CPU time (``time.process_time``, all threads) is printed beside the wall time: on a
shared machine the wall time depends on the load (printed too) more than on the code.

Compare ratios between machines rather than absolute numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import polars as pl

from hub import matching


def _money(cents: pl.Expr) -> pl.Expr:
    return pl.concat_str((cents // 100).cast(pl.String), pl.lit("."),
                         (cents % 100).cast(pl.String).str.pad_start(2, "0"))


def generate(folder: Path, lines: int) -> None:
    """Write orders.csv, shipments.csv and invoices.csv for ``lines`` PO lines (vectorized, seconds)."""
    i = pl.int_range(0, lines, dtype=pl.Int64, eager=True).alias("i")
    base = pl.DataFrame(i).with_columns(
        po_number=pl.format("PO{}", pl.col("i") // 10), line_no=(pl.col("i") % 10 + 1).cast(pl.String),
        sku=pl.format("SKU{}", pl.col("i") % 50_000), qty=1 + pl.col("i") % 20, cases=pl.col("i") % 4 == 0,
        # A case price divisible by 3 cents is an exact 4-decimal price per each (of 12): invoices in eaches
        # at the PO price match exactly.
        cents=3 * (34 + (pl.col("i") * 7) % 3_000), customer=pl.format("C{}", pl.col("i") % 100))
    base = base.with_columns(eaches=pl.when("cases").then(pl.col("qty") * 12).otherwise("qty"))
    base.select("po_number", "line_no", "sku", pl.col("qty").cast(pl.String),
                _money(pl.col("cents")).alias("unit_price"),
                pl.when("cases").then(pl.lit("CS")).otherwise(pl.lit("EA")).alias("uom"),
                pl.when("cases").then(pl.lit("12")).otherwise(pl.lit("")).alias("pack_size"), "customer",
                ).write_csv(folder / "orders.csv")
    shipped = base.filter(pl.col("i") % 50 != 7)   # 2 % not shipped
    split = shipped.filter(pl.col("i") % 10 == 3)
    parts = pl.concat([
        shipped.with_columns(part=pl.lit(0), q=pl.when(pl.col("i") % 10 == 3).then(pl.col("eaches") // 2)
                             .otherwise("eaches")),
        split.with_columns(part=pl.lit(1), q=pl.col("eaches") - pl.col("eaches") // 2),
    ]).filter(pl.col("q") > 0)
    parts.select("po_number", "line_no", "sku", pl.col("q").cast(pl.String).alias("qty_shipped"),
                 pl.lit("2026-11-02").alias("ship_date"), pl.format("ASN{}-{}", pl.col("i") // 10, "part")
                 .alias("asn_number"), pl.lit("EA").alias("uom")).write_csv(folder / "shipments.csv")
    each_cents = pl.when("cases").then(pl.col("cents") * 100 // 12).otherwise(pl.col("cents") * 100)  # 1/10000
    each_cents = pl.when(pl.col("i") % 100 == 11).then(each_cents * 105 // 100).otherwise(each_cents)
    invoices = parts.select(
        pl.format("INV{}-{}", pl.col("i") // 10, "part").alias("invoice_number"), pl.lit("2026-11-03")
        .alias("invoice_date"),
        pl.when(pl.col("i") % 200 == 5).then(pl.lit("PO-UNKNOWN")).otherwise("po_number").alias("po_number"),
        "line_no", "sku", pl.col("q").cast(pl.String).alias("qty_invoiced"),
        pl.concat_str((each_cents // 10_000).cast(pl.String), pl.lit("."),
                      (each_cents % 10_000).cast(pl.String).str.pad_start(4, "0")).alias("unit_price"),
        pl.lit("EA").alias("uom"), pl.col("i"))
    pl.concat([invoices, invoices.filter(pl.col("i") % 200 == 9)]).drop("i").write_csv(folder / "invoices.csv")


_SQL_JOIN = """
    SELECT count(*), total(s.shipped), total(i.invoiced) FROM orders AS o
    LEFT JOIN (SELECT po_number, line_no, sum(qty_shipped) AS shipped FROM shipments GROUP BY po_number, line_no)
        AS s ON s.po_number = o.po_number AND s.line_no = o.line_no
    LEFT JOIN (SELECT po_number, line_no, sum(qty_invoiced) AS invoiced FROM invoices GROUP BY po_number, line_no)
        AS i ON i.po_number = o.po_number AND i.line_no = o.line_no"""
_SQL_TABLES = {"orders": ("po_number", "line_no", "sku", "qty", "unit_price"),
               "shipments": ("po_number", "line_no", "sku", "qty_shipped"),
               "invoices": ("invoice_number", "po_number", "line_no", "sku", "qty_invoiced", "unit_price")}


def sql_join(folder: Path) -> None:
    """Load the exports into a SQLite file (not timed), then print the wall and CPU seconds of the SQL join."""
    store = folder / "store.sqlite"
    store.unlink(missing_ok=True)  # a kept folder's from an earlier run
    database = sqlite3.connect(store)
    for table, columns in _SQL_TABLES.items():
        numbers = {"qty", "qty_shipped", "qty_invoiced", "unit_price"}
        database.execute(f"CREATE TABLE {table} (" + ", ".join(
            f"{c} {'NUMERIC' if c in numbers else 'TEXT'}" for c in columns) + ")")
        frame = pl.read_csv(folder / f"{table}.csv", infer_schema=False, columns=list(columns))
        database.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(columns))})",
                             frame.iter_rows())
    database.execute("CREATE UNIQUE INDEX orders_line ON orders (po_number, line_no)")
    database.commit()
    database.execute("ANALYZE")
    wall, cpu = time.perf_counter(), time.process_time()
    lines, _, _ = database.execute(_SQL_JOIN).fetchone()
    print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "lines": lines}))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> int:
    """Generate in a child, then time reading, matching and the JSON report here."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="write the exports here and keep them")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--sql", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate, args.lines)
        return 0
    if args.sql:
        sql_join(args.sql)
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--generate", str(folder), "--lines", str(args.lines)], check=True)
        print(f"generated {args.lines:,} PO lines in {time.perf_counter() - started:.1f} s: " + ", ".join(
            f"{p.name} {p.stat().st_size / 1e6:.0f} MB" for p in sorted(folder.glob("*.csv"))))
        timings: dict[str, tuple[float, float, float]] = {}  # step: wall, CPU, load average
        peaks = {}
        started, cpu = time.perf_counter(), time.process_time()
        orders = matching.prepare_orders(matching.read_export(folder / "orders.csv", "orders"))
        shipments = matching.prepare_shipments(matching.read_export(folder / "shipments.csv", "shipments"))
        invoices = matching.prepare_invoices(matching.read_export(folder / "invoices.csv", "invoices"))
        timings["read and check"] = (time.perf_counter() - started, time.process_time() - cpu, os.getloadavg()[0])
        peaks["read and check"] = _peak_mb()
        started, cpu = time.perf_counter(), time.process_time()
        result = matching.match(orders, shipments, invoices, matching.Tolerances.parse({"global": {"price_pct": 2}}))
        timings["match"] = (time.perf_counter() - started, time.process_time() - cpu, os.getloadavg()[0])
        peaks["match"] = _peak_mb()
        started, cpu = time.perf_counter(), time.process_time()
        report = json.dumps(matching.to_json(result))
        timings["JSON report"] = (time.perf_counter() - started, time.process_time() - cpu, os.getloadavg()[0])
        peaks["JSON report"] = _peak_mb()
        sql = json.loads(subprocess.run([sys.executable, __file__, "--sql", str(folder)], check=True,
                                        capture_output=True, text=True).stdout)
        sql_load = os.getloadavg()[0]
    facts = matching.summary(result)
    print(f"{orders.height:,} PO lines, {shipments.height:,} shipment lines, {invoices.height:,} invoice lines; "
          f"{facts['matched']:,} matched, {facts['exceptions']:,} exceptions, JSON {len(report) / 1e6:.0f} MB")
    print("  " + ", ".join(f"{row['category']} {row['count']:,}" for row in facts["by_category"] if row["count"]))
    for step, (wall, cpu, load) in timings.items():
        print(f"{step:>15}: {wall:6.2f} s ({cpu:5.2f} s CPU)   peak RSS so far {peaks[step]:5.0f} MiB   "
              f"load average {load:4.1f}")
    print(f"{'total':>15}: {sum(t[0] for t in timings.values()):6.2f} s "
          f"({sum(t[1] for t in timings.values()):5.2f} s CPU)   peak RSS {_peak_mb():5.0f} MiB")
    wall, cpu, _ = timings["match"]
    print(f"{'SQL join':>15}: {sql['wall']:6.2f} s ({sql['cpu']:5.2f} s CPU)   SQLite {sqlite3.sqlite_version}, "
          f"{sql['lines']:,} PO lines with their shipped and invoiced sums   load average {sql_load:4.1f}")
    print(f"{'match / SQL':>15}: {wall / sql['wall']:6.2f} x wall, {cpu / sql['cpu']:5.2f} x CPU")
    return 0


if __name__ == "__main__":
    sys.exit(main())
