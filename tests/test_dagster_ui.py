"""The hub's pipelines are visible in the Dagster UI: inbox and webhook sensors, channel, ERP and ops assets, checks."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.integration

PARTNER_INBOX_SENSORS = ["sftp_inbox_acme", "sftp_inbox_northwind", "sftp_inbox_bluebird", "shopify_webhook_queue"]
ORDER_FLOW_ASSETS = ["edi_inbound_orders", "edi_functional_acks", "erp_sales_orders", "shopify_orders_trailhead",
                     "amazon_orders_marketplace_us", "shopify_webhook_orders", "exception_queue"]


def _asset_link(page, asset: str):
    # Matched on the link target: the visible text repeats the name for truncation, and a key prefix
    # (/assets/<prefix>/<name>) must not break the test.
    return page.locator(f'a[href^="/assets/"][href$="/{asset}"]').first


def test_automation_page_lists_one_inbox_sensor_per_partner(dagster_ui: str, browser_page):
    browser_page.goto(f"{dagster_ui}/automation")
    for sensor in PARTNER_INBOX_SENSORS:
        link = browser_page.locator(f'a[href$="/sensors/{sensor}"]').first
        expect(link).to_contain_text(sensor)


def test_catalog_lists_the_order_flow_assets(dagster_ui: str, browser_page):
    browser_page.goto(f"{dagster_ui}/assets")
    for asset in ORDER_FLOW_ASSETS:
        expect(_asset_link(browser_page, asset)).to_contain_text(asset)


def test_erp_sales_orders_shows_its_exactly_once_check(dagster_ui: str, browser_page):
    # Navigate the way an operator does: catalog, asset, Checks tab.
    browser_page.goto(f"{dagster_ui}/assets")
    _asset_link(browser_page, "erp_sales_orders").click()
    browser_page.get_by_role("tab", name="Checks", exact=True).click()
    expect(browser_page.get_by_text("erp_sales_orders_exactly_once", exact=True).first).to_be_visible()
    expect(browser_page.get_by_role("tab", name="Checks", exact=True)).to_have_attribute("aria-selected", "true")
