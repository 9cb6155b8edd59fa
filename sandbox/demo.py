"""``python -m sandbox demo`` (``make demo``): orders flow from every channel's sandbox through Dagster to a
sandbox ERP.

The demo drops sample 850s (three partners, one broken file, one resend) into the sandbox partners'
SFTP inboxes and evaluates each inbox sensor; runs the sync job of the sandbox Shopify store and
marketplace seller account; sends the store's webhooks (one retried, one forged) and lets the
webhook sensor process them; then ships (``sandbox/demo_fulfil.py``: stock, an 855, labels, an 856,
fulfilments). Every run goes to the Dagster instance in ``DAGSTER_HOME`` (so it
shows in the UI afterwards). It prints what happened; running it again creates nothing twice.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from hub import store as st
from hub.reconciliation import reconcile_erp_orders
from hub.settings import REPO_ROOT, STORE_FILE_NAME, HubSettings, get_settings, resolve_database_url, sqlite_url
from hub.targets import ERP_TARGET
from mappings.profiles import PartnerDirectory
from sandbox import demo_match
from sandbox.demo_email import run_email_demo
from sandbox.demo_fulfil import run_outbound, use_demo_profiles
from sandbox.environment import SandboxEnvironment

SAMPLES = Path(__file__).resolve().parent / "samples"
# Dropped in the first tick, then the resend in the second: the order partners' files really arrive in.
FIRST_DROP = {
    "acme": ["acme_po_4500012345.x12", "acme_po_broken.x12"],
    "northwind": ["northwind_po_NW-77001.x12"],
    "bluebird": ["bluebird_po_BB-2026-118.x12"],
}
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
SECOND_DROP = {"acme": [("acme_po_4500012345.x12", "acme_po_4500012345_RESENT.x12")]}


def run_demo(data_dir: Path | None = None, out=sys.stdout) -> int:
    """Run the demo end to end; returns a process exit code."""
    started = time.monotonic()

    def say(text: str = "") -> None:
        print(text, file=out, flush=True)

    data_dir = _prepare_environment(data_dir, say)
    partners = PartnerDirectory.load(use_demo_profiles(data_dir))  # the samples with the demo's overlay

    # A client closing its session is normal here; paramiko would print it as a socket error.
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)
    with SandboxEnvironment(data_dir / "sandbox", partners) as sandbox:
        sandbox.export()
        say(f"sandbox SFTP  sftp://{sandbox.sftp.host}:{sandbox.sftp.port}  (host key pinned in {sandbox.known_hosts})")
        say(f"sandbox ERP   {sandbox.erp.base_url}/json/2  (Odoo JSON-2 contract)")
        say(f"hub store     {resolve_database_url()}")
        say(f"dagster home  {os.environ['DAGSTER_HOME']}")

        from hub.definitions import defs as code_location  # loaded once the environment is set

        defs = code_location()

        instance = dg.DagsterInstance.get()
        cursors: dict[str, str | None] = {}
        for tick, dropper in ((1, _first_drop), (2, _second_drop)):
            drop = dropper(sandbox)
            say(f"\n== tick {tick}: dropped {', '.join(drop) or 'nothing new'}")
            # Two sensor ticks: a file is taken once its size and mtime held across two polls.
            runs = tick_sensors(defs, instance, cursors) + tick_sensors(defs, instance, cursors)
            for sensor_name, run_key, status in runs:
                say(f"   {sensor_name}: run {run_key[:60]} -> {status}")
            if not runs:
                say("   no new files: everything in the inboxes was processed before (moved to the archive)")
        _channels(say, defs, instance, sandbox)
        run_email_demo(say, defs, instance, sandbox, _with_store(f"{_shown(Path(sys.executable).parent)}/hub",
                                                                 resolve_database_url()))
        run_outbound(say, defs, instance, sandbox)  # stock, 855, labels, 856, fulfilments (sandbox/demo_fulfil.py)
        store = st.HubStore(resolve_database_url())
        demo_match.run(say, defs, instance, store, QUIET)  # sample POs, shipments, invoices; today's match report
        with sandbox_gateway(sandbox) as gateway:
            _print_summary(say, store, sandbox, gateway)
    say(f"\ndemo finished in {time.monotonic() - started:.1f} s. Run it again: nothing is created twice.")
    print_next_steps(say, store)
    return 0


def print_next_steps(say, store: st.HubStore) -> None:
    """The demo's last words: how to run ``hub``, then what to try (``exceptions show`` a real id when one is open)."""
    with store.transaction() as conn:
        queued = st.list_exceptions(conn, limit=1)  # the newest open one
    bin_dir = _shown(Path(sys.executable).parent)
    hub = _with_store(f"{bin_dir}/hub", store.url)
    say("\n== next")
    say(f"`hub` is not on your PATH: run it as {bin_dir}/hub, or `source {bin_dir}/activate` once, then `hub ...`")
    if queued:
        say(f"   {hub} exceptions show {queued[0].id}    # why #{queued[0].id} is in the queue, how to replay it")
    else:
        say(f"   {hub} exceptions list")
    say("   make ui    # the same runs, sensors and checks in the Dagster UI at http://127.0.0.1:3000")


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when under it (``.venv/bin`` from ``make demo``)."""
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _with_store(command: str, store_url: str) -> str:
    """``command`` as a shell without the demo's environment must type it: naming the store unless it is the
    default, and the demo's profiles (the samples with its overlay) unless they are the default folder; a
    replay read with the sample profiles alone would not know the demo's 855, 856 and carrier settings."""
    default = sqlite_url(HubSettings.model_fields["data_dir"].default / STORE_FILE_NAME)
    prefix = "" if store_url == default else f"HUB_DATABASE_URL={shlex.quote(store_url)} "
    partners = os.environ.get("HUB_PARTNERS_DIR")
    if partners and Path(partners).resolve() != Path(HubSettings.model_fields["partners_dir"].default).resolve():
        prefix += f"HUB_PARTNERS_DIR={shlex.quote(_shown(Path(partners)))} "
    return prefix + command


