"""A marketing/sales person's day in a real browser: capture a lead, see a
validation error, move the lead to Customer, see the dashboard change, search."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e


def customers_this_month(page: object, base: str) -> int:
    page.goto(f"{base}/")  # type: ignore[attr-defined]
    row = page.locator("#funnel-table tbody tr").last  # type: ignore[attr-defined]
    assert row.locator("td").first.inner_text() == "Customer"
    return int(row.locator("td.num").first.inner_text())


def test_capture_qualify_win_and_see_it_counted(live_server: str, page: object, screenshot) -> None:
    base = live_server
    before = customers_this_month(page, base)
    screenshot(page, "dashboard")

    page.goto(f"{base}/leads/new")
    page.get_by_role("button", name="Capture lead").click()
    error = page.locator(".field-error").first
    error.wait_for()
    assert "required" in error.inner_text()
    screenshot(page, "new-lead-validation")

    page.get_by_label("Name *").fill("Nuria <b>Test</b> Alonso")
    page.get_by_label("E-mail *").fill("nuria.e2e@example.com")
    page.get_by_label("Source *").select_option("social")
    page.get_by_label("Company").fill("E2E Ibérica")
    page.get_by_role("button", name="Capture lead").click()
    page.wait_for_url(re.compile(r"/leads/[0-9a-f]{32}$"))
    assert page.locator("#lead-header h1").inner_text().startswith("Nuria <b>Test</b> Alonso")

    for stage in ("MQL", "SQL", "Opportunity"):
        page.locator("#lead-actions select[name=to_stage]").select_option(stage)
        page.locator("#lead-actions details[open] button[type=submit]").first.click()
        page.locator("#lead-header .badge", has_text=stage).wait_for()
    page.locator("#lead-actions summary", has_text="Mark deal won").click()
    page.get_by_label("Amount *").fill("4800")
    page.get_by_role("button", name="Mark deal won").click()
    page.locator("#lead-header .badge", has_text="Customer").wait_for()
    assert "Deal won" in page.locator("#lead-timeline").inner_text()
    screenshot(page, "lead-customer")

    assert customers_this_month(page, base) == before + 1

    page.goto(f"{base}/leads/")
    page.locator("#q").fill("nuria.e2e")
    found = page.locator("#lead-rows tr:not(.export-row)")  # the first row offers the download
    expect(found).to_have_count(1)
    expect(found).to_contain_text("E2E Ibérica")
    expect(page).to_have_url(re.compile(r"q=nuria\.e2e"))
    screenshot(page, "leads-search")


def test_illegal_move_is_not_offered_and_stale_form_is_refused(
    live_server: str, browser_context: object, screenshot
) -> None:
    first, second = browser_context.pages[0], browser_context.new_page()  # type: ignore[attr-defined]
    log_in(first, live_server)  # the pages share the context's session cookie
    first.goto(f"{live_server}/leads/new")
    first.get_by_label("Name *").fill("Stale Form")
    first.get_by_label("E-mail *").fill("stale.e2e@example.com")
    first.get_by_label("Source *").select_option("events")
    first.get_by_role("button", name="Capture lead").click()
    first.wait_for_url(re.compile(r"/leads/[0-9a-f]{32}$"))
    options = first.locator("#lead-actions select[name=to_stage] option").all_inner_texts()
    assert "Customer" not in options and "Opportunity" in options  # a skip is offered, with a reason
    second.goto(first.url)
    second.locator("#lead-actions select[name=to_stage]").select_option("MQL")
    second.locator("#lead-actions details[open] button[type=submit]").first.click()
    second.locator("#lead-header .badge", has_text="MQL").wait_for()
    first.locator("#lead-actions select[name=to_stage]").select_option("Disqualified")
    first.locator("#lead-actions textarea[name=reason]").first.fill("Duplicate contact")
    first.locator("#lead-actions details[open] button[type=submit]").first.click()
    alert = first.locator("#action-result .alert-error")
    alert.wait_for()
    assert "changed by someone else" in alert.inner_text()
    screenshot(first, "lead-stale-form")
