"""Every page a demo role can reach, in Spanish on a 390 px phone: nothing wider than
the screen (a wide table scrolls inside its card), and one menu item marked current."""

import pytest

from tests.crawling import crawl
from tests.e2e.conftest import log_in

pytestmark = pytest.mark.e2e

ROLES = ["demo-marketing", "demo-sales", "demo-manager", "demo-auditor", "demo-admin"]
PHONE = {"width": 390, "height": 844}
MAX_PAGES = 45


def _crawl(page: object, base: str) -> list[tuple[str, int, int]]:
    """Every page reached from the dashboard: (path, width, current menu items)."""
    measured = []

    def visit(path: str) -> list[str]:
        response = page.goto(base + path)  # type: ignore[attr-defined]
        assert response is not None and response.status < 500, (path, response and response.status)
        width = page.evaluate("document.documentElement.scrollWidth")  # type: ignore[attr-defined]
        current = page.locator('header nav a[aria-current="page"]').count()  # type: ignore[attr-defined]
        measured.append((path, width, current))
        return page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")  # type: ignore[attr-defined]

    crawl(visit, ["/"], MAX_PAGES)
    return measured


@pytest.mark.parametrize("username", ROLES)
def test_every_page_fits_a_phone_in_spanish(
    browser: object, live_server: str, username: str, screenshot
) -> None:
    context = browser.new_context(viewport=PHONE, locale="es-ES")  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        log_in(page, live_server, username)
        measured = _crawl(page, live_server)
        assert len(measured) >= (3 if username == "demo-admin" else 10), measured
        too_wide = [(path, width) for path, width, _ in measured if width > PHONE["width"]]
        assert not too_wide, too_wide
        several_current = [(path, n) for path, _, n in measured if n > 1]
        assert not several_current, several_current
        page.goto(f"{live_server}/")
        screenshot(page, f"phone-{username}")  # type: ignore[operator]
    finally:
        context.close()


def test_the_new_lead_page_marks_only_itself(browser: object, live_server: str) -> None:
    context = browser.new_context(viewport=PHONE, locale="es-ES")  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        log_in(page, live_server, "demo-manager")
        page.goto(f"{live_server}/leads/new")
        current = page.locator('header nav a[aria-current="page"]')
        assert current.count() == 1
        assert current.get_attribute("href") == "/leads/new"
    finally:
        context.close()


def test_the_scorecards_status_shows_whole_on_a_phone(browser: object, live_server: str) -> None:
    """The status is the scorecard's point: on a phone no status cell may lie outside its
    card's visible box (as it did when the table scrolled inside the card)."""
    context = browser.new_context(viewport=PHONE, locale="es-ES")  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        log_in(page, live_server, "demo-manager")
        page.goto(f"{live_server}/")
        outside = page.eval_on_selector_all(
            "table.scorecard td[class^=status-]",
            """cells => cells.filter(cell => {
                const box = cell.getBoundingClientRect();
                const card = cell.closest('.panel').getBoundingClientRect();
                return box.width === 0 || box.right > card.right || box.left < card.left;
            }).map(cell => cell.textContent)""",
        )
        assert page.locator("table.scorecard td[class^=status-]").count() >= 8
        assert outside == []
    finally:
        context.close()
