"""The SLA agreement in a real browser: set a target, see the dashboard's
scorecard change; and a look at every new page (screenshots to review)."""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def mqls_row(page: object, base: str) -> tuple[str, str]:
    page.goto(f"{base}/")  # type: ignore[attr-defined]
    row = page.locator("table.scorecard tr", has_text="MQLs delivered").first  # type: ignore[attr-defined]
    cells = row.locator("td")
    return cells.nth(1).inner_text(), cells.nth(3).inner_text()


def test_set_a_target_and_see_the_scorecard_change(live_server: str, page: object, screenshot) -> None:
    base = live_server
    month = datetime.now(UTC).strftime("%Y-%m")
    before_target, _ = mqls_row(page, base)
    assert before_target != "5"

    page.goto(f"{base}/agreement/?month={month}")
    screenshot(page, "agreement")
    form = page.locator("#target-form")
    form.locator("select[name=metric]").select_option("mqls_delivered")
    form.locator("input[name=value]").fill("many")
    form.get_by_role("button", name="Save target").click()
    page.locator("#target-form .alert-error").wait_for()
    refusal = page.locator("#target-form .alert-error").inner_text()
    assert refusal.startswith("Value:") and "“many” is not a number" in refusal
    screenshot(page, "agreement-error")

    form = page.locator("#target-form")
    form.locator("select[name=metric]").select_option("mqls_delivered")
    form.locator("input[name=value]").fill("5")
    form.locator("textarea[name=reason]").fill("E2E: a target we will surely meet")
    form.get_by_role("button", name="Save target").click()
    page.locator("#agreement-body .alert-ok").wait_for()
    assert "E2E: a target we will surely meet" in page.locator("#agreement-history").inner_text()

    target, status = mqls_row(page, base)
    assert target == "5"
    assert status == "On track"
    screenshot(page, "dashboard-after-target")


def test_plan_and_the_other_agreement_pages(live_server: str, page: object, screenshot) -> None:
    base = live_server
    page.goto(f"{base}/agreement/")
    plan = page.locator("#plan")
    page.locator("input[name=goal]").fill("200000")
    page.locator("input[name=avg_deal]").fill("5000")
    page.get_by_role("button", name="Compute").click()
    expect(plan).to_contain_text("40 customers")  # the full page already had a plan: wait for the swap
    screenshot(page, "agreement-plan")
    for name, path in [
        ("agreement-vocabulary", "/agreement/vocabulary"),
        ("agreement-terms", "/agreement/terms"),
        ("agreement-attention", "/agreement/attention"),
        ("agreement-ready", "/agreement/ready"),
        ("meeting-weekly", "/meetings/weekly"),
        ("meeting-monthly", "/meetings/monthly"),
    ]:
        page.goto(base + path)
        assert page.locator("h1").count() == 1
        screenshot(page, name)
