"""End to end, file drop to ERP sale order, through the real path: SFTP -> intake -> outbox -> ERP over JSON-2.

    .venv/bin/python benchmarks/end_to_end.py [--pos 10000] [--files 1000] [--per-file 10] [--lines 2]
                                              [--batch-size 100] [--in-flight 1] [--ceiling-orders 10000]

Two shapes, each on a fresh store (SQLite file) and a fresh sandbox ERP:
* one file of ``--pos`` purchase orders (one interchange);
* ``--files`` files of ``--per-file`` purchase orders each (one interchange per file).

What runs: the sandbox SFTP server (paramiko, this process) holding acme's inbox; the sandbox ERP
(``python -m sandbox.erp_server``) in a child process, as a real ERP is another program on other
cores; the hub in this process. The files are written into the inbox ("the drop"); then the
intake does what the sensor and ``edi_inbound_job`` do: ``poll_inbox`` (two polls: a file is taken
once unchanged across two), then per run of ``--run-files`` files (the sensor's batch, default 50)
``process_x12_receipt`` for each file and one ``send_pending_acks`` (the run's 997s written to
acme's outbound folder over SFTP). Meanwhile a push process (what the ``erp`` push
asset's run and its drain do, beside the intake runs) calls ``deliver_due_orders`` on the Odoo
target over and over, each pass claiming up to 500 due deliveries and sending them
``--batch-size`` per ``create`` call with up to ``--in-flight`` batches at once, until every order
is a sale order; a pass starts once a batch's worth is due or ``--linger`` seconds after the last.
``--push-after-intake`` starts the push only once everything is stored: "push o/s" is then the
push alone, orders already in the outbox.

Printed per shape: seconds from the drop to the last 997 and to the last sale order, orders/s
(drop to last sale order), the ERP HTTP requests per order (counted at the client's transport), and
the ratio to the sandbox's own ceiling measured in the same run: a fresh sandbox ERP taking
``--ceiling-orders`` sale orders of the same lines by ``create`` with lists of 100 values, no hub.
Targets (issue 14): 10,000 orders from drop to last sale order in at most 60 s, at most 0.2
requests per order, at least 30 % of the ceiling. ``--batch-size 1`` shows the one-order-at-a-time
path for comparison (use a smaller ``--pos``: it runs ~15 orders/s).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx

from connectors.erp import OdooConfig, OdooJson2Client
from connectors.sftp import SftpClient, SftpConfig
from hub import store as st
from hub.defs.edi.sensors import DEFAULT_MAX_FILES, chunks
from hub.delivery import deliver_due_orders, send_pending_acks
from hub.intake import InboxCursor, poll_inbox, process_x12_receipt
from hub.settings import sqlite_url
from hub.targets import DEFAULT_BATCH_SIZE, OdooTarget
from mappings.odoo import OdooSalesGateway
from mappings.profiles import PartnerDirectory
from mappings.x12.samples import SampleLine, build_850
from sandbox.environment import ERP_API_KEY, SFTP_PASSWORD, SFTP_USER
from sandbox.erp_server import DEMO_PRODUCTS
from sandbox.sftp_server import SandboxSftpServer

PARTNER = "acme"
MAX_BYTES = 200 * 1024 * 1024


class CountingTransport(httpx.HTTPTransport):
    """Counts the HTTP requests the hub sends to the ERP."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = 0
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests += 1
        return super().handle_request(request)


class ErpProcess:
    """The sandbox ERP in a child process on a free loopback port."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "sandbox.erp_server", "--port", str(self.port)], cwd=ROOT,
            env={**os.environ, "HUB_SANDBOX_ERP_API_KEY": ERP_API_KEY}, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base_url}/web/version", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the sandbox ERP did not start")

    def client(self, transport: httpx.BaseTransport | None = None) -> OdooJson2Client:
        """A JSON-2 client (timeout 120 s: a batch of 500 takes a few seconds)."""
        config = OdooConfig(api_key=ERP_API_KEY, http={"base_url": self.base_url, "timeout_seconds": 120})
        return OdooJson2Client(config, transport=transport)

    def sale_orders(self) -> int:
        with self.client() as client:
            return int(client.call("sale.order", "search_count", domain=[]))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def sample_lines(count: int) -> list[SampleLine]:
    """Lines of products the sandbox ERP sells (its demo catalog), cycled."""
    return [SampleLine(DEMO_PRODUCTS[n % len(DEMO_PRODUCTS)][0], quantity=str(n % 3 + 1), unit_price="4.50")
            for n in range(count)]


def ceiling(orders: int, lines: int) -> float:
    """The sandbox ERP's own orders/s: sale orders created with lists of 100 values, no hub in between."""
    erp = ErpProcess()
    try:
        with erp.client() as client:
            [partner] = client.call("res.partner", "create", vals_list=[{"name": "Ceiling", "ref": "ceiling"}])
            codes = [line.sku for line in sample_lines(lines)]
            products = {row["default_code"]: row["id"] for row in client.call(
                "product.product", "search_read", domain=[["default_code", "in", codes]], fields=["default_code"])}
            started = time.perf_counter()
            for start in range(0, orders, 100):
                vals = [{"partner_id": partner, "client_order_ref": f"CEIL-{n}", "origin": "ceiling",
                         "order_line": [[0, 0, {"product_id": products[line.sku], "product_uom_qty": 2.0,
                                                "price_unit": 4.5}] for line in sample_lines(lines)]}
                        for n in range(start, min(orders, start + 100))]
                client.call("sale.order", "create", vals_list=vals)
            return orders / (time.perf_counter() - started)
    finally:
        erp.stop()


