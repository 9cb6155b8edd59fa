"""X12 850 ingest speed and memory, side by side with pyx12's validating parse (same map, same strictness).

    .venv/bin/python benchmarks/edi_ingest.py [--pos 10000] [--lines 20] [--pyx12-pos 300] [--big]
                                              [--store-url postgresql+psycopg://USER:PASSWORD@HOST/DB]

* ours: validate + canonical Order + store into a fresh SQLite file (or, with ``--store-url``, an
  empty PostgreSQL database you provide: the production store; its tables are created, and the
  orders written are left there), streaming (``on_document``), one
  pass over the file; stored as intake stores them (``hub.intake``): each order turned into its rows
  (``order_rows``) as it arrives, batches of 500 through ``save_orders_bulk`` (orders, lines, parties,
  'received' events), then their 'validated' events and their pending ERP deliveries (the 'store'
  figure includes turning each Order into rows, payload JSON included);
* pyx12: ``x12n_document`` with our 850 map on a slice (``--pyx12-pos`` POs; it runs ~100 POs/s),
  timed per PO and extrapolated;
* peak memory: tracemalloc peak of the in-process run and the RSS high-water mark;
* ``--big``: a ~250 MB file streamed from disk in a child process (its own RSS high-water mark).

Compare ratios between machines rather than absolute numbers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import logging
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hub.store import (
    HubStore,
    OrderRows,
    add_events_bulk,
    enqueue_deliveries_bulk,
    order_rows,
    save_orders_bulk,
)
from mappings.profiles import PartnerDirectory
from mappings.x12 import process_interchange_file
from mappings.x12.samples import build_850

PARTNERS_DIR = ROOT / "mappings" / "partners"
MAPS_4010 = ROOT / "mappings" / "x12" / "maps" / "004010"
NOW = dt.datetime(2024, 1, 6, 9, 30, tzinfo=dt.UTC)


def _rss_mb() -> float:
    """This process's peak RSS. VmHWM restarts at exec; ru_maxrss keeps a forking parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ingest(source, partners, *, store_url: str | None) -> tuple[int, float, dict[str, float]]:
    """Our full ingest of one file; returns (orders, seconds, phase seconds)."""
    store = HubStore(store_url).migrate() if store_url else None
    counted = [0]
    phases = {"store": 0.0}
    conn_cm = store.transaction() if store else None
    conn = conn_cm.__enter__() if conn_cm else None

    batch: list[tuple[OrderRows, str]] = []

    def flush() -> None:
        assert conn is not None, "flushed only with a store"
        t = time.perf_counter()
        saved = save_orders_bulk(conn, [rows for rows, _ in batch], receipt_id=None, now=NOW)
        created = [(s.order_id, rows, outcome) for s, (rows, outcome) in zip(saved, batch, strict=True)
                   if s.action == "created" and s.order_id is not None]
        assert len(created) == len(batch), "the benchmark's orders are all new"
        add_events_bulk(conn, [(i, "validated", {"outcome": outcome, "warnings": list(rows.warnings)})
                               for i, rows, outcome in created], receipt_id=None, now=NOW)
        enqueue_deliveries_bulk(conn, [i for i, _, _ in created], target="erp", now=NOW)
        batch.clear()
        phases["store"] += time.perf_counter() - t

    def on_document(document) -> None:
        counted[0] += 1
        if conn is not None:
            t = time.perf_counter()
            batch.append((order_rows(conn, document.order), document.outcome))  # as intake: rows, not models
            phases["store"] += time.perf_counter() - t
            if len(batch) >= 500:
                flush()

    start = time.perf_counter()
    result = process_interchange_file(source, partners=partners, now=NOW, on_document=on_document)
    if conn_cm is not None:
        if batch:
            flush()
        t = time.perf_counter()
        conn_cm.__exit__(None, None, None)
        phases["store"] += time.perf_counter() - t
    seconds = time.perf_counter() - start
    assert result.outcome == "accepted", result.reason
    return counted[0], seconds, phases


def pyx12_parse(data: bytes) -> float:
    """Seconds pyx12's validating parse takes on ``data`` with our map (it must find no error)."""
    import pyx12.params
    import pyx12.x12n_document

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    params = pyx12.params.params()
    with tempfile.NamedTemporaryFile(suffix=".x12") as handle:
        handle.write(data)
        handle.flush()
        start = time.perf_counter()
        ok = pyx12.x12n_document.x12n_document(params, handle.name, io.StringIO(), None, map_path=str(MAPS_4010))
        seconds = time.perf_counter() - start
    assert ok, "pyx12 found errors in the benchmark file"
    return seconds


