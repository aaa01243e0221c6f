"""The agreement and meeting pages on both backends, through the real login and
access gate: full pages, htmx fragments, 422 errors and role refusals."""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from projections.models.agreement_docs import TERMS, doc_history
from smarketing.extensions import KEY
from tests.integration.conftest import LoginFn, htmx

# Where each page's htmx requests aim (the templates' hx-target).
BODY = htmx("agreement-body")
PLAN = htmx("plan")
VOCABULARY = htmx("vocabulary-body")
TERMS_BODY = htmx("terms-body")
RECORD = htmx("meeting-record")
MORE_ATTENTION = htmx("more-attention")
PAGES = [
    "/agreement/",
    "/agreement/plan?goal=100000&avg_deal=5000",
    "/agreement/vocabulary",
    "/agreement/terms",
    "/agreement/attention",
    "/agreement/ready",
    "/meetings/weekly?week=2026-W44",
    "/meetings/monthly?month=2026-10",
]


@pytest.fixture
def manager(web_app: Flask, login: LoginFn) -> FlaskClient:
    return login(web_app.test_client(), "manager")


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("role", ["manager", "marketing", "sales", "auditor"])
def test_every_reader_sees_the_pages(web_app: Flask, login: LoginFn, url: str, role: str) -> None:
    response = login(web_app.test_client(), role).get(url)
    assert response.status_code == 200, response.data[:300]
    assert b"<html" in response.data


def test_admin_and_anonymous_are_refused(web_app: Flask, login: LoginFn) -> None:
    assert web_app.test_client().get("/agreement/").status_code == 303  # to the login page
    admin = login(web_app.test_client(), "admin")
    assert admin.get("/agreement/").status_code == 403
    assert admin.get("/meetings/weekly").status_code == 403


@pytest.mark.parametrize("role", ["marketing", "sales", "auditor"])
def test_only_managers_write_the_agreement(web_app: Flask, login: LoginFn, role: str) -> None:
    client = login(web_app.test_client(), role)
    form = {"month": "2026-10", "metric": "mqls_delivered", "value": "60"}
    assert client.post("/agreement/targets", data=form).status_code == 403
    assert (
        client.post("/agreement/vocabulary/criteria", data={"stage": "MQL", "text": "x"}).status_code == 403
    )
    assert client.post("/agreement/terms/meetings", data={}).status_code == 403
    assert b"Save target" not in client.get("/agreement/").data


def test_auditors_cannot_record_meetings_but_the_teams_can(web_app: Flask, login: LoginFn) -> None:
    form = {"week": "2026-W44", "decision": "Keep going"}
    assert (
        login(web_app.test_client(), "auditor").post("/meetings/weekly/record", data=form).status_code == 403
    )
    assert login(web_app.test_client(), "sales").post("/meetings/weekly/record", data=form).status_code == 303


def test_setting_a_target_full_page_and_fragment(manager: FlaskClient) -> None:
    form = {"month": "2026-10", "metric": "mqls_delivered", "value": "60", "reason": ""}
    response = manager.post("/agreement/targets", data=form)
    assert response.status_code == 303 and "month=2026-10" in response.headers["Location"]
    response = manager.post(
        "/agreement/targets", data=form | {"value": "70", "reason": "More webinars"}, headers=BODY
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "<html" not in body and "Target saved" in body
    assert "More webinars" in body and "60" in body and "70" in body  # history: old → new, why


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"month": "2026-13", "metric": "mqls_delivered", "value": "60"}, "Month"),
        ({"month": "2026-10", "metric": "nope", "value": "60"}, "Metric"),
        ({"month": "2026-10", "metric": "mqls_delivered", "value": "lots"}, "Value"),
    ],
)
def test_target_errors_come_back_as_422_fragments(manager: FlaskClient, form: dict, field: str) -> None:
    response = manager.post("/agreement/targets", data=form, headers=BODY)
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "<html" not in body and f"{field}:" in body and 'id="target-form"' in body  # named in words
    assert manager.post("/agreement/targets", data=form).status_code == 422  # and as a full page


def test_plan_fragment_offers_the_target_in_one_click(web_app: Flask, manager: FlaskClient) -> None:
    app = web_app.extensions[KEY].app
    month = datetime.now(UTC).astimezone(web_app.extensions[KEY].settings.tz).strftime("%Y-%m")
    response = manager.get(f"/agreement/plan?month={month}&goal=10000&avg_deal=2500", headers=PLAN)
    assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
    assert b"4 customers" in response.data
    assert manager.get("/agreement/plan?goal=-1&avg_deal=5", headers=PLAN).status_code == 422
    assert app.agreement_history() == []