@dataclass
class Result:
    shape: str
    orders: int
    intake_s: float
    ack_s: float
    erp_s: float
    requests: int
    first_push_s: float

    @property
    def rate(self) -> float:
        """Orders per second from the drop to the last sale order."""
        return self.orders / self.erp_s


def run_shape(shape: str, files: list[tuple[str, bytes]], orders: int, partners: PartnerDirectory, root: Path,
              args: argparse.Namespace) -> Result:
    """Drop ``files`` into acme's inbox and time them to the last 997 and the last sale order."""
    work = Path(tempfile.mkdtemp(prefix=f"e2e-{shape}-", dir=root))
    profile = partners.get(PARTNER)
    assert profile.sftp is not None
    sftp_root = work / "sftp"
    for folder in (profile.sftp.inbox, profile.sftp.archive, profile.sftp.outbound):
        (sftp_root / folder).mkdir(parents=True, exist_ok=True)
    known_hosts = work / "known_hosts"
    sftp = SandboxSftpServer(sftp_root, username=SFTP_USER, password=SFTP_PASSWORD,
                             host_key_path=work / "host_key").start()
    sftp.write_known_hosts(known_hosts)
    erp = ErpProcess()
    store_url = sqlite_url(work / "hub.sqlite3")
    store = st.HubStore(store_url).migrate()
    spawn = multiprocessing.get_context("spawn")
    intake_done = spawn.Event()
    answers: multiprocessing.Queue = spawn.Queue()
    pusher = None
    try:
        config = SftpConfig(host=sftp.host, port=sftp.port, username=SFTP_USER, password=SFTP_PASSWORD,
                            known_hosts_path=str(known_hosts))
        inbox = sftp_root / profile.sftp.inbox
        # The push runs in its own process, as the push asset's run does beside the intake runs.
        pusher = spawn.Process(target=push_loop, args=(store_url, erp.base_url, intake_done, answers, args.batch_size,
                                                       args.in_flight, args.claim, args.linger), name="push")
        if not args.push_after_intake:
            pusher.start()
        drop = time.time()
        for name, data in files:
            (inbox / name).write_bytes(data)
        with SftpClient(config) as client:
            cursor = InboxCursor()
            ack_at = drop
            taken = 0
            while taken < len(files):
                poll = poll_inbox(store, client, profile, max_bytes=MAX_BYTES, cursor=cursor)
                cursor = poll.cursor
                # One intake run per chunk of the tick's files, as the sensor asks for them: its receipts
                # processed, then its acks written (the outbound folder listed once per run, not per file).
                for run_files in chunks(poll.new_files, args.run_files):
                    for polled in run_files:
                        process_x12_receipt(store, partners, polled.receipt_id)
                    if send_pending_acks(store, partners, client, partner_id=PARTNER):
                        ack_at = time.time()
                taken += len(poll.new_files)
        intake_s = time.time() - drop
        intake_done.set()
        if args.push_after_intake:
            pusher.start()
        outcome = answers.get(timeout=1800)
        pusher.join()
        if "error" in outcome:
            raise RuntimeError(f"push loop: {outcome['error']}")
        held = erp.sale_orders()
        if held != orders:
            raise AssertionError(f"{shape}: the ERP holds {held} sale orders, expected {orders}")
        with store.transaction() as conn:
            states = st.deliveries_by_state(conn, "erp")
        if states != {st.DONE: orders}:
            raise AssertionError(f"{shape}: deliveries {states}")
        return Result(shape, orders, intake_s, ack_at - drop, outcome["last_pushed_at"] - drop, outcome["requests"],
                      outcome["first_pushed_at"] - drop)
    finally:
        intake_done.set()
        if pusher is not None and pusher.is_alive():
            pusher.join(timeout=60)
        erp.stop()
        sftp.stop()


