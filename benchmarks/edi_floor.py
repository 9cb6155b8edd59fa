"""Where the X12 ingest time goes, and the floor under it: what reading, checking, modelling and storing
the benchmark file costs at the very least in this stack, next to the budget a 30x ratio to pyx12 leaves.

    .venv/bin/python benchmarks/edi_floor.py [--pos 10000] [--lines 20] [--pyx12-pos 300]

Same file as ``edi_ingest.py``. Each floor is the cheapest form of one unavoidable part, timed alone on
the real data, with none of the logic around it:

* read: the file decoded and split into segments and elements (two ``str.split`` passes, in C);
* element check: each segment's element regex (the validator's fast path) and nothing else: no
  structure walk, no syntax notes, no locating of errors;
* canonical model: ``Order.model_validate`` of exactly the data our 850 mapper hands pydantic
  (captured from a real run), i.e. without the mapping that produces it;
* payload: ``model_dump_json`` of the orders (the stored canonical document);
* store: the rows our store writes (orders with payload, lines, parties, two events, one pending
  delivery each) through the sqlite3 driver's ``executemany`` straight into the migrated schema, one
  transaction, WAL, no SQLAlchemy.

The objects kept for the measurements are frozen out of the garbage collector (``gc.freeze``) and
what a floor produces is dropped at once: the real ingest streams and holds neither, and a few
million live objects make every collection walk them (it doubles some of these figures).

Also printed: our real ingest (``edi_ingest.ingest``) split by phase, so the gap between each phase and
its floor shows where work could still be saved.
"""

from __future__ import annotations

import argparse
import gc
import re
import sqlite3
import tempfile
import time
from collections.abc import Callable

import edi_ingest as bench  # the sibling benchmark (same file, same helpers); it puts the project on sys.path
from sqlalchemy import create_engine

# isort: split
from canonical.model import Order
from hub.store import HubStore, order_rows
from hub.store._bulk import _LINE_COLUMNS, _ORDER_COLUMNS, _PARTY_COLUMNS
from mappings.profiles import PartnerDirectory
from mappings.x12 import _850 as mapper
from mappings.x12 import process_interchange_file
from mappings.x12._compiled import compiled
from mappings.x12._maps import map_for


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _each(fn, items) -> None:
    """``fn`` on every item, results dropped at once (as the streaming ingest drops them)."""
    for item in items:
        fn(item)


def _read(data: bytes) -> None:
    split = str.split
    for segment in data.decode("latin-1").split("~"):
        split(segment, "*")


def _capture_model_inputs(data: bytes, partners: PartnerDirectory) -> tuple[list[dict], list[Order]]:
    """Run our mapper once and keep what it handed ``Order.model_validate`` and what came back."""
    inputs: list[dict] = []
    orders: list[Order] = []
    real = Order.model_validate

    class _Recording:
        @staticmethod
        def model_validate(values):
            inputs.append(values)
            return real(values)

    def keep(document) -> None:
        if document.order is not None:
            orders.append(document.order)

    # The benchmark swaps the class the mapper validates with, to record what it is handed.
    original, mapper.Order = mapper.Order, _Recording  # type: ignore[misc, assignment]
    try:
        process_interchange_file(data, partners=partners, now=bench.NOW, on_document=keep)
    finally:
        mapper.Order = original  # type: ignore[misc]
    return inputs, orders


