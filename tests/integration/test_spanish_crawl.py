"""Every page each demo role reaches, read in Spanish: no sentence of the English source
strings the catalog translates, and no number written with a decimal point.

The English strings come from the catalog itself (every msgid whose Spanish differs), so a
string added in English and forgotten in the catalog's Spanish shows up here as soon as a
page renders it; test_translations.py checks the catalog is complete.
"""

import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
import time_machine
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient

from smarketing.extensions import KEY
from tests.crawling import crawl
from tests.integration.conftest import LoginFn

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

CATALOG = Path(__file__).resolve().parents[2] / "translations/es/LC_MESSAGES/messages.po"
NOW = datetime(2026, 11, 18, 10, 30, tzinfo=UTC)
ROLES = ("marketing", "sales", "manager", "auditor", "admin")
MAX_PAGES = 60
# Pages reached by a form rather than a link.
SEEDS = (
    "/agreement/plan?goal=100.000&avg_deal=5.000",
    "/audit/as-of?at=2026-11-15T12:00&by=happened",
    "/audit/as-of?at=2026-11-15T12:00&by=recorded",
    "/audit/verify",
)
# A number with a decimal point: "65.1 %" or "2.5 h"; "12.000" (Spanish thousands) is not one.
DECIMAL_POINT = re.compile(r"(?<![\d.])\d+\.\d{1,2}(?![\d.])")


def _english_sentences() -> list[str]:
    """Source strings of two words or more whose Spanish differs, placeholders cut away."""
    with CATALOG.open("rb") as file:
        catalog = read_po(file)
    found = set()
    for message in catalog:
        if not message.id or not message.string or isinstance(message.id, tuple):
            continue
        for piece in re.split(r"%\(\w+\)[sdf]|%[sd]|\{\w*\}", message.id):
            piece = piece.strip(" .:,;·()")
            if len(piece.split()) >= 3 and piece not in message.string:
                found.add(piece)
    return sorted(found, key=len, reverse=True)


def _text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"<option[^>]*>.*?</option>", " ", html, flags=re.S)  # keys people pick by label
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html)))


def _crawl(client: FlaskClient) -> dict[str, str]:
    """Every page reached from the dashboard and the seeds: its HTML by path."""
    pages = {}

    def visit(path: str) -> list[str]:
        response = client.get(path, follow_redirects=True)
        assert response.status_code < 500, (path, response.status_code)
        if response.mimetype != "text/html":
            return []
        pages[path] = response.get_data(as_text=True)
        return [unescape(href) for href in re.findall(r'href="([^"]+)"', pages[path])]

    crawl(visit, ["/", *SEEDS], MAX_PAGES)
    return pages


@pytest.fixture
def demo_app(web_app: Flask) -> Flask:
    with time_machine.travel(NOW, tick=False):
        demo = ["demo-data", "--end-month", "2026-11", "--months", "2"]
        result = web_app.test_cli_runner().invoke(args=demo)
    assert result.exit_code == 0, result.output
    web_app.extensions[KEY].projector.catch_up()
    return web_app


@pytest.mark.parametrize("role", ROLES)
def test_every_page_reads_spanish(demo_app: Flask, login: LoginFn, role: str) -> None:
    english = _english_sentences()
    assert len(english) > 100  # the catalog is read
    with time_machine.travel(NOW, tick=True):
        pages = _crawl(login(demo_app.test_client(), role, lang="es"))
    assert len(pages) >= (3 if role == "admin" else 12), sorted(pages)
    leaks = {}
    for path, html in pages.items():
        text = _text(html)
        found = [s for s in english if s in text]
        points = DECIMAL_POINT.findall(text)
        if found or points:
            leaks[path] = found[:5] + points[:5]
    assert not leaks, leaks
