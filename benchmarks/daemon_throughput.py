"""Throughput under the real Dagster daemon: many partners' small files at once, then one 10,000-PO file.

    .venv/bin/python benchmarks/daemon_throughput.py [--partners 10] [--files 20] [--big-pos 10000] [--keep]

What runs: the sandbox SFTP server and ERP in this process, and ``dagster-daemon run -m
hub.definitions`` as a child process on a temporary DAGSTER_HOME with the instance settings the hub
ships (``dagster_home/dagster.yaml``), started by the helpers of ``benchmarks/latency.py``. The
partners are copies of acme's profile (``bench00`` ... with their own ISA ids and folders), so each
has its own inbox sensor and SFTP pool.

Phase 1 drops ``--files`` small 850s (one PO, two lines) into each partner's inbox, all within a
second or two, and waits until every file has its 997 and its sale order. Phase 2 drops one file of
``--big-pos`` POs into bench00's inbox and waits for its 997 and its last sale order.

Printed: runs launched per job, seconds per run (started -> done), files per intake run,
drop-to-997 and drop-to-sale-order latency (min / median / max) of the small files, the time until
all small files were done, and the big file's drop-to-997 and drop-to-last-sale-order, each next to
the targets of issue 15.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import dagster as dg
import yaml
from latency import LINES, Drop, dagster_home, start_daemon, stats, stop_daemon

from hub.settings import sqlite_url
from mappings.profiles import PartnerDirectory, SftpPickup
from mappings.x12.samples import build_850
from sandbox.environment import SandboxEnvironment

# Targets of issue 15 on the 2-core development machine, seconds.
ALL_SMALL_DONE_S, MEDIAN_SMALL_S, BIG_LAST_ORDER_S = 60.0, 20.0, 90.0
SMALL_DEADLINE_S, BIG_DEADLINE_S = 600, 1800
WARMUP_S = 20  # the daemon loads the code location and ticks each sensor once before the first drop


DEFAULT_MIN_AGE = SftpPickup.model_fields["min_file_age_seconds"].default
_AK1 = re.compile(r"AK1\*PO\*(\d+)")


def bench_partners(folder: Path, count: int, *, uploads_renamed: bool = False, min_file_age: int | None = None) -> Path:
    """``count`` partner profiles copied from acme's, each with its own id, ISA/GS id and SFTP folders.

    ``uploads_renamed``: the profiles say the partner renames finished uploads (as this benchmark does),
    so a file is taken on the first tick that sees it instead of once unchanged across two.
    ``min_file_age``: the profiles' ``pickup.min_file_age_seconds`` (None: the default, 10 s).
    """
    folder.mkdir(parents=True)
    acme = yaml.safe_load((ROOT / "mappings" / "partners" / "acme.yaml").read_text())
    for n in range(count):
        partner_id = f"bench{n:02d}"
        data = {**acme, "id": partner_id, "name": f"Benchmark partner {n}"}
        channel = dict(data["channels"][0])
        x12 = dict(channel["x12"])
        x12["partner"] = {"isa_qualifier": "ZZ", "isa_id": f"BENCH{n:02d}", "gs_id": f"BENCH{n:02d}"}
        channel["x12"] = x12
        channel["sftp"] = {"inbox": f"{partner_id}/inbox", "archive": f"{partner_id}/archive",
                           "outbound": f"{partner_id}/outbound", "pickup": {"uploads_renamed": uploads_renamed}}
        if min_file_age is not None:
            channel["sftp"]["pickup"]["min_file_age_seconds"] = min_file_age
        data["channels"] = [channel]
        (folder / f"{partner_id}.yaml").write_text(yaml.safe_dump(data))
    return folder


def drop(sandbox: SandboxEnvironment, partner_id: str, name: str, data: bytes) -> float:
    """Write a file into the partner's inbox so it appears whole (written aside, renamed); its drop time."""
    path = sandbox.inbox(partner_id) / name
    path.with_suffix(".part").write_bytes(data)
    path.with_suffix(".part").rename(path)
    return time.time()


def acked(sandbox: SandboxEnvironment, partner_id: str) -> set[int]:
    """Group control numbers acknowledged in the partner's outbound folder (AK1*PO*<n>)."""
    outbound = sandbox.outbound(partner_id)
    found: set[int] = set()
    for path in outbound.iterdir() if outbound.exists() else []:
        found.update(int(n) for n in _AK1.findall(path.read_text(errors="replace")))
    return found


def observe_small(drops: dict[str, list[Drop]], sandbox: SandboxEnvironment) -> None:
    """Note when each small file's 997 and sale order first appear."""
    now = time.time()
    refs = {o["client_order_ref"] for o in sandbox.erp.sale_orders()}
    for partner_id, partner_drops in drops.items():
        controls = acked(sandbox, partner_id) if any(d.ack_s is None for d in partner_drops) else set()
        for d in partner_drops:
            if d.ack_s is None and d.control in controls:
                d.ack_s = now - d.dropped_at
            if d.erp_s is None and d.po in refs:
                d.erp_s = now - d.dropped_at


