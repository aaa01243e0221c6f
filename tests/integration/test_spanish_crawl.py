"""Every page each demo role reaches, read in Spanish: no sentence of the English source
strings the catalog translates, and no number written with a decimal point.

The English strings come from the catalog itself (every msgid whose Spanish differs), so a
string added in English and forgotten in the catalog's Spanish shows up here as soon as a
page renders it; test_translations.py checks the catalog is complete.
"""

import re
from datetime import UTC, datetime
from decimal import Decimal
from html import unescape

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from projections.models.lead_summary import lead_summary
from smarketing.audit.erasure import erase_person
from smarketing.extensions import KEY
from smarketing.present.event_types import EVENT_TYPES, event_label
from tests.crawling import crawl
from tests.integration.conftest import LoginFn
from tests.spanish_text import english_sentences, not_spanish, page_text

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

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
    assert len(english_sentences()) > 100  # the catalog is read
    with time_machine.travel(NOW, tick=True):
        pages = _crawl(login(demo_app.test_client(), role, lang="es"))
    assert len(pages) >= (3 if role == "admin" else 12), sorted(pages)
    leaks = {}
    for path, html in pages.items():
        if found := not_spanish(page_text(html)):
            leaks[path] = found[:8]
    assert not leaks, leaks


def _leads_by_state(demo_app: Flask) -> dict[str, str]:
    """One demo lead in each stage (its hex id); the won deal's amount is corrected, the new
    lead's personal data erased and the MQL rejected: their pages and replays name every
    kind of event."""
    svc = demo_app.extensions[KEY]
    with svc.read_engine.connect() as conn:
        rows = conn.execute(
            select(lead_summary.c.stage, func.min(lead_summary.c.lead_id)).group_by(lead_summary.c.stage)
        )
        leads = {stage: lead_id for stage, lead_id in rows}
    with time_machine.travel(NOW, tick=False):
        fix = {"amount": Decimal("14250.50"), "currency": "EUR", "reason": "Factura final"}
        svc.app.correct_amount(leads["Customer"], **fix)
        erase_person(svc, leads["Lead"], "Lo pidió la persona")
        svc.app.reject_mql(leads["MQL"], reason="Sin presupuesto")
    svc.projector.catch_up()
    return {stage: lead_id.replace("-", "") for stage, lead_id in leads.items()}


def test_every_kind_of_lead_and_replay_step_reads_spanish(demo_app: Flask, login: LoginFn) -> None:
    leads = _leads_by_state(demo_app)
    assert {"Lead", "MQL", "SQL", "Opportunity", "Customer", "Disqualified"} <= set(leads), leads
    pages: dict[str, str] = {}
    with time_machine.travel(NOW, tick=True):
        manager = login(demo_app.test_client(), "manager", lang="es")
        auditor = login(demo_app.test_client(), "auditor", lang="es")
        for lead_id in leads.values():
            pages[f"/leads/{lead_id}"] = manager.get(f"/leads/{lead_id}").get_data(as_text=True)
            step, last = 1, 1
            while step <= last:  # every step of the replay: one event each
                path = f"/audit/leads/{lead_id}?step={step}"
                pages[path] = auditor.get(path).get_data(as_text=True)
                found = re.search(r'name="step" min="1" max="(\d+)"', pages[path])
                assert found, (path, page_text(pages[path])[:600])
                last = int(found[1])
                step += 1
        email = manager.get(f"/leads/{leads['MQL']}").get_data(as_text=True)
        known = re.search(r"[\w.+-]+@[\w.-]+\.\w+", page_text(email))[0]
        for check in ("ana@", known):  # the new-lead form's inline e-mail check
            answer = manager.get("/leads/check-email", query_string={"email": check})
            pages[f"check-email {check}"] = answer.get_data(as_text=True)
    with demo_app.test_request_context(headers={"Accept-Language": "es"}):
        event_names = {cls.__name__: event_label(cls.__name__) for cls in EVENT_TYPES}
    named = {key for key, name in event_names.items() if any(f": {name}<" in html for html in pages.values())}
    assert named == set(event_names), set(event_names) - named  # every kind of event was read
    leaks = {path: found[:8] for path, html in pages.items() if (found := not_spanish(page_text(html)))}
    assert not leaks, leaks