def run_ui(data_dir: Path | None = None, host: str = "127.0.0.1", port: int = 3000) -> int:
    """Serve the Dagster UI (and daemon) over the demo's store, with the sandbox systems running."""
    data_dir = _prepare_environment(data_dir)
    partners = PartnerDirectory.load(use_demo_profiles(data_dir))  # the samples with the demo's overlay
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)
    with SandboxEnvironment(data_dir / "sandbox", partners) as sandbox:
        sandbox.export()
        print(f"sandbox SFTP on port {sandbox.sftp.port}, sandbox ERP at {sandbox.erp.base_url}; "
              f"drop files into {sandbox.sftp_root}/<partner>/inbox and watch the sensors pick them up.")
        command = [sys.executable, "-m", "dagster", "dev", "-m", "hub.definitions", "-h", host, "-p", str(port)]
        # Own session and default signal handling: Ctrl-C here stops dagster dev and its children.
        process = subprocess.Popen(command, start_new_session=True,
                                   preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))

        def forward(signum, _frame) -> None:
            # dagster dev runs in its own session: pass our stop on to it and its children.
            os.killpg(process.pid, signal.SIGINT)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        while True:
            try:
                return process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                continue


DEMO_DAGSTER_HOME = REPO_ROOT / "dagster_home"
"""The demo's own Dagster instance (``make demo`` and ``make ui`` use it): the one it may reset."""


def _prepare_environment(data_dir: Path | None, say=print) -> Path:
    """Default DAGSTER_HOME and the embedded store URL for the demo's data folder.

    When the demo's store is about to be created (a first run, or after ``rm -rf var/``), the runs its
    instance remembers belong to a store that is gone: they are forgotten (``forget_earlier_runs``).
    """
    data_dir = Path(data_dir or get_settings().data_dir).resolve()
    os.environ.setdefault("DAGSTER_HOME", str(DEMO_DAGSTER_HOME))
    # Exported, so Dagster's EnvVar and the webhook endpoint open this same store.
    os.environ.setdefault("HUB_DATABASE_URL", resolve_database_url(data_dir=data_dir))
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    store_file = data_dir / STORE_FILE_NAME
    if os.environ["HUB_DATABASE_URL"] == sqlite_url(store_file) and not store_file.exists():
        forget_earlier_runs(home, say)
    return data_dir