def test_vocabulary_edit_history_and_criteria_on_the_lead_page(web_app: Flask, manager: FlaskClient) -> None:
    response = manager.post(
        "/agreement/vocabulary/criteria",
        data={"stage": "MQL", "text": "Asked for a demo"},
        headers=VOCABULARY,
    )
    assert response.status_code == 200 and b"Asked for a demo" in response.data
    response = manager.post(
        "/agreement/vocabulary/criteria", data={"stage": "MQL", "text": "Asked twice"}, headers=VOCABULARY
    )
    assert response.status_code == 422 and b"reason" in response.data
    manager.post("/agreement/vocabulary/persona", data={"name": "Ops Olga", "signals": "Visits pricing"})
    lead_id = web_app.extensions[KEY].app.capture_lead(
        name="Vera", email="vera@example.org", source="webinar"
    )
    web_app.extensions[KEY].projector.catch_up()
    page = manager.get(f"/leads/{lead_id.replace('-', '')}").get_data(as_text=True)
    assert 'id="stage-criteria"' in page and "Asked for a demo" in page and "Visits pricing" in page


def test_change_histories_read_in_the_readers_language_and_time_zone(web_app: Flask, login: LoginFn) -> None:
    # 00:34 UTC is 1:34 in Madrid: an hour of one digit, as it is before 10:00 there, in a
    # different hour than UTC's. The clock ticks on from there, so the minute is read back.
    with time_machine.travel(datetime(2026, 12, 7, 0, 34, tzinfo=UTC), tick=True):
        _record_and_read_the_histories(web_app, login)


def _record_and_read_the_histories(web_app: Flask, login: LoginFn) -> None:
    spanish = login(web_app.test_client(), "manager", lang="es")
    persona = {"name": "Olga", "description": "Jefa de operaciones", "reason": "Nueva"}
    assert spanish.post("/agreement/vocabulary/persona", data=persona, headers=VOCABULARY).status_code == 200
    meetings = {"weekly_attendees": "Ana", "weekly_minutes": "20", "monthly_attendees": "Ana, Bea"}
    response = spanish.post(
        "/agreement/terms/meetings", data=meetings | {"monthly_minutes": "45"}, headers=TERMS_BODY
    )
    assert response.status_code == 200, response.data[:300]
    vocabulary = spanish.get("/agreement/vocabulary").get_data(as_text=True)
    assert "Buyer persona: Olga" in vocabulary and "<b>Descripción</b>: Jefa de operaciones" in vocabulary
    terms = spanish.get("/agreement/terms").get_data(as_text=True)
    assert "Condiciones: Reuniones conjuntas" in terms and "<b>Semanal: asistentes</b>: Ana" in terms
    # Times as on every other page: the team's zone (Europe/Madrid in tests), not UTC.
    with web_app.extensions[KEY].read_engine.connect() as conn:
        (change,) = doc_history(conn, TERMS)
    local = change["occurred_at"].astimezone(ZoneInfo("Europe/Madrid"))
    assert local.hour == 1
    # Babel's short Spanish form: no leading zero on the day, the month or the hour.
    assert f"<td>{local.day}/{local.month}/{local:%y}, {local.hour}:{local:%M}</td>" in terms
    target = {"month": "2026-10", "metric": "mqls_delivered", "value": "60"}
    assert spanish.post("/agreement/targets", data=target, headers=BODY).status_code == 200
    targets = spanish.get("/agreement/?month=2026-10").get_data(as_text=True)
    history = targets[targets.index("Historial del acuerdo") :]
    assert re.search(r"<td>\d{1,2}/\d{1,2}/\d{2}, \d{1,2}:\d{2}</td>", history)
    assert not re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", history)  # not the stored UTC text


def test_terms_forms_validate_and_record(manager: FlaskClient) -> None:
    bad = {"opens": "18:00", "closes": "09:00", "workdays": ["0"]}
    response = manager.post("/agreement/terms/calendar", data=bad, headers=TERMS_BODY)
    assert response.status_code == 422 and b"Closes:" in response.data
    good = {"opens": "09:00", "closes": "18:00", "workdays": ["0", "1", "2", "3", "4"], "reason": "Office"}
    response = manager.post("/agreement/terms/calendar", data=good, headers=TERMS_BODY)
    assert response.status_code == 200 and b"Terms saved" in response.data and b"Office" in response.data
    assert manager.get("/agreement/attention").status_code == 200