def big_run(purchase_orders: int, lines: int) -> None:
    """Child process: write a big file to disk in pieces, then stream it through ingest."""
    partners = PartnerDirectory.load(PARTNERS_DIR)
    acme = partners.get("acme")
    piece = build_850(acme, purchase_orders=1000, lines=lines)
    head, _, rest = piece.partition(b"ST*850*")
    body = b"ST*850*" + rest[: rest.rindex(b"GE*")]
    with tempfile.NamedTemporaryFile(suffix=".x12", delete=False) as handle:
        handle.write(head)
        rounds = purchase_orders // 1000
        for n in range(rounds):
            # ST02/SE02 unique within the group (a reused ST02 is rightly rejected): prefix the round.
            prefix = f"{n:05d}".encode()
            handle.write(re.sub(rb"(ST\*850\*|SE\*\d+\*)(\d{4})~", rb"\g<1>" + prefix + rb"\g<2>~", body))
        handle.write(f"GE*{rounds * 1000}*1~\nIEA*1*000000001~\n".encode())
        path = handle.name
    size = os.path.getsize(path)
    before = _rss_mb()
    with open(path, "rb") as stream:
        orders, seconds, _ = ingest(stream, partners, store_url=None)
    os.unlink(path)
    print(f"big file: {size / 1e6:.0f} MB, {orders} POs in {seconds:.1f} s ({orders / seconds:.0f} POs/s); "
          f"peak RSS {_rss_mb():.0f} MB (before reading: {before:.0f} MB)")


def main() -> None:
    """Run the side-by-side benchmark."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--pos", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--pyx12-pos", type=int, default=300)
    parser.add_argument("--big", action="store_true", help="also stream a ~250 MB file (child process)")
    parser.add_argument("--store-url", help="store into this (empty) database instead of a temporary SQLite file")
    parser.add_argument("--big-child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.big_child:
        big_run(args.big_child, args.lines)
        return

    partners = PartnerDirectory.load(PARTNERS_DIR)
    acme = partners.get("acme")
    data = build_850(acme, purchase_orders=args.pos, lines=args.lines)
    print(f"file: {args.pos} POs x {args.lines} lines, {len(data) / 1e6:.1f} MB")

    process_interchange_file(build_850(acme, purchase_orders=2), partners=partners, now=NOW)  # load maps once
    orders, validate_map, _ = ingest(data, partners, store_url=None)
    tracemalloc.start()
    ingest(data, partners, store_url=None)
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    with tempfile.TemporaryDirectory() as folder:
        store_url = args.store_url or f"sqlite:///{folder}/bench.sqlite"
        _, full_untraced, phases = ingest(data, partners, store_url=store_url)
    ours_per_po = full_untraced / orders
    ours_no_store_per_po = validate_map / orders

    sample = build_850(acme, purchase_orders=args.pyx12_pos, lines=args.lines)
    theirs = pyx12_parse(sample)
    theirs_per_po = theirs / args.pyx12_pos

    print(f"ours, validate + Order:            {validate_map:7.2f} s  {args.pos / validate_map:8.0f} POs/s")
    backend = store_url.split(":", 1)[0].split("+", 1)[0]
    print(f"ours, validate + Order + store:    {full_untraced:7.2f} s  {args.pos / full_untraced:8.0f} POs/s"
          f"  (store {phases['store']:.2f} s, {backend})")
    print(f"pyx12 x12n_document (same map):    {theirs:7.2f} s for {args.pyx12_pos} POs "
          f"{1 / theirs_per_po:8.0f} POs/s  -> {theirs_per_po * args.pos:.0f} s for {args.pos} POs")
    print(f"ratio (pyx12 / ours, with store):  {theirs_per_po / ours_per_po:7.1f}x")
    print(f"ratio (pyx12 / ours, no store):    {theirs_per_po / ours_no_store_per_po:7.1f}x")
    print(f"memory: tracemalloc peak {traced_peak / 1e6:.1f} MB during ingest (validate + Order, streaming); "
          f"RSS high-water {_rss_mb():.0f} MB "
          f"(includes the {len(data) / 1e6:.0f} MB file held as bytes)")
    if args.big:
        big = 250_000_000 * args.pos // len(data)  # POs for a ~250 MB file
        subprocess.run([sys.executable, __file__, "--big-child", str(big), "--lines", str(args.lines)],
                       check=True)


if __name__ == "__main__":
    main()