def delivered_so_far(sandbox: SandboxEnvironment, pos: int) -> int:
    """How many of the big file's POs have a sale order, found by bisection (they are delivered in order)."""
    low, high = 0, pos  # BIG-1 .. BIG-low are there; BIG-(high+1) is not
    while low < high:
        mid = (low + high + 1) // 2
        if sandbox.erp.sale_orders_by_ref(f"BIG-{mid}"):
            low = mid
        else:
            high = mid - 1
    return low


def run_table(instance: dg.DagsterInstance, since: float) -> list[tuple[str, float, int, bool]]:
    """(job, seconds started -> done, receipts carried, success) of every run created after ``since``."""
    rows = []
    for record in instance.get_run_records():
        if record.create_timestamp.timestamp() < since or record.start_time is None or record.end_time is None:
            continue
        run = record.dagster_run
        files = sum(1 for key in run.tags if key.startswith("hub.receipt/"))
        rows.append((run.job_name, record.end_time - record.start_time, files, run.is_success))
    return rows


def print_runs(title: str, rows: list[tuple[str, float, int, bool]]) -> None:
    """Runs per job, seconds per run, files per intake run."""
    print(f"\n{title}: {len(rows)} runs launched and finished")
    for job, count in sorted(Counter(job for job, *_ in rows).items()):
        seconds = [s for j, s, *_ in rows if j == job]
        print(f"  {job:<24} {count:4d} runs; seconds per run {stats(seconds)}")
    files = [f for job, _, f, _ in rows if job == "edi_inbound_job"]
    if files:
        print(f"  files per intake run: {stats([float(f) for f in files])}")
    failed = [job for job, _, _, ok in rows if not ok]
    if failed:
        print(f"  FAILED runs: {dict(Counter(failed))}")


def verdict(value: float | None, target: float) -> str:
    """``met`` / ``NOT met`` against a target in seconds."""
    if value is None:
        return "NOT met (not done)"
    return f"{'met' if value <= target else 'NOT met'} (target <= {target:.0f} s)"


