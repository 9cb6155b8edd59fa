"""X12 files made of many small interchanges: seconds for 1k / 5k / 10k interchanges.

    .venv/bin/python benchmarks/x12_many_interchanges.py [--counts 1000 5000 10000] [--lines 5] [--store]

Each interchange carries one 850 with ``--lines`` lines (about 1 KB), one after the other in a
single file, as a partner's translator batching a day of orders may send them. Three figures per
size: the tokenizer alone (``iter_segments``), the whole file-level processing without a store
(``process_interchange_file``: envelopes, validation, orders, acks), and seconds per 1,000
interchanges of the latter; linear work keeps that last column flat as the file grows. With
``--store``, also the whole intake into a fresh SQLite store (``process_x12_receipt``: orders,
ledger, acks, committed in bounded batches) and how many batches it committed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mappings.profiles import PartnerDirectory
from mappings.x12 import iter_segments, process_interchange_file
from mappings.x12.samples import build_850

NOW = dt.datetime(2024, 1, 6, 9, 30, tzinfo=dt.UTC)


def many_interchanges(partner, count: int, lines: int) -> bytes:
    """``count`` one-PO interchanges back to back, each with its own control number and PO number."""
    return b"".join(
        build_850(partner, po_number=f"MI-{n}", control_number=n, lines=lines) for n in range(1, count + 1)
    )


def main() -> None:
    """Print the timings."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--counts", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--lines", type=int, default=5)
    parser.add_argument("--store", action="store_true", help="also the whole intake into a SQLite store")
    args = parser.parse_args()
    partners = PartnerDirectory.load(ROOT / "mappings" / "partners")
    acme = partners.get("acme")
    process_interchange_file(build_850(acme), partners=partners, now=NOW)  # load the maps once
    print(f"{'interchanges':>12} {'MB':>6} {'tokenizer s':>12} {'process s':>10} {'s per 1k':>9}"
          + (f" {'intake s':>9} {'batches':>8}" if args.store else ""))
    for count in args.counts:
        data = many_interchanges(acme, count, args.lines)
        start = time.perf_counter()
        segments = sum(1 for _ in iter_segments(data))
        tokenize = time.perf_counter() - start
        start = time.perf_counter()
        result = process_interchange_file(data, partners=partners, now=NOW, on_document=lambda _doc: None)
        process = time.perf_counter() - start
        assert result.outcome == "accepted", result.reason
        assert segments > count * 10
        line = f"{count:>12} {len(data) / 1e6:>6.1f} {tokenize:>12.2f} {process:>10.2f} {process / count * 1000:>9.2f}"
        if args.store:
            line += " {:>9.2f} {:>8}".format(*intake(partners, data))
        print(line)


def intake(partners, data: bytes) -> tuple[float, int]:
    """Seconds of ``process_x12_receipt`` on ``data`` in a fresh SQLite store, and its batch commits."""
    import hub.intake._x12 as intake_x12
    from hub import store as st
    from hub.intake import process_x12_receipt, receive_document

    commits = [0]
    real = intake_x12.fault_point
    intake_x12.fault_point = lambda name: commits.__setitem__(0, commits[0] + 1)
    try:
        with tempfile.TemporaryDirectory() as folder:
            store = st.HubStore(f"sqlite:///{folder}/bench.sqlite").migrate()
            receipt = receive_document(store, channel="sftp", partner_id="acme", source_name="bench.x12", data=data,
                                       max_bytes=len(data) + 1)
            start = time.perf_counter()
            summary = process_x12_receipt(store, partners, receipt.id, now=NOW)
            seconds = time.perf_counter() - start
            assert summary.outcome == "accepted", summary.reason
            store.dispose()
    finally:
        intake_x12.fault_point = real
    return seconds, commits[0]


if __name__ == "__main__":
    main()