def _store_floor(orders: list[Order], payloads: list[str]) -> float:
    """Raw sqlite3 executemany of the rows our store writes, into a freshly migrated schema."""
    with create_engine("sqlite://").connect() as sqlite_conn:  # order_rows asks only for the dialect
        rows = [order_rows(sqlite_conn, order) for order in orders]
    now = "2024-01-06 09:30:00.000000"
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/floor.sqlite"
        HubStore(f"sqlite:///{path}").migrate()
        db = sqlite3.connect(path)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        order_values = [
            (*r.order[:4], r.order[4].isoformat(), r.order[5], str(r.order[6]), r.order[7], r.order[8], r.order[9],
             payload, "open", 1, None, now, now)
            for r, payload in zip(rows, payloads, strict=True)
        ]

        def write() -> None:
            cur = db.cursor()
            marks = ", ".join("?" * len(_ORDER_COLUMNS))
            cur.executemany(f"INSERT INTO orders ({', '.join(_ORDER_COLUMNS)}) VALUES ({marks})", order_values)
            ids = [i for (i,) in db.execute("SELECT id FROM orders ORDER BY id")]
            marks = ", ".join("?" * len(_LINE_COLUMNS))
            cur.executemany(f"INSERT INTO order_lines ({', '.join(_LINE_COLUMNS)}) VALUES ({marks})",
                            [(i, *line) for i, r in zip(ids, rows, strict=True) for line in r.lines])
            marks = ", ".join("?" * len(_PARTY_COLUMNS))
            cur.executemany(f"INSERT INTO order_parties ({', '.join(_PARTY_COLUMNS)}) VALUES ({marks})",
                            [(i, *p[:4], "[]", *p[5:]) for i, r in zip(ids, rows, strict=True) for p in r.parties])
            cur.executemany("INSERT INTO order_events (order_id, kind, at, receipt_id, detail) VALUES (?, ?, ?, ?, ?)",
                            [(i, kind, now, None, "{}") for i in ids for kind in ("received", "validated")])
            cur.executemany("INSERT INTO outbox (order_id, target, state, attempts, updated_at) VALUES (?, ?, ?, ?, ?)",
                            [(i, "erp", "pending", 0, now) for i in ids])
            db.commit()

        seconds = _timed(write)
        db.close()
    return seconds


def main() -> None:
    """Print the floors, their sum, the 30x budget and our phases."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--pos", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--pyx12-pos", type=int, default=300)
    args = parser.parse_args()

    partners = PartnerDirectory.load(bench.PARTNERS_DIR)
    acme = partners.get("acme")
    data = bench.build_850(acme, purchase_orders=args.pos, lines=args.lines)
    process_interchange_file(bench.build_850(acme, purchase_orders=2), partners=partners, now=bench.NOW)

    with tempfile.TemporaryDirectory() as folder:
        _, ours, phases = bench.ingest(data, partners, store_url=f"sqlite:///{folder}/ours.sqlite")
    _, ours_no_store, _ = bench.ingest(data, partners, store_url=None)

    inputs, orders = _capture_model_inputs(data, partners)
    text = data.decode("latin-1")
    cmap = compiled(map_for("850", "004010"))
    patterns = cmap.patterns("*", ">")
    by_id: dict[str, Callable[[str], re.Match[str] | None]] = {}
    for node in cmap.map.nodes:
        if node.is_segment:
            by_id.setdefault(node.id, patterns[node.idx].fullmatch)
    segments = [s.lstrip("\r\n") for s in text.split("~") if s.strip()]
    pairs = [(by_id.get(s.split("*", 1)[0]), s) for s in segments]
    gc.collect()
    gc.freeze()

    floors = {
        "read (decode, split segments and elements)": _timed(lambda: _read(data)),
        "element check (one regex per segment)": _timed(
            lambda: [check(s) is not None for check, s in pairs if check is not None]),
        "canonical model (Order.model_validate)": _timed(lambda: _each(Order.model_validate, inputs)),
    }
    payloads: list[str] = []
    floors["payload (model_dump_json)"] = _timed(lambda: payloads.extend(o.model_dump_json() for o in orders))
    floors["store (raw sqlite3 executemany)"] = _store_floor(orders, payloads)
    gc.unfreeze()

    sample = bench.build_850(acme, purchase_orders=args.pyx12_pos, lines=args.lines)
    theirs = bench.pyx12_parse(sample) / args.pyx12_pos * args.pos
    budget = theirs / 30

    print(f"file: {args.pos} POs x {args.lines} lines, {len(data) / 1e6:.1f} MB, {len(segments)} segments")
    print(f"pyx12 x12n_document (extrapolated from {args.pyx12_pos} POs): {theirs:6.1f} s"
          f"  -> a 30x ratio leaves {budget:.2f} s")
    print("floors (each part alone, at its cheapest):")
    for name, seconds in floors.items():
        print(f"  {name:46s} {seconds:6.2f} s")
    total = sum(floors.values())
    print(f"  {'sum of the floors':46s} {total:6.2f} s  = {total / budget:.0%} of the 30x budget"
          f"  (best possible ratio in one process: {theirs / total:.0f}x)")
    print(f"ours: validate + Order {ours_no_store:.2f} s; with store {ours:.2f} s (store phase {phases['store']:.2f} s)"
          f"  -> {theirs / ours:.1f}x")


if __name__ == "__main__":
    main()
