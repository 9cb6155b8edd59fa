"""The demo's outbound half (``make demo``, after the orders are in): stock and ATP, an 855, labels, fulfilments.

Profiles: the demo runs on the sample profiles of ``mappings/partners`` with ``sandbox/demo_profiles.yaml``
laid over them (:func:`use_demo_profiles`, written to ``<data dir>/partners``): Northwind asks for an
855; Bluebird, the Shopify store and the marketplace account ship through the sandbox carrier; Bluebird
wants 856s. The samples stay as the tests know them.

Then :func:`run_outbound` runs, through Dagster on the demo's instance (so each run shows in the UI),
the jobs of ``OUTBOUND_JOBS`` in order (before the 856 job the sandbox ERP's warehouse ships the
labelled orders, :func:`warehouse_ships`) and prints what they left: the 855 and 856 in the partners'
outbound folders, the labels bought, the fulfilments the shop and marketplace received.
Every step is once-only in the hub, so a second demo sends nothing again.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import sqlalchemy as sa
import yaml

from hub import store as st
from hub.delivery._asn import partners_sending_856
from hub.settings import REPO_ROOT, resolve_database_url
from sandbox import _amazon_fulfilment, _shopify_fulfilment
from sandbox._fulfil_sandboxes import carrier_targets, ship_once
from sandbox.environment import SandboxEnvironment

OVERLAY = Path(__file__).resolve().parent / "demo_profiles.yaml"
SAMPLE_PROFILES = REPO_ROOT / "mappings" / "partners"
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


Jobs = Callable[[dg.Definitions, SandboxEnvironment], list[str]]


def _label_jobs(defs: dg.Definitions, sandbox: SandboxEnvironment) -> list[str]:
    return [f"{name}_push_job" for name in carrier_targets(sandbox.partners)]


def _fulfilment_jobs(defs: dg.Definitions, sandbox: SandboxEnvironment) -> list[str]:
    return sorted(job.name for job in defs.resolve_all_job_defs()
                  if "_fulfilments_" in job.name and job.name.endswith("_job"))


def _ship_then_asn_jobs(defs: dg.Definitions, sandbox: SandboxEnvironment) -> list[str]:
    """The warehouse ships (:func:`warehouse_ships`), then the 856 job reads the done deliveries."""
    warehouse_ships(sandbox)
    return ["edi_ship_notices_job"]


# The outbound steps in the order the goods move: (what the step does, the jobs that do it); a step whose
# jobs are not in the definitions is skipped.
OUTBOUND_JOBS: tuple[tuple[str, Jobs], ...] = (
    ("stock and ATP from the ERP, new order lines allocated", lambda defs, sandbox: ["inventory_job"]),
    ("855s to the partners that ask for them", lambda defs, sandbox: ["edi_po_acknowledgments_job"]),
    ("labels bought from the carrier", _label_jobs),
    ("856s for the deliveries the warehouse shipped", _ship_then_asn_jobs),
    ("fulfilments sent back to the shop and the marketplace", _fulfilment_jobs),
)


def use_demo_profiles(data_dir: Path) -> Path:
    """Write the sample profiles with the demo's overlay to ``<data_dir>/partners`` and name it HUB_PARTNERS_DIR
    (unless set: a partners folder named by hand is used as it is)."""
    if os.environ.get("HUB_PARTNERS_DIR"):
        return Path(os.environ["HUB_PARTNERS_DIR"])
    folder = Path(data_dir) / "partners"
    folder.mkdir(parents=True, exist_ok=True)
    overlay: dict[str, dict[str, Any]] = yaml.safe_load(OVERLAY.read_text()) or {}
    samples = sorted(SAMPLE_PROFILES.glob("*.yaml"))
    for stale in set(folder.glob("*.yaml")) - {folder / sample.name for sample in samples}:
        stale.unlink()  # a sample removed since the last run
    for sample in samples:
        profile = yaml.safe_load(sample.read_text())
        merged = overlay_profile(profile, overlay.get(profile.get("id"), {}))
        (folder / sample.name).write_text(f"# Written by the demo from {sample.relative_to(REPO_ROOT)} and "
                                          f"{OVERLAY.relative_to(REPO_ROOT)}: edit those.\n"
                                          + yaml.safe_dump(merged, sort_keys=False))
    os.environ["HUB_PARTNERS_DIR"] = str(folder)
    return folder


def overlay_profile(profile: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``profile`` with ``changes``: top-level keys replaced, ``channels`` entries merged into their kind's channel."""
    merged = {**profile, **{key: value for key, value in changes.items() if key != "channels"}}
    channels = [dict(channel) for channel in profile.get("channels", [])]
    for change in changes.get("channels", []):
        same = next((channel for channel in channels if channel.get("kind") == change.get("kind")), None)
        if same is None:
            channels.append(dict(change))
        else:
            same.update(change)
    merged["channels"] = channels
    return merged


def warehouse_ships(sandbox: SandboxEnvironment) -> list[str]:
    """In the sandbox ERP, a done delivery (in full, with the label's tracking code) of each order whose label
    is bought, for the partners that want 856s: what a warehouse does before the carrier's pickup. Once per order."""
    wanting = {p.id for p in partners_sending_856(sandbox.partners)}
    if not wanting:
        return []
    store = st.HubStore(resolve_database_url())
    shipments = st.tables.carrier_shipments
    try:
        with store.transaction() as conn:
            labels = conn.execute(sa.select(shipments.c.partner_id, shipments.c.po_number, shipments.c.tracking_code,
                                            shipments.c.carrier).where(shipments.c.state == "bought")).all()
    finally:
        store.dispose()
    shipped = [ship_once(sandbox.erp, po, tracking_ref=tracking, carrier=carrier)
               for partner_id, po, tracking, carrier in labels if partner_id in wanting]
    return [name for name in shipped if name]


