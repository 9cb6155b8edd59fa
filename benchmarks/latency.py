"""Latency of one partner file through a real Dagster daemon: drop to 997, drop to ERP, and each run's overhead.

    .venv/bin/python benchmarks/latency.py [--files 5] [--max-gap 40] [--seed 1] [--keep]

What runs: the sandbox systems (SFTP server, ERP, store, marketplace; ``sandbox.environment``) in
this process, and ``dagster-daemon run -m hub.definitions`` as a child process on a temporary
DAGSTER_HOME with the instance settings the hub ships (``dagster_home/dagster.yaml``): its sensors
poll the inboxes, its queued run coordinator launches each run in a new process through the code
server, as in production. Small 850s (one PO, two lines, each its own interchange) are dropped
into acme's inbox at random moments (``--max-gap`` seconds apart at most).

Measured per file, from the moment it was written into the inbox:
* to 997: the ack appears in acme's outbound folder;
* to ERP: the sandbox ERP holds the sale order for its PO;
* its run: requested (the sensor tick that took the file) -> launched -> started -> done, from
  Dagster's run records; "overhead" is tick to done, everything but waiting for the sensor.

Drop to run is dominated by the sensor: it polls every 15 s (``HUB_SENSOR_INTERVAL_SECONDS``) and
takes a file at first sight when its mtime is ``min_file_age_seconds`` (10 s) old, else once its size
and mtime held across two polls, so expect 0-30 s there by design.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import dagster as dg
import yaml
from sqlalchemy import select

from hub.settings import sqlite_url
from hub.store import HubStore
from hub.store import tables as store_tables
from mappings.profiles import PartnerDirectory
from mappings.x12.samples import SampleLine, build_850
from sandbox.environment import CATALOG, SandboxEnvironment

PARTNER = "acme"
# Two lines of products the sandbox ERP sells, so each order becomes a sale order.
LINES = [SampleLine(CATALOG[0][0], quantity="2"), SampleLine(CATALOG[-1][0], quantity="1")]
DEADLINE_S = 600  # for the last file, after its drop


@dataclass
class Drop:
    """One file and what became of it, in seconds since its drop (``time.time()`` clock)."""

    name: str
    po: str
    control: int
    dropped_at: float
    ack_s: float | None = None
    erp_s: float | None = None
    run: dict[str, float] = field(default_factory=dict)


def dagster_home(root: Path, dequeue_interval: int | None) -> Path:
    """A fresh DAGSTER_HOME under ``root`` with the instance settings the hub ships (``dagster_home/dagster.yaml``)."""
    home = root / "dagster_home"
    (home / ".nux").mkdir(parents=True)
    config = yaml.safe_load((ROOT / "dagster_home" / "dagster.yaml").read_text())
    if dequeue_interval is not None:  # how often the daemon launches queued runs (Dagster's default: 5 s)
        config.setdefault("run_queue", {})["dequeue_interval_seconds"] = dequeue_interval
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    (home / ".nux" / "nux.yaml").write_text("seen: 1\n")
    return home


def start_daemon(home: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    """``dagster-daemon run -m hub.definitions`` on ``home``, in its own process group, output to ``log``."""
    daemon = Path(sys.executable).with_name("dagster-daemon")
    with log.open("wb") as out:
        return subprocess.Popen([str(daemon), "run", "-m", "hub.definitions"], cwd=ROOT,
                                env={**os.environ, **env, "DAGSTER_HOME": str(home)},
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # own group: stopped with its code server


def stop_daemon(process: subprocess.Popen) -> None:
    """Stop the daemon's process group (its code server too): SIGTERM, then SIGKILL."""
    for sig, wait_s in ((signal.SIGTERM, 20), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
            process.wait(timeout=wait_s)
            return
        except ProcessLookupError:
            return
        except subprocess.TimeoutExpired:
            continue


def _observe(drops: list[Drop], sandbox: SandboxEnvironment) -> None:
    """Note, for each drop, when its 997 and its sale order first appear."""
    now = time.time()
    outbound = sandbox.outbound(PARTNER)
    acks = [p.read_text(errors="replace") for p in outbound.iterdir()] if outbound.exists() else []
    refs = {o["client_order_ref"] for o in sandbox.erp.sale_orders()}
    for drop in drops:
        if drop.ack_s is None and any(f"AK1*PO*{drop.control}~" in a or f"AK1*PO*{drop.control}\n" in a
                                      or f"AK1*PO*{drop.control}*" in a for a in acks):
            drop.ack_s = now - drop.dropped_at
        if drop.erp_s is None and drop.po in refs:
            drop.erp_s = now - drop.dropped_at


def run_phases(instance: dg.DagsterInstance, store_url: str, drops: list[Drop]) -> None:
    """Each file's run from Dagster's records: requested (sensor tick), launched, started, done.

    A run carries every file its tick took: its files are its receipts (tags ``hub.receipt/<id>``).
    """
    by_file = {d.name: d for d in drops}
    store = HubStore(store_url)
    try:
        with store.transaction() as conn:
            names = {row.id: row.source_name for row in conn.execute(
                select(store_tables.receipts.c.id, store_tables.receipts.c.source_name))}
    finally:
        store.dispose()
    for record in instance.get_run_records(dg.RunsFilter(job_name="edi_inbound_job")):
        run = record.dagster_run
        if record.end_time is None or record.start_time is None:
            continue
        receipt_ids = [int(key.split("/", 1)[1]) for key in run.tags if key.startswith("hub.receipt/")]
        requested = record.create_timestamp.timestamp()
        launched = next((e.timestamp for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_STARTING)),
                        record.start_time)
        for receipt_id in receipt_ids:
            drop = by_file.get(names.get(receipt_id, ""))
            if drop is None:
                continue
            drop.run = {"requested_s": requested - drop.dropped_at, "queued_s": launched - requested,
                        "starting_s": record.start_time - launched, "running_s": record.end_time - record.start_time,
                        "overhead_s": record.end_time - requested, "status": 0.0 if run.is_success else 1.0,
                        "files": float(len(receipt_ids))}


