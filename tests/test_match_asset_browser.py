"""The daily match's HTML report in headless Chromium: it renders whole from the file alone (no script, no
network), every planted category has its section, and the charts draw bars sized by the value at stake."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hub import store as st
from hub.matching import EXCEPTIONS, run_daily_match
from sandbox import demo_match

pytestmark = pytest.mark.integration


def test_the_report_renders_every_category_and_its_charts_offline(tmp_path, browser_page):
    store = st.HubStore(f"sqlite:///{tmp_path / 'hub.sqlite3'}").migrate()
    demo_match.plant(store)
    done = run_daily_match(store, st.utcnow().date(), report_dir=tmp_path / "reports")
    store.dispose()

    requests: list[str] = []
    errors: list[str] = []
    browser_page.on("request", lambda request: requests.append(request.url))
    browser_page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    browser_page.goto(done.reports["html"].as_uri())

    expect(browser_page.locator("h1")).to_contain_text("Three-way match, business day")
    for category in EXCEPTIONS:
        expect(browser_page.locator(f"h2#{category}")).to_be_visible()
    expect(browser_page.locator("#customers + table")).to_contain_text("demo-retail")
    expect(browser_page.locator("#held + table")).to_contain_text("demo/DM-1002/1")

    # The category chart: shipped_not_invoiced (162.00) is the longest bar, a zero draws none.
    chart = browser_page.locator('svg[aria-label="value at stake by category"]')
    widths = {label: chart.locator("rect").nth(i).bounding_box()["width"]
              for i, label in enumerate(EXCEPTIONS)}
    assert max(widths, key=lambda label: widths[label]) == "shipped_not_invoiced"
    assert widths["shipment_without_po"] == 0 and widths["price_variance"] > 0
    assert browser_page.locator("svg.chart").count() == 3  # categories, unbilled shipments, held invoices
    assert requests == [done.reports["html"].as_uri()] and errors == []