def run_outbound(say, defs: dg.Definitions, instance: dg.DagsterInstance, sandbox: SandboxEnvironment) -> None:
    """Run the outbound steps' jobs on ``instance`` and print what they left."""
    say("\n== stock, 855, labels, 856, fulfilments: the outbound jobs run once")
    known = {job.name for job in defs.resolve_all_job_defs()}
    shop_before, market_before = _channel_writes(sandbox)
    for title, jobs_of in OUTBOUND_JOBS:
        for name in (name for name in jobs_of(defs, sandbox) if name in known):
            result = defs.resolve_job_def(name).execute_in_process(
                instance=instance, raise_on_error=False, run_config=QUIET, tags={"hub/demo": "outbound"})
            checks = result.get_asset_check_evaluations()
            failed = sorted(check.check_name for check in checks if not check.passed)
            verdict = f"checks {len(checks) - len(failed)} passed" + (f", FAILED {', '.join(failed)}" if failed else "")
            say(f"   {name}: {'success' if result.success else 'FAILED'}, {verdict} ({title})")
    shop_after, market_after = _channel_writes(sandbox)
    store = st.HubStore(resolve_database_url())
    try:
        _print_outbound(say, store, sandbox, shop=shop_after - shop_before, market=market_after - market_before)
    finally:
        store.dispose()


def _channel_writes(sandbox: SandboxEnvironment) -> tuple[int, int]:
    """How many fulfillments the sandbox shop created and shipments the marketplace confirmed so far."""
    shop = _shopify_fulfilment.fulfilments(sandbox.shop).creates if sandbox.shop is not None else 0
    market = _amazon_fulfilment.fulfilments(sandbox.marketplace).confirmations if sandbox.marketplace else 0
    return shop, market


def _print_outbound(say, store: st.HubStore, sandbox: SandboxEnvironment, *, shop: int, market: int) -> None:
    tables = st.tables
    with store.transaction() as conn:
        atp = conn.execute(sa.select(sa.func.count()).select_from(tables.stock_levels)).scalar_one()
        warehouses = conn.execute(sa.select(tables.stock_warehouses.c.code)).scalars().all()
        labels = Counter(conn.execute(sa.select(tables.carrier_shipments.c.state)).scalars().all())
        services = Counter(f"{carrier} {service}" for carrier, service in conn.execute(
            sa.select(tables.carrier_shipments.c.carrier, tables.carrier_shipments.c.service)
            .where(tables.carrier_shipments.c.state == "bought")).all())
        parts = Counter(f"{channel} {state}" for channel, state in conn.execute(
            sa.select(tables.channel_fulfilments.c.channel, tables.channel_fulfilments.c.state)).all())
    say(f"stock               {atp} SKU/warehouse levels with ATP in the hub; "
        f"warehouses {', '.join(sorted(warehouses))}")
    for profile in sandbox.partners:
        if profile.sftp:
            for path in sorted(sandbox.outbound(profile.id).glob("855_*")):
                say(f"855                 {profile.id}/{path.name}: {describe_855(path.read_text())}")
            for path in sorted(sandbox.outbound(profile.id).glob("856_*")):
                say(f"856                 {profile.id}/{path.name}: {describe_856(path.read_text())}")
    sold = len(sandbox.carrier.buys) - sandbox.carrier.sold_before if sandbox.carrier is not None else 0
    say(f"labels bought       {labels.get('bought', 0)} ({_fmt(services)}); this run {sold}")
    say(f"fulfilments sent    {sum(n for key, n in parts.items() if key.endswith(' sent'))}  {_fmt(parts)}; "
        f"this run: shop {shop} fulfillmentCreate, marketplace {market} confirmShipment")


def describe_855(text: str) -> str:
    """BAK02 and each line's ACK01 (with quantity and date) of an 855's text, e.g. ``AC; 10 IA 48, 20 IB 6 on ...``."""
    separator, terminator = text[3], text[105]
    segments = [segment.strip().split(separator) for segment in text.split(terminator) if segment.strip()]
    bak = next((s[2] for s in segments if s[0] == "BAK" and len(s) > 2), "?")
    lines, line_no = [], "?"
    for segment in segments:
        if segment[0] == "PO1":
            line_no = segment[1]
        elif segment[0] == "ACK":
            when = f" ship {segment[5]}" if len(segment) > 5 and segment[5] else ""
            lines.append(f"line {line_no} {segment[1]} {segment[2]}{when}")
    return f"BAK02 {bak}; " + ", ".join(lines)


def describe_856(text: str) -> str:
    """BSN02 (our shipment id), the hierarchy (HL levels) and the cartons' SSCCs (MAN*GM) of an 856's text."""
    separator, terminator = text[3], text[105]
    segments = [segment.strip().split(separator) for segment in text.split(terminator) if segment.strip()]
    bsn = next((s[2] for s in segments if s[0] == "BSN" and len(s) > 2), "?")
    levels = "".join(s[3] for s in segments if s[0] == "HL" and len(s) > 3)
    ssccs = [s[2] for s in segments if s[0] == "MAN" and len(s) > 2 and s[1] == "GM"]
    return f"BSN02 {bsn}; HL {levels}; SSCC {', '.join(ssccs) or '-'}"


def _fmt(counter: Counter) -> str:
    return ", ".join(f"{key}: {value}" for key, value in sorted(counter.items())) or "none"