def push_loop(store_url: str, erp_url: str, intake_done: Any, answers: Any, batch_size: int, in_flight: int,
              claim: int, linger: float) -> None:
    """The push process: ``deliver_due_orders`` pass after pass until the intake is done and nothing is due.

    A pass starts once a batch's worth of orders is due, or ``linger`` seconds after the previous
    one (what a drain loop does so that orders trickling in from small files still go in full batches).
    """
    store = st.HubStore(store_url)
    counting = CountingTransport()
    out: dict[str, Any] = {}
    config = OdooConfig(api_key=ERP_API_KEY, http={"base_url": erp_url, "timeout_seconds": 120})
    try:
        with OdooJson2Client(config, transport=counting) as client:
            target = OdooTarget(OdooSalesGateway(client), batch_size=batch_size, max_in_flight=in_flight)
            last_pass = 0.0
            while True:
                finished = intake_done.is_set()
                with store.transaction() as conn:
                    due = st.deliveries_by_state(conn, "erp").get(st.PENDING, 0)
                if not finished and due < batch_size and time.time() - last_pass < linger:
                    time.sleep(0.02)
                    continue
                last_pass = time.time()
                summary = deliver_due_orders(store, target, limit=claim)
                if summary.pushed:
                    out.setdefault("first_pushed_at", time.time())
                    out["last_pushed_at"] = time.time()
                if summary.dead or summary.retrying:
                    raise RuntimeError(f"push pass: {summary}")
                if summary.attempted == 0 and finished:
                    break
        out["requests"] = counting.requests
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
        out["error"] = repr(exc)
    answers.put(out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pos", type=int, default=10_000, help="purchase orders in the one big file")
    parser.add_argument("--files", type=int, default=1_000, help="number of small files")
    parser.add_argument("--per-file", type=int, default=10, help="purchase orders per small file")
    parser.add_argument("--lines", type=int, default=2, help="lines per purchase order")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="orders per ERP create call")
    parser.add_argument("--in-flight", type=int, default=1, help="batches sent to the ERP at once")
    parser.add_argument("--claim", type=int, default=500, help="deliveries one push pass claims")
    parser.add_argument("--linger", type=float, default=0.5,
                        help="seconds the push loop waits for a full batch before sending what is due")
    parser.add_argument("--ceiling-orders", type=int, default=10_000)
    parser.add_argument("--run-files", type=int, default=DEFAULT_MAX_FILES,
                        help="files per intake run (the sensor's HUB_INTAKE_BATCH_MAX_FILES)")
    parser.add_argument("--only", choices=["big", "small"], help="run one shape only")
    parser.add_argument("--push-after-intake", action="store_true",
                        help="start pushing once every file is stored (intake and push measured apart)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    partners = PartnerDirectory.load(ROOT / "mappings" / "partners")
    acme = partners.get(PARTNER)
    lines = sample_lines(args.lines)
    today = dt.date.today().strftime("%Y%m%d")
    print(f"sandbox ceiling: {args.ceiling_orders} sale orders x {args.lines} lines, create with lists of 100 ...",
          flush=True)
    top = ceiling(args.ceiling_orders, args.lines)
    print(f"  {top:,.0f} orders/s", flush=True)
    results = []
    with tempfile.TemporaryDirectory(prefix="orderhub-e2e-") as tmp:
        root = Path(tmp)
        if args.only in (None, "big"):
            data = build_850(acme, po_number="E2E-BIG", purchase_orders=args.pos, lines=lines, control_number=1,
                             order_date=today)
            results.append(run_shape(f"1 file x {args.pos} POs", [("e2e-big.x12", data)], args.pos, partners,
                                     root, args))
        if args.only in (None, "small"):
            files = [(f"e2e-{n:05d}.x12", build_850(acme, po_number=f"E2E-S{n}", purchase_orders=args.per_file,
                                                     lines=lines, control_number=10 + n, order_date=today))
                     for n in range(args.files)]
            results.append(run_shape(f"{args.files} files x {args.per_file} POs", files, args.files * args.per_file,
                                     partners, root, args))
    print(f"\nbatch size {args.batch_size}, {args.in_flight} in flight, {args.lines} lines per PO; sandbox ERP "
          f"in a child process; seconds from the drop")
    print(f"{'shape':<24} {'orders':>7} {'intake':>7} {'to 997':>7} {'to ERP':>7} {'orders/s':>9} "
          f"{'req/order':>9} {'of ceiling':>10} {'push o/s':>9} {'of ceiling':>10}")
    for r in results:
        push_rate = r.orders / max(r.erp_s - r.first_push_s, 1e-9)
        print(f"{r.shape:<24} {r.orders:>7} {r.intake_s:>7.1f} {r.ack_s:>7.1f} {r.erp_s:>7.1f} {r.rate:>9.0f} "
              f"{r.requests / r.orders:>9.3f} {r.rate / top:>10.0%} {push_rate:>9.0f} {push_rate / top:>10.0%}")
    print("orders/s: drop to last sale order; push o/s: first to last sale order the push created (it runs while "
          "the intake still stores)")
    print("targets: 10,000 orders drop to last sale order <= 60 s, <= 0.2 requests per order, >= 30 % of the "
          "ceiling")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
