"""Done-when of issue 10 point 1, in a real Chromium: a rejected file's run is visibly not a clean one in the Dagster
UI, and the exception queue that run materialized names the file.

The sandbox systems run (SFTP, ERP, store, marketplace); a broken partner file is dropped into the
sandbox SFTP inbox and the inbox sensor is ticked as the daemon would, its run executed in process
against the same DAGSTER_HOME the webserver reads, so the UI shows that run as any other.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest
from playwright.sync_api import expect

from hub.defs import build_definitions
from hub.settings import sqlite_url
from mappings.profiles import PartnerDirectory
from sandbox.demo import tick_sensors
from sandbox.environment import SandboxEnvironment
from tests.fixtures.dagster_ui import dagster_webserver

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent
BROKEN = REPO / "sandbox" / "samples" / "acme_po_broken.x12"


@dataclass
class RejectedFileRun:
    base_url: str
    run_id: str
    file_name: str


@pytest.fixture(scope="module")
def rejected_file_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RejectedFileRun]:
    root = tmp_path_factory.mktemp("ui-run-outcome")
    partners = PartnerDirectory.load(REPO / "mappings" / "partners")
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)
    with SandboxEnvironment(root / "sandbox", partners) as sandbox, pytest.MonkeyPatch.context() as env:
        settings = {**sandbox.environment(), "HUB_DATA_DIR": str(root / "var"),
                    "HUB_DATABASE_URL": sqlite_url(root / "hub.sqlite3")}
        with dagster_webserver(root, settings) as base_url:
            for key, value in {**settings, "DAGSTER_HOME": str(root / "dagster_home")}.items():
                env.setenv(key, value)
            name = "acme_po_broken.x12"
            (sandbox.inbox("acme") / name).write_bytes(BROKEN.read_bytes())
            defs = build_definitions()
            with dg.DagsterInstance.get() as instance:
                cursors: dict = {}
                launched = tick_sensors(defs, instance, cursors) + tick_sensors(defs, instance, cursors)
                assert [(sensor, status) for sensor, _, status in launched] == [("sftp_inbox_acme", "success")]
                (record,) = instance.get_run_records()
                yield RejectedFileRun(base_url, record.dagster_run.run_id, name)


def test_the_runs_list_tags_the_files_run_with_its_outcome(rejected_file_run: RejectedFileRun, browser_page):
    browser_page.goto(f"{rejected_file_run.base_url}/runs")
    # The instance holds this one run (the fixture checks): its row is the only one.
    expect(browser_page.locator(f'a[href$="/runs/{rejected_file_run.run_id}"]').first).to_be_visible()
    expect(browser_page.get_by_text("hub/outcome: partially_accepted", exact=True)).to_be_visible()


def test_the_run_page_shows_the_files_check_failed_with_its_file(rejected_file_run: RejectedFileRun, browser_page):
    page = browser_page
    page.goto(f"{rejected_file_run.base_url}/runs/{rejected_file_run.run_id}")
    page.get_by_placeholder("Filter…").fill("edi_files_accepted")
    evaluation = page.locator("div", has_text="Check edi_files_accepted failed for materialization of "
                                              "edi_inbound_orders")
    # Dagster colours a failed check's event red; a passed one has no colour of its own.
    failed = evaluation.locator('xpath=self::*[contains(@style, "color-text-red")]').first
    expect(failed).to_be_visible()
    expect(page.get_by_role("cell", name=rejected_file_run.file_name, exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="partially_accepted", exact=True)).to_be_visible()


def test_the_exception_queue_that_run_materialized_names_the_file(rejected_file_run: RejectedFileRun, browser_page):
    page = browser_page
    page.goto(f"{rejected_file_run.base_url}/assets/exception_queue")
    expect(page.get_by_text("open_exceptions", exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name=rejected_file_run.file_name, exact=True)).to_be_visible()
    expect(page.get_by_role("cell", name="hub exceptions replay 1", exact=True)).to_be_visible()
    # The latest materialization is the file's own run, not the 15-minute schedule's.
    expect(page.locator(f'a[href*="/runs/{rejected_file_run.run_id}"]').first).to_be_visible()
