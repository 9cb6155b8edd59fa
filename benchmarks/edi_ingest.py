"""X12 intake speed: tokenizing, and the full pass (envelopes, validation, 850 -> Order, 997).

    .venv/bin/python benchmarks/edi_ingest.py [PURCHASE_ORDERS] [LINES]

Prints medians of a few runs; compare ratios between machines rather than absolute numbers.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from mappings.profiles import PartnerDirectory
from mappings.x12 import iter_segments, process_interchange_file
from mappings.x12.samples import build_850

PARTNERS_DIR = Path(__file__).resolve().parent.parent / "mappings" / "partners"


def _median_seconds(work, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(purchase_orders: int = 2000, lines: int = 20) -> None:
    """Build one interchange of ``purchase_orders`` 850s and time reading it."""
    partners = PartnerDirectory.load(PARTNERS_DIR)
    data = build_850(partners.get("acme"), purchase_orders=purchase_orders, lines=lines)
    megabytes = len(data) / 1e6
    print(f"{purchase_orders} POs x {lines} lines, {megabytes:.1f} MB")

    tokenize = _median_seconds(lambda: sum(1 for _ in iter_segments(data)))
    print(f"tokenize:     {tokenize:6.2f} s  {megabytes / tokenize:6.1f} MB/s")

    def full() -> None:
        result = process_interchange_file(data, partners=partners)
        assert result.outcome == "accepted", result.reason

    full_pass = _median_seconds(full)
    print(f"full pass:    {full_pass:6.2f} s  {purchase_orders / full_pass:6.0f} POs/s")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
