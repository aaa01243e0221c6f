"""Audit pages as an auditor: replay step by step (page and htmx fragment),
as-of, exports (CSV formula injection defeated) and no writes."""

import csv
import io
import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from smarketing.bootstrap import Services

FRAGMENT = {"HX-Request": "true", "HX-Target": "replay"}


@pytest.fixture
def client(web_app: Flask, login: Callable) -> FlaskClient:
    client = login(web_app.test_client(), "auditor")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # assertions read the English texts
    return client


@pytest.fixture
def lead(services: Services) -> str:
    app = services.app
    lead = app.capture_lead(name='=HYPERLINK("x")', email="eve@example.com", source="webinar")
    app.change_stage(lead, to_stage="MQL")
    app.assign_owner(lead, owner="Bea", team="sales")
    services.projector.catch_up()
    return lead


def test_index_shows_integrity_and_forms(client: FlaskClient, lead: str) -> None:
    page = client.get("/audit/").get_data(as_text=True)
    assert "Intact up to position" not in page  # the full walk runs only on request
    assert 'name="at"' in page and 'name="lead_id"' in page and "/audit/verify" in page
    assert "Intact up to position" in client.get("/audit/verify").get_data(as_text=True)
    fragment = client.get("/audit/verify", headers={"HX-Request": "true", "HX-Target": "integrity-result"})
    html = fragment.get_data(as_text=True)
    assert "Intact up to position" in html and "<html" not in html
    found = client.get(f"/audit/leads?lead_id={lead}")
    assert found.status_code == 302 and found.headers["Location"].endswith(f"/audit/leads/{lead}")


def test_replay_steps_as_pages_and_fragments(client: FlaskClient, lead: str) -> None:
    page = client.get(f"/audit/leads/{lead}?step=2")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in html and 'id="replay"' in html
    assert "Step 2 of 3: Stage changed" in html and "<code>StageChanged</code>" in html
    assert 'type="range"' in html
    # Values in words and times in the team's zone, not stored keys and ISO text.
    assert "<td>Lead</td><td>MQL</td>" in html and "+00:00" not in html
    fragment = client.get(f"/audit/leads/{lead}?step=3", headers=FRAGMENT)
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and body.lstrip().startswith('<section id="replay"')
    assert "<code>OwnerAssigned</code>" in body and "Bea" in body and "<td>Sales</td>" in body
    assert fragment.headers["HX-Push-Url"].endswith(f"/audit/leads/{lead}?step=3")
    assert "Step 3 of 3" in client.get(f"/audit/leads/{lead}?step=99").get_data(as_text=True)
    assert client.get("/audit/leads/not-a-lead").status_code == 404


def test_exports_are_complete_and_safe(client: FlaskClient, lead: str) -> None:
    data = json.loads(client.get(f"/audit/leads/{lead}/history.json").get_data(as_text=True))
    assert [e["type"] for e in data["events"]] == ["Captured", "StageChanged", "OwnerAssigned"]
    first = data["events"][0]
    assert first["personal"]["email"] == "eve@example.com" and first["position"] == 1
    assert first["business"]["source"] == "webinar" and first["recorded_at"]
    response = client.get(f"/audit/leads/{lead}/history.csv")
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0]["personal.name"] == '\'=HYPERLINK("x")'
    assert rows[2]["owner"] == "Bea"


def test_as_of_shows_the_past(client: FlaskClient, services: Services, lead: str) -> None:
    tz = services.settings.tz
    past = (datetime.now(UTC) - timedelta(days=1)).astimezone(tz).strftime("%Y-%m-%dT%H:%M")
    page = client.get(f"/audit/as-of?at={past}&lead_id={lead}&by=recorded").get_data(as_text=True)
    assert "had not been recorded yet" in page and "up to position 0" in page
    now = (datetime.now(UTC) + timedelta(minutes=1)).astimezone(tz).strftime("%Y-%m-%dT%H:%M")
    page = client.get(f"/audit/as-of?at={now}&lead_id={lead}&by=recorded").get_data(as_text=True)
    assert "Lead at version 3 of 3" in page and "eve@example.com" in page
    assert '<th scope="row">Team</th><td>Sales</td>' in page and "+00:00" not in page
    # The month's figures formatted as on the dashboard (the exact value on hover).
    assert re.search(r'<th scope="row">Revenue</th><td title="0(\.00)?">€0\.00</td>', page), page[-3000:]
    assert '<th scope="row">MQLs</th><td title="1">1</td>' in page
    assert client.get("/audit/as-of?at=yesterday").status_code == 422


def test_agreement_trail(client: FlaskClient, services: Services) -> None:
    month = datetime.now(services.settings.tz).strftime("%Y-%m")
    services.app.set_target(month, "mqls_delivered", 10)
    services.app.set_target(month, "mqls_delivered", 12, "more budget")
    services.app.set_target(month, "revenue_goal", "1500.50")
    page = client.get("/audit/agreement").get_data(as_text=True)
    assert "10 → 12" in page and "more budget" in page
    assert "— → €1,500.50" in page and 'title="— → 1500.50"' in page  # the exact value on hover


def test_auditors_cannot_write(client: FlaskClient, lead: str) -> None:
    assert client.post("/audit/").status_code in (403, 405)
    assert client.post(f"/leads/{lead}/stage", data={"to_stage": "SQL"}).status_code == 403


def test_as_of_figures_beyond_the_web_limit_go_to_the_cli(
    web_app: Flask, client: FlaskClient, services: Services, lead: str
) -> None:
    now = (
        (datetime.now(UTC) + timedelta(minutes=1)).astimezone(services.settings.tz).strftime("%Y-%m-%dT%H:%M")
    )
    page = client.get(f"/audit/as-of?at={now}&lead_id={lead}").get_data(as_text=True)
    assert "Funnel (all cohorts)" in page and "flask audit as-of" not in page
    # The log holds 5 events: the lead's 3, its e-mail index, and the follow-up task its
    # assignment as an MQL opened (the daily loop).
    events = services.app.recorder.max_notification_id()
    assert events == 5
    web_app.config["AS_OF_WEB_REPLAY_LIMIT"] = 3
    page = client.get(f"/audit/as-of?at={now}&lead_id={lead}").get_data(as_text=True)
    assert "Funnel (all cohorts)" not in page and "Lead at version 3 of 3" in page
    assert f"flask audit as-of --at {now}" in page and f"replay of {events} events" in page
    result = web_app.test_cli_runner().invoke(args=["audit", "as-of", "--at", now, "--lead-id", lead])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["position"] == events and figures["lead"]["owner"] == "Bea"
    assert [s["count"] for s in figures["funnel"]["stages"]][:2] == [1, 1]
    bad = web_app.test_cli_runner().invoke(args=["audit", "as-of", "--at", "yesterday"])
    assert bad.exit_code == 2 and "is not a date and time" in bad.output