def forget_earlier_runs(home: Path, say=print) -> int:
    """A new demo store: wipe the runs, event logs and sensor state of the demo's instance; how many runs went.

    The inbox sensors key their runs on each file's name and content, and a run key once launched is
    never launched again: with the old runs kept, the demo's sample files would be receipted into the
    new store and then skipped, and nothing would flow. Only the demo's own instance
    (``DEMO_DAGSTER_HOME``) is wiped; another one (DAGSTER_HOME set by hand) is left alone, with a warning.
    """
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs_count()
        if not runs:
            return 0
        if home.resolve() != DEMO_DAGSTER_HOME.resolve():
            say(f"note: the store is new but the Dagster instance in {home} has {runs} earlier run(s); sensors "
                "skip run keys launched before, so files seen then are not processed again. Use an empty "
                "DAGSTER_HOME (or the demo's own) to start over.")
            return 0
        # Run by run: delete_run also frees the concurrency slots a run held. (``instance.wipe()`` would
        # not do: on SQLite it drops the pools' slots but keeps their limits, and every step then waits
        # for a slot forever.)
        for record in instance.get_run_records():
            instance.delete_run(record.dagster_run.run_id)  # the run and its events (materializations, checks)
        instance.wipe_all_schedules()  # sensor and schedule state: cursors and ticks
    say(f"new store: forgot {runs} run(s) of the previous demo store in {home}")
    return runs


def tick_sensors(
    defs: dg.Definitions, instance: dg.DagsterInstance, cursors: dict[str, str | None] | None = None
) -> list[tuple[str, str, str]]:
    """Evaluate every sensor once and launch the runs it asks for, as the daemon would (skipping known run keys).

    ``cursors`` (sensor name -> cursor) carries each sensor's cursor from one tick to the next, as the
    daemon does: an inbox file is taken on the tick after the one that first saw it.
    """
    launched = []
    cursors = {} if cursors is None else cursors
    for unresolved in defs.sensors or []:
        sensor = defs.resolve_sensor_def(unresolved.name)
        if sensor.default_status == dg.DefaultSensorStatus.STOPPED:
            continue  # the daemon leaves it alone too (e.g. its account's secrets are not set here)
        # Only the resources the sensor asks for, as the daemon does: another account's unset secret is no concern.
        resources = {key: (defs.resources or {})[key] for key in sensor.required_resource_keys}
        context = dg.build_sensor_context(
            instance=instance, definitions=defs, sensor_name=sensor.name, resources=resources,
            cursor=cursors.get(sensor.name),
        )
        result = sensor.evaluate_tick(context)
        cursors[sensor.name] = result.cursor
        for request in result.run_requests or []:
            run_key = request.run_key or ""  # the hub's sensors key every run request
            job_name = request.job_name or sensor.job_name
            tags = {**request.tags, "dagster/run_key": run_key, "dagster/sensor_name": sensor.name}
            if instance.get_run_records(dg.RunsFilter(tags={"dagster/run_key": run_key,
                                                            "dagster/sensor_name": sensor.name}), limit=1):
                launched.append((sensor.name, run_key, "skipped (run key already launched)"))
                continue
            assert job_name is not None, f"sensor {sensor.name} asked for a run without a job"
            job = defs.resolve_job_def(job_name)
            run_config = {**request.run_config, **QUIET}
            run = job.execute_in_process(run_config=run_config, instance=instance, tags=tags, raise_on_error=False)
            launched.append((sensor.name, run_key, "success" if run.success else "FAILED"))
    return launched


def _channels(say, defs: dg.Definitions, instance: dg.DagsterInstance, sandbox: SandboxEnvironment) -> None:
    """The store and the marketplace: their scheduled syncs, then webhooks (one forged)."""
    sync_jobs = sorted(job.name for job in defs.resolve_all_job_defs() if job.name.endswith("_sync"))
    if not sync_jobs:
        return
    say("\n== shop and marketplace: the scheduled syncs run once")
    for name in sync_jobs:
        result = defs.resolve_job_def(name).execute_in_process(instance=instance, raise_on_error=False,
                                                               run_config=QUIET, tags={"hub/demo": "sync"})
        meta = {}
        for event in result.get_asset_materialization_events():
            found = {k: v.value for k, v in event.materialization.metadata.items()}
            if "orders_new" in found or "products" in found:  # the sync asset's own counts, not a target's push
                meta = found
        if "products" in meta:  # the ERP catalogue the validation rules read, not an order channel
            say(f"   {name}: {'success' if result.success else 'FAILED'}; {meta['products']} products, "
                f"{meta.get('pricelist_prices', 0)} pricelist prices, "
                f"{meta.get('customers_with_credit', 0)} customers with a credit limit")
            continue
        say(f"   {name}: {'success' if result.success else 'FAILED'}; new {meta.get('orders_new', 0)}, "
            f"updated {meta.get('orders_updated', 0)}, unchanged {meta.get('orders_unchanged', 0)}, "
            f"held {meta.get('orders_held', 0)}, not for delivery {meta.get('orders_not_pushed', 0)}; "
            f"{meta.get('http_requests', 0)} requests, {meta.get('http_responses_429', 0)} refused (429)")
    if sandbox.shop is None:
        return
    say("\n== webhooks from the shop: an edited order, the same webhook retried, and a forged one")
    order_id = sandbox.shop.order_ids()[0]
    edited = sandbox.shop.update_order(order_id, note="Please gift wrap")
    webhook_id = f"demo-{edited['updated_at']}"
    for label, secret in (("orders/updated", None), ("orders/updated (retry)", None),
                          ("forged signature", "not-the-app-secret")):
        response = sandbox.shop.send_webhook(sandbox.webhook_url(), "orders/updated", order_id,
                                             webhook_id=webhook_id, secret=secret)
        say(f"   {label}: HTTP {response.status_code}")
    for sensor_name, run_key, status in tick_sensors(defs, instance, {}):
        say(f"   {sensor_name}: run {run_key[:60]} -> {status}")


