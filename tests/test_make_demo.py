"""`make demo` as a newcomer runs it: `python -m sandbox demo` end to end, twice, on a fresh data folder.

The demo is one of the two commands the README promises; this runs the same entry point in a child
process (its own DAGSTER_HOME and HUB_DATA_DIR) and reads what it prints: the files flow, the broken
one lands in the exception queue, every accepted order is in the sandbox ERP exactly once; the outbound
half runs (stock in the sandbox ERP, an 855 with a backordered line, labels from the sandbox carrier,
an 856 for the delivery shipped, fulfilments in the sandbox shop and marketplace); and the second run
creates nothing new.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from hub.matching import EXCEPTIONS

REPO = Path(__file__).resolve().parents[1]


def _demo(tmp_path: Path) -> str:
    home = tmp_path / "dagster_home"
    home.mkdir(exist_ok=True)
    (home / "dagster.yaml").write_text((REPO / "dagster_home" / "dagster.yaml").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HUB_", "DAGSTER_"))}
    env.update(DAGSTER_HOME=str(home), HUB_DATA_DIR=str(tmp_path / "var"))
    done = subprocess.run([sys.executable, "-m", "sandbox", "demo"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout


def _count(pattern: str, text: str) -> int:
    found = re.search(pattern, text, re.MULTILINE)
    assert found, f"{pattern!r} not in the demo's output:\n{text[-3000:]}"
    return int(found.group(1))


def test_make_demo_flows_end_to_end_and_a_second_run_creates_nothing(tmp_path):
    first = _demo(tmp_path)
    assert "reconciliation      every accepted order exactly once in the ERP: PASSED" in first
    orders = _count(r"^orders in the hub\s+(\d+)", first)
    sale_orders = _count(r"^ERP sale orders\s+(\d+)", first)
    assert orders > 0 and sale_orders > 0
    assert _count(r"^exception queue\s+(\d+) open", first) >= 1, "the broken sample file is queued, not dropped"
    assert "rejected_document" in first
    assert "hub exceptions show" in first and "make ui" in first  # the next commands
    outbound = _outbound(first)
    assert outbound["855"] == ["northwind/855_123456789_000000002.x12: BAK02 AC; line 10 IA 48, line 20 IB 6"], \
        "Northwind's 855: WID-100 in stock, GAD-320 short in both warehouses and backordered whole"
    assert re.search(r"line 20 IB 6 ship \d{8}$", first, re.MULTILINE), "a backordered line says when it ships"
    assert len(outbound["856"]) == 1 and re.fullmatch(r"bluebird/856_BLUEBIRD_\d{9}\.x12: BSN02 WH/OUT/\d+; HL SOPI+; "
                                                      r"SSCC 00614141\d{10}", outbound["856"][0]), outbound["856"]
    assert outbound["labels"] > 0 and outbound["labels_this_run"] == outbound["labels"]
    assert outbound["shop_this_run"] > 0 and outbound["market_this_run"] > 0
    assert outbound["fulfilments_sent"] == outbound["shop_this_run"] + outbound["market_this_run"]
    assert _count(r"^stock\s+(\d+) SKU/warehouse levels", first) > 0
    # The sync lines count the sync asset's orders, not the carrier push that runs in the same job.
    assert _count(r"^   shopify_trailhead_sync: success; new (\d+)", first) > 0
    assert _count(r"^   amazon_marketplace_us_sync: success; new (\d+)", first) > 0
    report = Path(re.search(r"^   match report\s+(\S+)", first, re.MULTILINE).group(1))
    assert all(f'<h2 id="{category}">' in report.read_text() for category in EXCEPTIONS), "one planted of each kind"
    assert re.search(r"held for approval: #\d+ PO CH-1002: price_off_list", first), "an email order waits for a person"
    assert "hub approvals list" in first and "Processed 3, Rejected 0" in first

    second = _demo(tmp_path)
    assert _count(r"^orders in the hub\s+(\d+)", second) == orders
    assert _count(r"^ERP sale orders\s+(\d+)", second) == sale_orders
    assert "PASSED" in second
    assert "email_cornerhw_sync -> success; orders new 0, unchanged 0" in second, "the same emails again: duplicates"
    again = _outbound(second)
    assert again["855"] == outbound["855"], "no second 855 for the same PO version"
    assert again["856"] == outbound["856"], "no second delivery shipped, no second 856"
    assert again["labels"] == outbound["labels"] and again["labels_this_run"] == 0, "never a label twice"
    assert (again["shop_this_run"], again["market_this_run"]) == (0, 0), "no fulfilment sent twice"
    assert again["fulfilments_sent"] == outbound["fulfilments_sent"]


def _outbound(text: str) -> dict:
    """The demo's outbound section: every job succeeded with its checks passed; its 855s, labels and fulfilments."""
    section = text.split("== stock, 855, labels, 856, fulfilments", 1)[1].split("\n== ", 1)[0]
    jobs = re.findall(r"^   (\w+): (.*)$", section, re.MULTILINE)
    expected = {"inventory_job", "edi_po_acknowledgments_job", "carrier_push_job", "edi_ship_notices_job",
                "shopify_fulfilments_trailhead_job", "amazon_fulfilments_marketplace_us_job"}
    assert expected <= {name for name, _ in jobs}, section
    assert all(status.startswith("success, checks") and "FAILED" not in status for _, status in jobs), section
    fulfilled = re.search(r"^fulfilments sent\s+(\d+) .*this run: shop (\d+) fulfillmentCreate, marketplace (\d+) "
                          r"confirmShipment$", section, re.MULTILINE)
    assert fulfilled, section
    return {
        "855": re.findall(r"^855\s+(\S+: BAK02 .*?)(?: ship \d{8})?$", section, re.MULTILINE),
        "856": re.findall(r"^856\s+(\S+: BSN02 .*)$", section, re.MULTILINE),
        "labels": _count(r"^labels bought\s+(\d+)", section),
        "labels_this_run": _count(r"^labels bought .*; this run (\d+)$", section),
        "fulfilments_sent": int(fulfilled.group(1)),
        "shop_this_run": int(fulfilled.group(2)), "market_this_run": int(fulfilled.group(3)),
    }
