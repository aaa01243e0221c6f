"""The auditor's as-of view in both times, with the targets and grades as they stood.

A story: on 1 February the agreement sets 2 MQLs for February; on 10 February a
lead becomes an MQL; on 20 March a lead imported with February dates becomes an
MQL of February too, and February's target is revised down to 1. Asked about
28 February:

- as it had happened by then (business time): 2 MQLs against the target of 2
  then agreed: on track;
- as it was recorded by then (what the system knew): 1 MQL against 2: missed,
  and the imported lead did not exist yet.
"""

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from smarketing.audit import as_of
from smarketing.audit.history import lead_as_of
from smarketing.bootstrap import Services

FEB_1 = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
FEB_10 = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)
IMPORTED_AT = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
ASKED = "2026-02-28T12:00"  # team time (Madrid)


def _mqls_row(card: dict) -> dict:
    return next(row for row in card["marketing"] if row["metric"] == "mqls_delivered")


@pytest.fixture
def story(services: Services) -> Iterator[str]:
    """The imported lead's id; the clock stays on 20 March, after the import."""
    app = services.app
    with time_machine.travel(FEB_1, tick=False):
        app.set_target("2026-02", "mqls_delivered", 2, "plan for February")
    with time_machine.travel(FEB_10, tick=False):
        live = app.capture_lead(name="Live", email="live@example.com", source="webinar")
        app.change_stage(live, to_stage="MQL")
    with time_machine.travel(IMPORTED_AT, tick=True):
        imported = app.capture_lead(
            name="Imported",
            email="imported@example.com",
            source="webinar",
            occurred_at=datetime(2026, 2, 5, 9, 0, tzinfo=UTC),
        )
        app.change_stage(imported, to_stage="MQL", occurred_at=datetime(2026, 2, 6, 9, 0, tzinfo=UTC))
        app.set_target("2026-02", "mqls_delivered", 1, "revised after the import")
        services.projector.catch_up()
        yield imported


def test_happened_counts_back_dated_history_with_the_targets_then_agreed(
    services: Services, story: str
) -> None:
    at = as_of.parse_at(ASKED, services)
    happened = as_of.figures_as_of(services, at, mode=as_of.HAPPENED)
    assert happened["month"] == "2026-02" and happened["mode"] == "happened"
    assert happened["scorecard"]["mqls"] == 2
    assert [s["count"] for s in happened["funnel"]["stages"]][:2] == [2, 2]
    assert happened["targets"]["mqls_delivered"] == 2  # the revision of 20 March had not happened
    row = _mqls_row(happened["graded"])
    assert (row["target"], row["actual"], row["status"]) == (2, 2, "on_track")
    lead = lead_as_of(services, story, at, as_of.HAPPENED)
    assert lead is not None and lead["stage"] == "MQL"


def test_recorded_is_what_the_system_knew_then(services: Services, story: str) -> None:
    at = as_of.parse_at(ASKED, services)
    recorded = as_of.figures_as_of(services, at, mode=as_of.RECORDED)
    assert recorded["scorecard"]["mqls"] == 1
    assert recorded["targets"]["mqls_delivered"] == 2
    row = _mqls_row(recorded["graded"])
    # The grade the dashboard gave on 28 February (the last day: the whole target is due).
    assert (row["target"], row["actual"], row["status"]) == (2, 1, "missed")
    assert lead_as_of(services, story, at, as_of.RECORDED) is None
    # Today both times agree on February's figures, graded against the revised target.
    now = as_of.figures_as_of(services, datetime.now(UTC), mode=as_of.HAPPENED)
    assert now["month"] == "2026-03"
    february = as_of.figures_as_of(
        services, as_of.parse_at("2026-02-28T23:59", services), mode=as_of.RECORDED
    )
    assert february["scorecard"]["mqls"] == 1


def test_the_two_times_are_cached_apart(services: Services, story: str) -> None:
    at = as_of.parse_at(ASKED, services)
    recorded = as_of.figures_as_of(services, at, mode=as_of.RECORDED)
    happened = as_of.figures_as_of(services, at, mode=as_of.HAPPENED)
    assert recorded["scorecard"]["mqls"] == 1 and happened["scorecard"]["mqls"] == 2
    assert as_of.figures_as_of(services, at, mode=as_of.RECORDED) == recorded


@pytest.fixture
def auditor(web_app: Flask, login: Callable) -> FlaskClient:
    return login(web_app.test_client(), "auditor")


# `story` before `auditor`: the login happens on the story's clock (20 March), as the session expects.
def test_page_offers_both_explained_with_targets_and_grades(
    services: Services, story: str, auditor: FlaskClient
) -> None:
    form = auditor.get("/audit/as-of").get_data(as_text=True)
    assert 'value="happened"' in form and 'value="recorded"' in form
    assert "As it had happened by then" in form and "As it was recorded by then" in form
    page = auditor.get(f"/audit/as-of?at={ASKED}&lead_id={story}").get_data(as_text=True)  # default: happened
    assert 'id="asof-explained"' in page and "whenever they were recorded" in page
    assert "Targets in force for February 2026" in page
    assert '<td class="status-on_track" data-label="Status">On track</td>' in page
    assert "Lead at version 2 of 2" in page
    page = auditor.get(f"/audit/as-of?at={ASKED}&lead_id={story}&by=recorded").get_data(as_text=True)
    assert "What the system knew then" in page
    assert '<td class="status-missed" data-label="Status">Missed</td>' in page
    assert "had not been recorded yet" in page
    assert auditor.get(f"/audit/as-of?at={ASKED}&by=sometime").status_code == 422


def test_page_in_spanish(web_app: Flask, login: Callable, services: Services, story: str) -> None:
    client = login(web_app.test_client(), "auditor", "es")
    page = client.get(f"/audit/as-of?at={ASKED}").get_data(as_text=True)
    assert "Tal como había ocurrido" in page and "Objetivos vigentes para febrero de 2026" in page
    assert "Tal como estaba registrado" in page
    assert client.get(f"/audit/as-of?at={ASKED}&by=x").status_code == 422


def test_cli_both_times(web_app: Flask, services: Services, story: str) -> None:
    runner = web_app.test_cli_runner()
    happened = runner.invoke(args=["audit", "as-of", "--at", ASKED, "--lead-id", story])
    assert happened.exit_code == 0, happened.output
    figures = json.loads(happened.output)
    assert figures["mode"] == "happened" and figures["scorecard"]["mqls"] == 2
    assert figures["lead"]["stage"] == "MQL"
    recorded = runner.invoke(args=["audit", "as-of", "--at", ASKED, "--by", "recorded"])
    figures = json.loads(recorded.output)
    assert figures["scorecard"]["mqls"] == 1 and _mqls_row(figures["graded"])["status"] == "missed"
    assert runner.invoke(args=["audit", "as-of", "--at", ASKED, "--by", "nope"]).exit_code == 2