def _first_drop(sandbox: SandboxEnvironment) -> list[str]:
    dropped = []
    for partner_id, names in FIRST_DROP.items():
        for name in names:
            shutil.copyfile(SAMPLES / name, sandbox.inbox(partner_id) / name)
            dropped.append(f"{partner_id}/{name}")
    return dropped


def _second_drop(sandbox: SandboxEnvironment) -> list[str]:
    dropped = []
    for partner_id, pairs in SECOND_DROP.items():
        for sample, name in pairs:
            shutil.copyfile(SAMPLES / sample, sandbox.inbox(partner_id) / name)
            dropped.append(f"{partner_id}/{name} (a resend of {sample})")
    return dropped


@contextmanager
def sandbox_gateway(sandbox: SandboxEnvironment) -> Iterator:
    """The ERP gateway pointed at the sandbox ERP."""
    from connectors.erp import OdooConfig, OdooJson2Client
    from mappings.odoo import OdooSalesGateway

    env = sandbox.environment()
    config = OdooConfig(database=env["HUB_ERP_DATABASE"], api_key=env["HUB_ERP_API_KEY"],
                        http={"base_url": env["HUB_ERP_URL"]})
    with OdooJson2Client(config) as client:
        yield OdooSalesGateway(client)


def _print_summary(say, store: st.HubStore, sandbox: SandboxEnvironment, gateway) -> None:
    with store.transaction() as conn:
        counts = st.store_counts(conn, target=ERP_TARGET)
        exceptions = st.list_exceptions(conn)
    check = reconcile_erp_orders(store, gateway)
    say("\n== summary")
    receipts, orders, acks = counts.receipts_by_outcome, counts.orders_by_status, counts.acks_sent_by_kind
    say(f"documents received  {sum(receipts.values())}  " + _fmt(receipts) + "  (files, API pages, webhooks)")
    say(f"orders in the hub   {sum(orders.values())}  " + _fmt(orders) + f", test orders: {counts.test_orders}, "
        f"not for delivery: {counts.orders_not_for_delivery}")
    say("   by channel         " + _fmt(counts.orders_by_source))
    say(f"acks sent           {sum(acks.values())}  " + _fmt(acks))
    for profile in sandbox.partners:
        if profile.sftp:
            files = sorted(p.name for p in sandbox.outbound(profile.id).iterdir())
            say(f"   {profile.id:10} outbound: {', '.join(files) or '-'}")
    say(f"ERP sale orders     {check.found} for our orders; deliveries " + _fmt(counts.deliveries_by_state))
    say(f"exception queue     {len(exceptions)} open")
    for exc in exceptions:
        where = f" [{exc.location}]" if exc.location else ""
        say(f"   #{exc.id} {exc.partner_id} {exc.kind}: {exc.reason[:110]}{where}")
    verdict = "PASSED" if check.passed else "FAILED"
    say(f"reconciliation      every accepted order exactly once in the ERP: {verdict} "
        f"({check.expected} expected, missing {check.missing or 'none'}, doubled {check.doubled or 'none'})")


def _fmt(counter: Counter) -> str:
    return "(" + ", ".join(f"{key}: {value}" for key, value in sorted(counter.items(), key=lambda kv: str(kv[0]))) + ")"
