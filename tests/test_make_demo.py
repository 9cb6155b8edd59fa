"""`make demo` as a newcomer runs it: `python -m sandbox demo` end to end, twice, on a fresh data folder.

The demo is one of the two commands the README promises; this runs the same entry point in a child
process (its own DAGSTER_HOME and HUB_DATA_DIR) and reads what it prints: the files flow, the broken
one lands in the exception queue, every accepted order is in the sandbox ERP exactly once, and the
second run creates nothing new.
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
    report = Path(re.search(r"^   match report\s+(\S+)", first, re.MULTILINE).group(1))
    assert all(f'<h2 id="{category}">' in report.read_text() for category in EXCEPTIONS), "one planted of each kind"

    second = _demo(tmp_path)
    assert _count(r"^orders in the hub\s+(\d+)", second) == orders
    assert _count(r"^ERP sale orders\s+(\d+)", second) == sale_orders
    assert "PASSED" in second
