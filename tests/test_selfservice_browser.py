"""The partner self-service page in headless Chromium, served by ``python -m hub.webhooks`` (uvicorn) on 127.0.0.1.

The receiver runs as it is deployed: its own process, the settings from the environment (page enabled,
a token for harbor), the repository's partner profiles. The browser opens the page, picks a file,
types the token, submits, and reads the report and the 997 from the page and from its download.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import expect

from hub.settings import sqlite_url
from tests.fixtures._integration import free_port
from tests.fixtures.partners import REPO, X12_DATA

pytestmark = pytest.mark.integration

TOKEN = "harbor-selfservice-token-4711"
GOOD_850 = (X12_DATA / "harbor_850_vics.x12").read_bytes()
BAD_ELEMENT = GOOD_850.replace(b"PO1*1*36*EA", b"PO1*1*3X6*EA")  # PO102, the quantity, is not a number
STARTUP_TIMEOUT_S = 30


@dataclass
class Receiver:
    base_url: str
    log: Path


@pytest.fixture(scope="module")
def receiver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Receiver]:
    """``python -m hub.webhooks`` with the self-service page on; yields its base URL and its log file."""
    root = tmp_path_factory.mktemp("selfservice")
    port = free_port()
    env = {**os.environ, "HUB_SELFSERVICE_ENABLED": "1", "HUB_SELFSERVICE_TOKEN_HARBOR": TOKEN,
           "HUB_PARTNERS_DIR": str(REPO / "mappings" / "partners"), "HUB_DATA_DIR": str(root / "var"),
           "HUB_DATABASE_URL": sqlite_url(root / "hub.sqlite3")}
    log = root / "receiver.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "hub.webhooks", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO, env=env, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the receiver exited ({process.returncode}):\n{log.read_text()[-4000:]}")
            try:
                if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the receiver is not up after {STARTUP_TIMEOUT_S} s:\n{log.read_text()[-4000:]}")
            time.sleep(0.1)
        yield Receiver(base_url, log)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def check_file(page, base_url: str, path: Path) -> None:
    page.goto(f"{base_url}/selfservice/harbor")
    page.set_input_files("#file", str(path))
    page.fill("#token", TOKEN)
    page.click("#check")


def test_a_rejected_element_shows_its_value_and_the_997_rejecting_it(receiver: Receiver, browser_page, tmp_path: Path):
    page = browser_page
    upload = tmp_path / "po-from-dana.x12"
    upload.write_bytes(BAD_ELEMENT)
    check_file(page, receiver.base_url, upload)

    expect(page.locator("#outcome")).to_contain_text("Not accepted: rejected")
    report = page.locator("#report").inner_text()
    assert "segment 23 (PO1) / element 2 (PO102)" in report and "found '3X6'" in report
    ack = page.locator("#ack-1").inner_text()
    assert "AK3*PO1*23**8~\nAK4*2*330*6~\nAK5*R*5~" in ack

    with page.expect_download() as download_info:
        page.click("#download-1")
    download = download_info.value
    assert download.suggested_filename == "997_HARBORPINE_000000001.x12"
    assert Path(download.path()).read_text() == ack.strip() + "\n"


def test_a_good_850_is_accepted_with_its_997(receiver: Receiver, browser_page, tmp_path: Path):
    page = browser_page
    upload = tmp_path / "good.x12"
    upload.write_bytes(GOOD_850)
    check_file(page, receiver.base_url, upload)

    expect(page.locator("#outcome")).to_have_text("Accepted")
    expect(page.locator("#report")).to_contain_text("(850): accepted: original PO HP-240212-01, 2 line(s)")
    expect(page.locator("#ack-1")).to_contain_text("AK2*850*0001~\nAK5*A~\nAK9*A*1*1*1~")


def test_without_the_token_the_page_refuses_and_shows_no_report(receiver: Receiver, browser_page, tmp_path: Path):
    page = browser_page
    upload = tmp_path / "good.x12"
    upload.write_bytes(GOOD_850)
    page.goto(f"{receiver.base_url}/selfservice/harbor")
    page.set_input_files("#file", str(upload))
    page.fill("#token", "not-the-token")
    page.click("#check")
    expect(page.locator("#error")).to_have_text("The access token is missing or wrong.")
    expect(page.locator("#result")).to_have_count(0)


def test_the_receiver_logs_partner_size_and_outcome_never_the_file(receiver: Receiver, browser_page, tmp_path: Path):
    upload = tmp_path / "po-from-dana.x12"
    upload.write_bytes(BAD_ELEMENT)
    check_file(browser_page, receiver.base_url, upload)
    expect(browser_page.locator("#outcome")).to_contain_text("Not accepted")
    expected = f"self-service check for harbor: {len(BAD_ELEMENT)} bytes, rejected, 1 ack(s)"
    deadline = time.monotonic() + 5  # the line is written by another process
    while expected not in receiver.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    logged = receiver.log.read_text()
    assert expected in logged
    for secret in ("HARBORPINE", "HP-240212-01", "Dana Buyer", "po-from-dana", "3X6", TOKEN):
        assert secret not in logged


def test_a_file_over_the_limit_gets_the_413_page_in_the_browser(receiver: Receiver, browser_page, tmp_path: Path):
    upload = tmp_path / "huge.x12"
    upload.write_bytes(GOOD_850 + b"\n" * (6 * 1024 * 1024))  # over the default 5 MiB
    page = browser_page
    page.goto(f"{receiver.base_url}/selfservice/harbor")
    page.set_input_files("#file", str(upload))
    page.fill("#token", TOKEN)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        page.click("#check")
    assert answer.value.status == 413
    expect(page.locator("#error")).to_contain_text("The file is too large: this page takes files up to 5 MiB.")
    expect(page.locator("#result")).to_have_count(0)
