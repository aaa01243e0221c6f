"""Exports: formula injection neutralised everywhere; the CSV of the lead list
holds exactly the leads the same filter shows on screen, beyond one page."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from projections.queries import leads_query
from projections.queries.leads_query import LeadQuery
from smarketing.bootstrap import Services
from smarketing.extensions import KEY
from smarketing.present.exporting import safe_cell
from smarketing.web.core.factory import create_app
from tests.integration.exported import exported_rows

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


@pytest.fixture
def app(services: Services) -> Iterator[Flask]:
    config = {"DATABASE_URL": services.settings.database_url, "TESTING": True, "LOGIN_DISABLED": True}
    app = create_app(config)
    yield app
    app.extensions[KEY].close()


@pytest.mark.parametrize("text", ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")'])
def test_formula_cells_get_a_quote(text: str) -> None:
    assert safe_cell(text) == "'" + text


def test_plain_cells_untouched() -> None:
    assert [safe_cell(v) for v in ("Ana", "a=b", -5, None)] == ["Ana", "a=b", "-5", ""]


def _seed(services: Services) -> None:
    for i in range(130):
        services.app.capture_lead(
            name=f"=cmd|' /C calc'!A{i}" if i == 0 else f"Lead {i:03d}",
            email=f"lead{i}@example.com",
            company="@evil" if i == 1 else "Acme",
            source="paid_search" if i % 3 else "email",
            occurred_at=T0 + timedelta(minutes=i),
        )
    services.projector.catch_up()


def _csv(data: bytes) -> list[dict[str, str]]:
    return exported_rows(data)


def test_lead_export_matches_the_screen_filter(app: Flask, services: Services) -> None:
    _seed(services)
    response = app.test_client().get("/leads/export.csv?source=paid_search&sort=name")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = _csv(response.data)
    with services.read_engine.connect() as conn:
        shown = leads_query.list_leads(
            conn, LeadQuery(source="paid_search", sort="name", limit=1000), now=datetime.now(UTC)
        )["leads"]
    assert [r["lead_id"] for r in rows] == [lead["lead_id"] for lead in shown]
    assert len(rows) == sum(1 for i in range(130) if i % 3) > 50  # more than one screen page
    everything = _csv(app.test_client().get("/leads/export.csv").data)
    assert len(everything) == 130
    assert {r["name"] for r in everything if r["name"].startswith("'")} == {"'=cmd|' /C calc'!A0"}
    assert [r["company"] for r in everything if r["company"] != "Acme"] == ["'@evil"]


def test_funnel_and_scorecard_exports(app: Flask, services: Services) -> None:
    _seed(services)
    client = app.test_client()
    funnel = _csv(client.get("/export/funnel.csv?month=2025-03").data)
    assert funnel[0]["stage"] == "Lead" and funnel[0]["leads"] == "130"
    scorecard = {
        r["metric"]: r["value"] for r in _csv(client.get("/export/scorecard.csv?month=2025-03").data)
    }
    assert scorecard["leads"] == "130"
    assert client.get("/export/funnel.csv?month=March").status_code == 422


def test_history_json(app: Flask, services: Services) -> None:
    lead_id = services.app.capture_lead(name="Ana", email="ana@example.com", source="web", occurred_at=T0)
    services.app.mark_won(lead_id, amount="10.5", reason="Fast deal")
    history = app.test_client().get(f"/leads/{lead_id}/history.json").json
    assert [e["type"] for e in history["events"]] == ["Captured", "DealWon"]
    assert history["events"][1]["business"]["amount"] == "10.50"
    assert app.test_client().get("/leads/nope/history.json").status_code == 404
