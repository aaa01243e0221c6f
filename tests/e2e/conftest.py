"""Browser tests: the real app served on 127.0.0.1 in a thread, driven by
Playwright in Debian's chromium (no browser download: explicit executable)."""

import os
import shutil
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from smarketing.bootstrap import init_schema
from smarketing.settings import Settings

# Debian's chromium on the PATH, unless SMARKETING_CHROMIUM names another build.
CHROMIUM = os.environ.get("SMARKETING_CHROMIUM") or shutil.which("chromium") or ""
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM or not Path(CHROMIUM).exists():
        pytest.skip(
            "browser tests need Chromium: install Debian's 'chromium' package or set SMARKETING_CHROMIUM"
        )
    database_url = f"sqlite:///{tmp_path_factory.mktemp('e2e') / 'e2e.sqlite3'}"
    init_schema(Settings(database_url=database_url))
    # Plain http on loopback, as `make run`: the session cookie cannot be Secure.
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "SECRET_KEY": "e2e",
            "INSECURE_COOKIES": True,
            "MAILBOX_DIR": str(tmp_path_factory.mktemp("mailbox")),  # the demo's e-mails, not the repo's
        }
    )
    month = datetime.now(UTC).strftime("%Y-%m")
    result = app.test_cli_runner().invoke(args=["demo-data", "--end-month", month, "--months", "2"])
    assert result.exit_code == 0, result.output
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    app.extensions["smarketing"].close()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def browser_context(browser: object, live_server: str) -> Iterator[object]:
    """A logged-in browser session (cookies shared by all its pages)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")  # type: ignore[attr-defined]
    log_in(context.new_page(), live_server)
    yield context
    context.close()


@pytest.fixture
def page(browser_context: object) -> object:
    return browser_context.pages[0]  # type: ignore[attr-defined]


def log_in(page: object, base: str, username: str = "demo-manager") -> None:
    """Every page needs a login; demo-data created one user per role (password = user name)."""
    page.goto(f"{base}/login")  # type: ignore[attr-defined]
    if "/login" not in page.url:  # type: ignore[attr-defined]
        return  # already logged in: /login sent us on
    # By field name, not label: the form speaks the browser's language.
    page.locator("input[name=username]").fill(username)  # type: ignore[attr-defined]
    page.locator("input[name=password]").fill(username)  # type: ignore[attr-defined]
    page.locator("main form button[type=submit]").click()  # type: ignore[attr-defined]
    page.wait_for_url(lambda url: "/login" not in url)  # type: ignore[attr-defined]


@pytest.fixture
def screenshot() -> object:
    """``screenshot(page, name)``: a full-page PNG in test-artifacts/ to look at."""

    def take(page: object, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]

    return take