def main() -> int:
    """Start the daemon, run both phases, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--partners", type=int, default=10)
    parser.add_argument("--files", type=int, default=20, help="small files per partner")
    parser.add_argument("--big-pos", type=int, default=10_000, help="POs in the big file (0: no phase 2)")
    parser.add_argument("--dequeue-interval", type=int, default=None,
                        help="run_queue.dequeue_interval_seconds for this DAGSTER_HOME (default: as shipped)")
    parser.add_argument("--uploads-renamed", action="store_true",
                        help="profiles with pickup.uploads_renamed: files taken on first sight (default: two polls)")
    parser.add_argument("--min-file-age", type=int, default=None,
                        help="profiles' pickup.min_file_age_seconds (default 10: a file that old is taken on first "
                             "sight; 0: always two polls)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, stores)")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)

    root = Path(tempfile.mkdtemp(prefix="hub-throughput-"))
    partners_dir = bench_partners(root / "partners", args.partners, uploads_renamed=args.uploads_renamed,
                                  min_file_age=args.min_file_age)
    partners = PartnerDirectory.load(partners_dir)
    ids = sorted(p.id for p in partners)
    small: dict[str, list[Drop]] = {partner_id: [] for partner_id in ids}
    all_small_s = big_ack_s = big_last_s = None
    with SandboxEnvironment(root / "sandbox", partners) as sandbox:
        env = {**sandbox.environment(), "HUB_DATA_DIR": str(root / "var"), "HUB_PARTNERS_DIR": str(partners_dir),
               "HUB_DATABASE_URL": sqlite_url(root / "hub.sqlite3")}
        home = dagster_home(root, args.dequeue_interval)
        log = root / "daemon.log"
        daemon = start_daemon(home, env, log)
        try:
            time.sleep(WARMUP_S)
            if daemon.poll() is not None:
                raise SystemExit(f"the daemon exited:\n{log.read_text()[-3000:]}")
            print(f"daemon up (DAGSTER_HOME {home}); phase 1: {args.files} small files into each of "
                  f"{len(ids)} inboxes", flush=True)
            phase1 = time.time()
            for i in range(args.files):
                for partner_id in ids:
                    control = 1000 + i
                    po = f"{partner_id.upper()}-{control}"
                    data = build_850(partners.get(partner_id), po_number=po, control_number=control, lines=LINES)
                    name = f"po_{control}.x12"
                    small[partner_id].append(Drop(name, po, control, drop(sandbox, partner_id, name, data)))
            print(f"  {dt.datetime.now():%H:%M:%S} dropped {args.files * len(ids)} files in "
                  f"{time.time() - phase1:.1f} s", flush=True)
            drops = [d for partner_drops in small.values() for d in partner_drops]
            deadline = phase1 + SMALL_DEADLINE_S if drops else phase1
            while time.time() < deadline and any(d.ack_s is None or d.erp_s is None for d in drops):
                if daemon.poll() is not None:
                    raise SystemExit(f"the daemon exited:\n{log.read_text()[-3000:]}")
                observe_small(small, sandbox)
                time.sleep(0.5)
            if drops and all(d.ack_s is not None and d.erp_s is not None for d in drops):
                all_small_s = max(max(d.ack_s or 0, d.erp_s or 0) + d.dropped_at for d in drops) - phase1
            time.sleep(2)  # the last runs end (their exception queue step) before they are counted
            with dg.DagsterInstance.from_config(str(home)) as instance:
                phase1_runs = run_table(instance, phase1)

            phase2 = time.time()
            if args.big_pos:
                print(f"phase 2: one file of {args.big_pos} POs into {ids[0]}'s inbox", flush=True)
                big_control = 9000
                data = build_850(partners.get(ids[0]), po_number="BIG", control_number=big_control,
                                 purchase_orders=args.big_pos, lines=LINES)
                dropped = drop(sandbox, ids[0], "big.x12", data)
                print(f"  {dt.datetime.now():%H:%M:%S} dropped big.x12 ({len(data) / 1e6:.1f} MB)", flush=True)
                # Deliveries go in outbox order: the last PO's sale order is the last one. Looked up by its
                # reference only (reading every sale order each second would slow the sandbox ERP down).
                last_po = f"BIG-{args.big_pos}" if args.big_pos > 1 else "BIG"
                deadline, next_report = dropped + BIG_DEADLINE_S, dropped + 30
                while time.time() < deadline and (big_ack_s is None or big_last_s is None):
                    if daemon.poll() is not None:
                        raise SystemExit(f"the daemon exited:\n{log.read_text()[-3000:]}")
                    if big_ack_s is None and big_control in acked(sandbox, ids[0]):
                        big_ack_s = time.time() - dropped
                        print(f"  {dt.datetime.now():%H:%M:%S} 997 written", flush=True)
                    if big_last_s is None and sandbox.erp.sale_orders_by_ref(last_po):
                        big_last_s = time.time() - dropped
                    if time.time() >= next_report:
                        print(f"  {dt.datetime.now():%H:%M:%S} +{time.time() - dropped:.0f} s: about "
                              f"{delivered_so_far(sandbox, args.big_pos)} sale orders", flush=True)
                        next_report += 30
                    time.sleep(1.0)
                count = sum(1 for o in sandbox.erp.sale_orders() if o["client_order_ref"].startswith("BIG"))
                print(f"  {count} of {args.big_pos} sale orders in the ERP", flush=True)
                time.sleep(2)
                with dg.DagsterInstance.from_config(str(home)) as instance:
                    phase2_runs = run_table(instance, phase2)
        finally:
            stop_daemon(daemon)

    drops = [d for partner_drops in small.values() for d in partner_drops]
    if drops:
        print(f"\n== phase 1: {len(ids)} partners x {args.files} small files (instance settings: "
              "dagster_home/dagster.yaml; sensors every 15 s unless HUB_SENSOR_INTERVAL_SECONDS says otherwise; "
              + ("files taken on first sight (uploads_renamed))" if args.uploads_renamed
                 else "files taken once unchanged over two polls, or on first sight once "
                      f"{DEFAULT_MIN_AGE if args.min_file_age is None else args.min_file_age} s old)"))
        print_runs("runs", phase1_runs)
        acks = [d.ack_s for d in drops if d.ack_s is not None]
        erps = [d.erp_s for d in drops if d.erp_s is not None]
        print(f"  drop -> 997          {stats(acks)}")
        print(f"  drop -> sale order   {stats(erps)}")
        print(f"  all {len(drops)} files acked and in the ERP after "
              f"{'-' if all_small_s is None else f'{all_small_s:.1f}'} s: {verdict(all_small_s, ALL_SMALL_DONE_S)}")
        median = statistics.median(acks) if len(acks) == len(drops) else None
        print(f"  median drop -> 997 {'-' if median is None else f'{median:.1f}'} s: "
              f"{verdict(median, MEDIAN_SMALL_S)}")
    if args.big_pos:
        print(f"\n== phase 2: one file of {args.big_pos} POs")
        print_runs("runs", phase2_runs)
        print(f"  drop -> 997               {'-' if big_ack_s is None else f'{big_ack_s:.1f}'} s")
        print(f"  drop -> last sale order   {'-' if big_last_s is None else f'{big_last_s:.1f}'} s: "
              f"{verdict(big_last_s, BIG_LAST_ORDER_S)}")
    if args.keep:
        print(f"\nkept: {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    small_done = not args.files or all_small_s is not None
    return 0 if small_done and (not args.big_pos or big_last_s is not None) else 1


if __name__ == "__main__":
    raise SystemExit(main())