def test_default_attendees_read_in_the_readers_language_a_teams_own_as_written(
    web_app: Flask, login: LoginFn
) -> None:
    spanish = login(web_app.test_client(), "manager", lang="es")
    monthly = spanish.get("/meetings/monthly?month=2026-10").get_data(as_text=True)
    assert "Dirección de marketing, dirección de ventas" in monthly and "Sales director" not in monthly
    form = spanish.get("/agreement/terms").get_data(as_text=True)
    assert 'value="Responsable de marketing, responsable de ventas, equipo de SDR"' in form
    english = login(web_app.test_client(), "manager", lang="en")
    assert "Marketing director, Sales director" in english.get("/meetings/monthly").get_data(as_text=True)

    own = {"weekly_attendees": "Ana, Bea", "weekly_minutes": "20", "monthly_minutes": "45"}
    own["monthly_attendees"] = "Marketing director, Sales director, both teams' leads"  # the default, kept
    response = english.post(
        "/agreement/terms/meetings", data=own | {"reason": "Smaller team"}, headers=TERMS_BODY
    )
    assert response.status_code == 200, response.data[:300]
    weekly = spanish.get("/meetings/weekly").get_data(as_text=True)
    assert "Ana, Bea" in weekly and "20 minutos" in weekly
    assert "Dirección de marketing" in spanish.get("/meetings/monthly").get_data(as_text=True)


def test_meeting_pack_records_and_closes_action_items(web_app: Flask, manager: FlaskClient) -> None:
    form = {"week": "2026-W44", "decision": "Ana owns webinars", "action": "Call the top 10", "owner": "bea"}
    response = manager.post("/meetings/weekly/record", data=form, headers=RECORD)
    assert response.status_code == 200 and b"Call the top 10" in response.data
    response = manager.post(
        "/meetings/weekly/record", data={"week": "2026-W44", "action": "x"}, headers=RECORD
    )
    assert response.status_code == 422 and b"Owner:" in response.data
    page = manager.get("/meetings/weekly?week=2026-W45").get_data(as_text=True)
    assert "Call the top 10" in page and "Go through 1 open action items" in page
    from domain.meeting import meeting_id

    key = meeting_id("weekly", "2026-W44").hex
    response = manager.post(
        f"/meetings/weekly/actions/{key}/1/done", data={"week": "2026-W45"}, headers=RECORD
    )
    assert response.status_code == 200 and b"marked done" in response.data
    assert "Call the top 10" not in manager.get("/meetings/weekly?week=2026-W45").get_data(as_text=True)
    assert manager.get("/meetings/weekly?week=2026-W99").status_code == 422
    assert manager.post(f"/meetings/weekly/actions/{key}/9/done", headers=RECORD).status_code == 422


def test_dashboard_shows_attention_and_ready_counts(web_app: Flask, manager: FlaskClient) -> None:
    svc = web_app.extensions[KEY]
    lead_id = svc.app.capture_lead(name="Hot", email="hot@example.org", source="webinar")
    for kind in ("form_submitted", "webinar", "meeting"):
        svc.app.record_interaction(lead_id, kind=kind)
    svc.projector.catch_up()
    page = manager.get("/").get_data(as_text=True)
    assert "1 lead ready for MQL" in page
    assert "Hot" in manager.get("/agreement/ready").get_data(as_text=True)


def test_attention_lists_are_paged_per_owner(web_app: Flask, manager: FlaskClient) -> None:
    svc = web_app.extensions[KEY]
    long_ago = datetime(2024, 1, 8, 9, tzinfo=UTC)
    for n in range(13):  # MQLs nobody called: overdue for "ana"
        lead_id = svc.app.capture_lead(
            name=f"Quiet {n:02}", email=f"quiet{n}@example.org", source="webinar", occurred_at=long_ago
        )
        svc.app.assign_owner(lead_id, owner="ana", team="sales", occurred_at=long_ago)
        svc.app.change_stage(lead_id, to_stage="MQL", occurred_at=long_ago.replace(hour=10 + n % 8))
    svc.projector.catch_up()
    overview = manager.get("/agreement/attention").get_data(as_text=True)
    assert "<strong>13</strong> overdue first contacts" in overview
    assert overview.count("Quiet ") == 20  # 10 per list on the overview (overdue, under-contacted)
    assert "/agreement/attention?owner=ana&amp;list=overdue" in overview and "All 13 →" in overview
    first = manager.get("/agreement/attention?owner=ana&list=overdue").get_data(as_text=True)
    assert "13 leads, oldest MQL first." in first and first.count("Quiet ") == 13
    assert 'id="more-attention"' not in first  # 13 fit on one page of 50
    rows = manager.get(
        "/agreement/attention?owner=ana&list=under_contacted", headers=MORE_ATTENTION
    ).get_data(as_text=True)
    assert "<html" not in rows and rows.count("Quiet ") == 13 and "0 / " in rows
    assert manager.get("/agreement/attention?owner=ana&list=nonsense").status_code == 422
    damaged = manager.get("/agreement/attention?owner=ana&list=overdue&after=yesterday|x")
    assert damaged.status_code == 422 and b"page link is damaged" in damaged.data
    assert manager.get("/agreement/ready?after=soon").status_code == 422
