"""The daily loop in a real browser: marketing moves a fresh lead to MQL, the rules
assign it; its new owner (read from the page) sees it in My tasks and in the
notification list (the bell counts it), logs a contact attempt and the task is done."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e


def test_an_mql_reaches_its_owner_who_follows_it_up(live_server: str, browser: object, screenshot) -> None:
    base = live_server
    marketing = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")  # type: ignore[attr-defined]
    page = marketing.new_page()
    log_in(page, base, "demo-marketing")
    page.goto(f"{base}/leads/new")
    page.get_by_label("Name *").fill("Marta Loop Prueba")
    page.get_by_label("E-mail *").fill("marta.loop.e2e@example.com")
    page.get_by_label("Source *").select_option("social")
    page.get_by_role("button", name="Capture lead").click()
    page.wait_for_url(re.compile(r"/leads/[0-9a-f]{32}$"))
    lead_url = page.url
    page.locator("#lead-actions select[name=to_stage]").select_option("MQL")
    page.locator("#lead-actions details[open] button[type=submit]").first.click()
    page.locator("#lead-header .badge", has_text="MQL").wait_for()
    page.goto(lead_url)  # the header as stored: the rule's owner
    owner = page.locator("#lead-header strong").first.inner_text().strip()
    assert owner.startswith("demo-"), owner
    marketing.close()

    sales = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")  # type: ignore[attr-defined]
    page = sales.new_page()
    log_in(page, base, owner)
    page.goto(f"{base}/tasks/")
    expect(page.locator("main")).to_contain_text("Marta Loop Prueba")
    bell = page.locator("#notification-bell .badge")
    expect(bell).to_have_text(re.compile(r"^[1-9]\d*$"))
    screenshot(page, "loop-my-tasks")
    page.locator("#notification-bell").click()
    page.wait_for_url(re.compile(r"/notifications/"))
    expect(page.locator("#notification-list li.unread", has_text="Marta Loop Prueba")).to_have_count(1)
    screenshot(page, "loop-notifications")

    page.goto(lead_url)
    expect(page.locator("#lead-tasks li", has_text=owner)).to_contain_text("open")
    attempt = page.locator(
        "#lead-actions details", has=page.locator("summary", has_text="Log contact attempt")
    )
    attempt.locator("summary").click()
    attempt.locator("button[type=submit]").click()
    expect(page.locator("#lead-timeline")).to_contain_text("attempt")
    expect(page.locator("#lead-tasks li").first).to_contain_text("done")
    screenshot(page, "loop-task-done")
    sales.close()