def stats(values: list[float]) -> str:
    """``min / median / max (n)`` of ``values``."""
    if not values:
        return "no values"
    return f"min {min(values):6.2f}  median {statistics.median(values):6.2f}  max {max(values):6.2f}  (n={len(values)})"


def main() -> int:
    """Drop files, wait for their acks and sale orders, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=5)
    parser.add_argument("--max-gap", type=float, default=40.0, help="seconds between drops, at most (uniform)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--dequeue-interval", type=int, default=None,
                        help="run_queue.dequeue_interval_seconds for this DAGSTER_HOME (default: as shipped)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs, stores)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    # A plain kill (timeout, Ctrl-C) still stops the daemon and the sandbox servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)

    root = Path(tempfile.mkdtemp(prefix="hub-latency-"))
    partners = PartnerDirectory.load(ROOT / "mappings" / "partners")
    profile = partners.get(PARTNER)
    drops: list[Drop] = []
    with SandboxEnvironment(root / "sandbox", partners) as sandbox:
        env = {**sandbox.environment(), "HUB_DATA_DIR": str(root / "var"),
               "HUB_DATABASE_URL": sqlite_url(root / "hub.sqlite3")}
        os.environ.update(env)  # the webhook endpoint of the sandbox opens the same store
        home = dagster_home(root, args.dequeue_interval)
        log = root / "daemon.log"
        started = time.time()
        daemon = start_daemon(home, env, log)
        try:
            print(f"daemon started (DAGSTER_HOME {home}); dropping {args.files} files into {PARTNER}'s inbox")
            base = 1000 + rng.randrange(1000) * 10
            for i in range(args.files):
                time.sleep(rng.uniform(0, args.max_gap))
                control, po = base + i, f"LAT-{base + i}"
                name = f"lat_{control}.x12"
                data = build_850(profile, po_number=po, control_number=control, lines=LINES)
                path = sandbox.inbox(PARTNER) / name
                path.with_suffix(".part").write_bytes(data)
                path.with_suffix(".part").rename(path)  # appears whole: its drop time is exact
                drops.append(Drop(name, po, control, time.time()))
                print(f"  {dt.datetime.now():%H:%M:%S} dropped {name}")
                _observe(drops, sandbox)
            deadline = drops[-1].dropped_at + DEADLINE_S
            while time.time() < deadline and any(d.ack_s is None or d.erp_s is None for d in drops):
                if daemon.poll() is not None:
                    raise SystemExit(f"the daemon exited:\n{log.read_text()[-3000:]}")
                _observe(drops, sandbox)
                time.sleep(0.2)
            time.sleep(3)  # the last run ends (its exception queue step) after its ack and sale order appear
            with dg.DagsterInstance.from_config(str(home)) as instance:
                run_phases(instance, env["HUB_DATABASE_URL"], drops)
        finally:
            stop_daemon(daemon)
    print(f"\n{len(drops)} files, daemon up {drops[0].dropped_at - started:.0f} s before the first drop "
          f"(instance settings: dagster_home/dagster.yaml"
          + (f", run_queue.dequeue_interval_seconds {args.dequeue_interval}" if args.dequeue_interval else "")
          + "; jobs on the in-process executor)")
    print(f"{'file':<16}{'to 997':>9}{'to ERP':>9}{'to run':>9}{'queued':>9}{'starting':>9}{'running':>9}"
          f"{'overhead':>9}")
    for d in drops:
        def cell(value: float | None) -> str:
            return f"{value:9.2f}" if value is not None else f"{'-':>9}"
        print(f"{d.name:<16}{cell(d.ack_s)}{cell(d.erp_s)}" + "".join(
            cell(d.run.get(k)) for k in ("requested_s", "queued_s", "starting_s", "running_s", "overhead_s")))
    print("\nseconds, min / median / max:")
    print(f"  drop -> 997          {stats([d.ack_s for d in drops if d.ack_s is not None])}")
    print(f"  drop -> ERP          {stats([d.erp_s for d in drops if d.erp_s is not None])}")
    print(f"  drop -> run (sensor) {stats([d.run['requested_s'] for d in drops if d.run])}")
    print(f"  run overhead, sensor tick -> run done  {stats([d.run['overhead_s'] for d in drops if d.run])}")
    print(f"    queued (tick -> launched)          {stats([d.run['queued_s'] for d in drops if d.run])}")
    print(f"    starting (launched -> started)     {stats([d.run['starting_s'] for d in drops if d.run])}")
    print(f"    running (started -> done)          {stats([d.run['running_s'] for d in drops if d.run])}")
    failed = [d.name for d in drops if d.run.get("status") or d.ack_s is None or d.erp_s is None]
    if args.keep:
        print(f"\nkept: {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    if failed:
        print(f"\nNOT done in {DEADLINE_S} s or failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
