"""``hub map`` and ``hub edi validate`` on a big X12 file: wall time and peak RSS of each, as a user runs them.

    .venv/bin/python benchmarks/cli_memory.py [--mb 250] [--lines 20] [--pos 10000] [--pyx12-pos 300]

* the big file: acme 850s of ``--lines`` lines, one interchange of ~``--mb`` MB, generated the way
  ``edi_ingest.py --big`` does (a 1,000-PO group repeated, ST02 made unique per round);
* each command runs as a child process (``.venv/bin/python -m hub.cli``, output to /dev/null, no
  progress bar) under ``/usr/bin/time -f %M``: its own peak RSS (see ``run_hub`` for why not
  ``os.wait4`` from here); the target is at most 150 MB whatever the file size;
* side by side: the same commands on ``--pos`` POs x ``--lines`` lines (~13 MB; and ``hub ingest``
  of that file into a new SQLite store), next to pyx12's validating parse
  (``edi_ingest.pyx12_parse``: ``x12n_document`` with our 850 map, on ``--pyx12-pos`` POs, timed per
  PO and extrapolated). The child's times include starting Python and importing the hub (~1 s).
* ``CPU s`` is the child's user + system time and ``vs pyx12 CPU`` compares it with pyx12's CPU
  time: on a machine shared with other work, wall times (and their ratios) move with the load while
  CPU times barely do.

Compare ratios between machines rather than absolute numbers.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import edi_ingest  # the sibling benchmark: puts the project on sys.path, has pyx12_parse

# isort: split
from mappings.profiles import PartnerDirectory
from mappings.x12.samples import build_850

ROOT = Path(__file__).resolve().parent.parent
TARGET_RSS_MB = 150
GNU_TIME = "/usr/bin/time"  # Debian package `time`


def write_big_file(path: Path, megabytes: int, lines: int) -> int:
    """One interchange of acme 850s of about ``megabytes`` MB; returns the number of POs."""
    acme = PartnerDirectory.load(edi_ingest.PARTNERS_DIR).get("acme")
    piece = build_850(acme, purchase_orders=1000, lines=lines)
    head, _, rest = piece.partition(b"ST*850*")
    body = b"ST*850*" + rest[: rest.rindex(b"GE*")]
    rounds = max(1, round(megabytes * 1e6 / len(body)))
    with path.open("wb") as handle:
        handle.write(head)
        for n in range(rounds):
            # ST02/SE02 unique within the group (a reused ST02 is rightly rejected): prefix the round.
            prefix = f"{n:05d}".encode()
            handle.write(re.sub(rb"(ST\*850\*|SE\*\d+\*)(\d{4})~", rb"\g<1>" + prefix + rb"\g<2>~", body))
        handle.write(f"GE*{rounds * 1000}*1~\nIEA*1*000000001~\n".encode())
    return rounds * 1000


def run_hub(*args: str) -> tuple[int, float, float, float]:
    """``hub ARGS > /dev/null`` in a child: (exit status, wall seconds, CPU seconds, peak RSS in MB).

    A child's ``ru_maxrss`` starts at its parent's resident size when forked (Linux keeps the
    pre-exec high-water mark), and this process holds the generated files and pyx12's work: so the
    child is started by GNU time (a 2 MB process) and its own figure is taken from there.
    """
    # A fresh data folder each time: ``hub ingest`` stores into a new SQLite file there.
    env = {key: value for key, value in os.environ.items() if key != "HUB_DATABASE_URL"}
    env["HUB_DATA_DIR"] = tempfile.mkdtemp(prefix="cli-memory-")
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file, open(os.devnull, "wb") as devnull:
        start = time.perf_counter()
        status = subprocess.call([GNU_TIME, "-f", "%M %U %S", "-o", rss_file.name, sys.executable, "-m", "hub.cli",
                                  *args], cwd=ROOT, stdout=devnull, env=env)
        seconds = time.perf_counter() - start
        kilobytes, user, system = rss_file.read().strip().splitlines()[-1].split()
    return status, seconds, float(user) + float(system), int(kilobytes) / 1024


def main() -> None:
    """Generate the files, run the commands, print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=250)
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--pos", type=int, default=10_000)
    parser.add_argument("--pyx12-pos", type=int, default=300)
    args = parser.parse_args()

    acme = PartnerDirectory.load(edi_ingest.PARTNERS_DIR).get("acme")
    sample = build_850(acme, purchase_orders=args.pyx12_pos, lines=args.lines)
    cpu = time.process_time()
    pyx12_per_po = edi_ingest.pyx12_parse(sample) / args.pyx12_pos
    pyx12_cpu_per_po = (time.process_time() - cpu) / args.pyx12_pos
    print(f"pyx12 x12n_document (same map): {1 / pyx12_per_po:8.0f} POs/s "
          f"-> {pyx12_per_po * args.pos:.0f} s for {args.pos} POs x {args.lines} lines "
          f"({pyx12_cpu_per_po * args.pos:.0f} s CPU)")

    with tempfile.TemporaryDirectory(prefix="cli-memory-") as folder:
        medium = Path(folder) / "medium.x12"
        medium.write_bytes(build_850(acme, purchase_orders=args.pos, lines=args.lines))
        big = Path(folder) / "big.x12"
        big_pos = write_big_file(big, args.mb, args.lines)
        runs = [
            (medium, args.pos, ("map", "--source", "x12", "--no-progress")),
            (medium, args.pos, ("edi", "validate", "--no-progress")),
            (medium, args.pos, ("ingest", "--partner", "acme")),
            (big, big_pos, ("map", "--source", "x12", "--no-progress")),
            (big, big_pos, ("edi", "validate", "--no-progress")),
            (big, big_pos, ("edi", "validate", "--json", "--no-progress")),
        ]
        print(f"{'command':42} {'file':>8} {'POs':>7} {'status':>6} {'wall s':>7} {'CPU s':>6} {'POs/s':>7} "
              f"{'peak RSS':>9} {'vs pyx12':>8} {'vs pyx12 CPU':>12}")
        for path, pos, command in runs:
            status, seconds, cpu_seconds, rss = run_hub(*command, str(path))
            ratio = pyx12_per_po * pos / seconds
            cpu_ratio = pyx12_cpu_per_po * pos / cpu_seconds
            flag = "" if rss <= TARGET_RSS_MB else f"  OVER {TARGET_RSS_MB} MB"
            print(f"hub {' '.join(c for c in command if c != '--no-progress'):38} "
                  f"{path.stat().st_size / 1e6:6.0f}MB {pos:7d} {status:6d} {seconds:7.1f} {cpu_seconds:6.1f} "
                  f"{pos / seconds:7.0f} {rss:6.0f} MB {ratio:7.1f}x {cpu_ratio:11.1f}x{flag}")


if __name__ == "__main__":
    main()
