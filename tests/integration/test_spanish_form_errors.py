"""Every form's refusal, read in Spanish: wrong input posted to each form a role can send
(and wrong values in the query of the pages that take them) is answered with a 4xx whose
page, and whose htmx fragment, holds no English and no number with a decimal point.

The lead page's actions have their own test (test_lead_actions_spanish.py); this one
covers the agreement's pages, meetings, new leads, erasure, users, integrations, the
audit pages, reports, lists, sign-in and the error pages themselves.
"""

import re
from uuid import UUID

import pytest
from flask import Flask

from domain.meeting import meeting_id
from smarketing.bootstrap import Services
from smarketing.service import integrations
from tests.integration.conftest import LoginFn, ensure_user, htmx
from tests.spanish_text import not_spanish, page_text

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

HX = {"HX-Request": "true"}
# Where each page's htmx forms aim (their templates' hx-target), by the path they send to;
# elsewhere (users, integrations, audit, the error pages) htmx aims at no target of a view's.
AIMED_AT = [
    ("/agreement/targets", "agreement-body"),
    ("/agreement/plan", "plan"),
    ("/agreement/vocabulary/", "vocabulary-body"),
    ("/agreement/terms/", "terms-body"),
    ("/agreement/money/", "money-body"),
    ("/meetings/", "meeting-record"),
    ("/leads/new", "lead-form"),
]
MONTH, WEEK = "2026-11", "2026-W47"
TARGET = {"month": MONTH, "metric": "mqls_delivered", "value": "120", "reason": ""}
SCORING = {"half_life_days": "30", "threshold": "50", "mode": "sum", "reason": "x"}
CALENDAR = {
    "timezone": "Europe/Madrid",
    "opens": "09:00",
    "closes": "18:00",
    "workdays": ["0"],
    "reason": "x",
}

# (role, method, path, form): {lead}, {meeting} and {user} are filled in by the fixture.
CASES = {
    # The agreement: targets, the plan, the vocabulary, the terms, the money terms.
    "target-month": ("manager", "POST", "/agreement/targets", TARGET | {"month": "octubre"}),
    "target-far-month": ("manager", "POST", "/agreement/targets", TARGET | {"month": "2090-01"}),
    "target-metric": ("manager", "POST", "/agreement/targets", TARGET | {"metric": "ventas"}),
    "target-value": ("manager", "POST", "/agreement/targets", TARGET | {"value": "mucho"}),
    "target-negative": ("manager", "POST", "/agreement/targets", TARGET | {"value": "-3"}),
    "target-too-big": ("manager", "POST", "/agreement/targets", TARGET | {"value": "9.000.000"}),
    "target-decimals": ("manager", "POST", "/agreement/targets", TARGET | {"value": "1,5"}),
    "target-ratio-decimals": (
        "manager",
        "POST",
        "/agreement/targets",
        TARGET | {"metric": "lead_to_customer", "value": "0,123456"},
    ),
    "target-same": ("manager", "POST", "/agreement/targets", TARGET | {"value": "100"}),
    "target-revised-no-reason": ("manager", "POST", "/agreement/targets", TARGET),
    "target-slice": (
        "manager",
        "POST",
        "/agreement/targets",
        TARGET | {"slice_by": "planeta", "slice_value": "x", "reason": "x"},
    ),
    "plan": ("manager", "GET", "/agreement/plan?goal=-5&avg_deal=abc", None),
    "agreement-month": ("manager", "GET", "/agreement/?month=octubre", None),
    "criteria-empty": ("manager", "POST", "/agreement/vocabulary/criteria", {"stage": "", "text": ""}),
    "criteria-stage": ("manager", "POST", "/agreement/vocabulary/criteria", {"stage": "Won", "text": "x"}),
    "persona-empty": ("manager", "POST", "/agreement/vocabulary/persona", {"name": "", "reason": ""}),
    "persona-unknown": (
        "manager",
        "POST",
        "/agreement/vocabulary/persona-remove",
        {"name": "Nadie", "reason": "x"},
    ),
    "vocabulary-part": ("manager", "POST", "/agreement/vocabulary/otra", {"name": "x"}),
    "source-empty": ("manager", "POST", "/agreement/vocabulary/source-accept", {"key": ""}),
    "source-merge": (
        "manager",
        "POST",
        "/agreement/vocabulary/source-merge",
        {"key": "events", "into": "inexistente", "reason": "x"},
    ),
    "campaign-empty": ("manager", "POST", "/agreement/vocabulary/campaign", {"key": ""}),
    "scoring-words": ("manager", "POST", "/agreement/terms/scoring", SCORING | {"half_life_days": "mes"}),
    "scoring-range": ("manager", "POST", "/agreement/terms/scoring", SCORING | {"threshold": "-1"}),
    "scoring-mode": ("manager", "POST", "/agreement/terms/scoring", SCORING | {"mode": "todo"}),
    "calendar-zone": ("manager", "POST", "/agreement/terms/calendar", CALENDAR | {"timezone": "Marte/Base"}),
    "calendar-days": ("manager", "POST", "/agreement/terms/calendar", CALENDAR | {"workdays": []}),
    "calendar-time": ("manager", "POST", "/agreement/terms/calendar", CALENDAR | {"opens": "25:00"}),
    "calendar-order": ("manager", "POST", "/agreement/terms/calendar", CALENDAR | {"closes": "08:00"}),
    "meeting-terms": ("manager", "POST", "/agreement/terms/meetings", {"weekly_minutes": "media hora"}),
    "terms-section": ("manager", "POST", "/agreement/terms/otra", {"reason": "x"}),
    "money-base": ("manager", "POST", "/agreement/money/base", {"currency": "euros", "reason": "x"}),
    "money-rate": (
        "manager",
        "POST",
        "/agreement/money/rate",
        {"currency": "USD", "rate": "mucho", "valid_from": "2026-11-01", "reason": "x"},
    ),
    "money-rate-negative": (
        "manager",
        "POST",
        "/agreement/money/rate",
        {"currency": "USD", "rate": "-1,5", "valid_from": "2026-11-01", "reason": "x"},
    ),
    "money-rate-date": (
        "manager",
        "POST",
        "/agreement/money/rate",
        {"currency": "USD", "rate": "1,1", "valid_from": "ayer", "reason": "x"},
    ),
    "money-part": ("manager", "POST", "/agreement/money/otra", {"currency": "USD"}),
    "attention-list": ("manager", "GET", "/agreement/attention?list=otra", None),
    "ready-cursor": ("manager", "GET", "/agreement/ready?after=roto", None),
    # Meetings.
    "meeting-week": ("manager", "POST", "/meetings/weekly/record", {"week": "2026-W99", "decision": "x"}),
    "meeting-month": ("manager", "POST", "/meetings/monthly/record", {"month": "octubre", "decision": "x"}),
    "meeting-empty": ("manager", "POST", "/meetings/weekly/record", {"week": WEEK}),
    "meeting-owner": ("manager", "POST", "/meetings/weekly/record", {"week": WEEK, "action": "Llamar"}),
    "meeting-item": ("manager", "POST", "/meetings/weekly/actions/{meeting}/9/done", {"week": WEEK}),
    "meeting-done": ("manager", "POST", "/meetings/weekly/actions/{meeting}/1/done", {"week": WEEK}),
    "meeting-kind": ("manager", "POST", "/meetings/daily/record", {"decision": "x"}),
    "meeting-page": ("manager", "GET", "/meetings/weekly?week=semana", None),
    # Leads: the new-lead form, lists, the lead page's erasure and amount correction.
    "lead-empty": ("marketing", "POST", "/leads/new", {"name": "", "email": "", "source": ""}),
    "lead-email": ("marketing", "POST", "/leads/new", {"name": "Ana", "email": "ana@", "source": "events"}),
    "lead-duplicate": (
        "marketing",
        "POST",
        "/leads/new",
        {"name": "Ana", "email": "ana@example.com", "source": "events"},
    ),
    "lead-time": (
        "marketing",
        "POST",
        "/leads/new",
        {"name": "Bea", "email": "bea@example.com", "source": "events", "occurred_at": "ayer"},
    ),
    "lead-future": (
        "marketing",
        "POST",
        "/leads/new",
        {"name": "Bea", "email": "bea@example.com", "source": "events", "occurred_at": "2099-01-01T10:00"},
    ),
    "lead-list-cursor": ("marketing", "GET", "/leads/?after=roto", None),
    "lead-unknown": ("marketing", "GET", "/leads/00000000000000000000000000000000", None),
    "lead-version": (
        "manager",
        "POST",
        "/leads/{lead}/interaction",
        {"kind": "call", "expected_version": "x"},
    ),
    "lead-stale": ("manager", "POST", "/leads/{lead}/interaction", {"kind": "call", "expected_version": "1"}),
    "amount": ("manager", "POST", "/leads/{lead}/amount", {"amount": "mucho", "reason": "x"}),
    "erase-confirm": ("admin", "POST", "/leads/{lead}/erase", {"confirm_email": "otra@example.com"}),
    "dashboard-month": ("manager", "GET", "/?month=octubre", None),
    # Users and integrations.
    "user-name": ("admin", "POST", "/users/", {"username": "a", "role": "sales", "password": "x" * 12}),
    "user-role": ("admin", "POST", "/users/", {"username": "eva", "role": "jefa", "password": "x" * 12}),
    "user-password": ("admin", "POST", "/users/", {"username": "eva", "role": "sales", "password": "corta"}),
    "user-taken": ("admin", "POST", "/users/", {"username": "{user}", "role": "sales", "password": "x" * 12}),
    "user-unknown": ("admin", "POST", "/users/nadie", {"role": "sales", "active": "1"}),
    "user-edit-role": ("admin", "POST", "/users/{user}", {"role": "jefa", "active": "1"}),
    "user-edit-password": (
        "admin",
        "POST",
        "/users/{user}",
        {"role": "sales", "active": "1", "password": "c"},
    ),
    "user-self": ("admin", "POST", "/users/test-admin", {"role": "sales", "active": "1"}),
    "integration-name": ("admin", "POST", "/integrations/", {"name": " ", "scope": "leads:write"}),
    "integration-taken": ("admin", "POST", "/integrations/", {"name": "crm", "scope": "leads:write"}),
    "integration-revoke": ("admin", "POST", "/integrations/nadie/revoke", {}),
    # The auditor's pages and the reports.
    "as-of-time": ("auditor", "GET", "/audit/as-of?at=ayer", None),
    "as-of-future": ("auditor", "GET", "/audit/as-of?at=2099-01-01T10:00", None),
    "as-of-mode": ("auditor", "GET", "/audit/as-of?at=2026-11-15T12:00&by=otro", None),
    "audit-lead": ("auditor", "GET", "/audit/leads?lead_id=roto", None),
    "audit-lead-unknown": ("auditor", "GET", "/audit/leads/{missing}", None),
    "report-month": ("manager", "GET", "/reports/monthly.pdf?month=octubre", None),
    "report-future": ("manager", "GET", "/reports/monthly.pdf?month=2099-01", None),
    "report-language": ("manager", "GET", f"/reports/monthly.pdf?month={MONTH}&lang=xx", None),
    # Doors everyone meets: a page not there, a page not allowed, a wrong method.
    "not-found": ("sales", "GET", "/no-existe", None),
    "forbidden": ("sales", "POST", "/users/", {"username": "eva"}),
    "wrong-method": ("sales", "DELETE", "/leads/", None),
}


def htmx_to(path: str) -> dict[str, str]:
    """The headers of the htmx request a page sends to ``path``: aimed at its target."""
    for prefix, target in AIMED_AT:
        if path.startswith(prefix):
            return htmx(target)
    if re.fullmatch(r"/leads/\w+/\w+", path):  # the lead page's actions and erasure
        return htmx("action-result")
    return HX


@pytest.fixture
def filled(web_app: Flask, services: Services) -> dict[str, str]:
    """What the wrong posts run into: a lead, a revised target, a meeting whose one action
    item is done, a user and an integration that exist."""
    app = services.app
    lead = app.capture_lead(name="Ana", email="ana@example.com", source="events")
    for stage in ("MQL", "SQL", "Opportunity"):
        app.change_stage(lead, to_stage=stage)
    app.mark_won(lead, amount="1500")
    app.set_target(MONTH, "mqls_delivered", 100, "plan")
    app.record_meeting("weekly", WEEK, action="Llamar", owner="ana")
    app.mark_action_done(meeting_id("weekly", WEEK), 1, "hecho")
    integrations.create_token(services.write_engine, "crm")
    services.projector.catch_up()
    return {
        "lead": UUID(lead).hex,
        "meeting": meeting_id("weekly", WEEK).hex,
        "user": ensure_user(web_app, "sales"),
        "missing": "0" * 32,
    }


@pytest.mark.parametrize("case", list(CASES))
def test_each_wrong_form_is_refused_in_spanish(
    web_app: Flask, filled: dict[str, str], login: LoginFn, case: str
) -> None:
    role, method, path, form = CASES[case]
    client = login(web_app.test_client(), role, lang="es")
    path = path.format(**filled)
    data = {k: v.format(**filled) if isinstance(v, str) else v for k, v in (form or {}).items()}
    for headers in ({}, htmx_to(path)):  # the page a browser shows and the fragment htmx swaps in
        answer = client.open(path, method=method, data=data or None, headers=headers)
        assert 400 <= answer.status_code < 500, (answer.status_code, answer.get_data(as_text=True)[:300])
        text = page_text(answer.get_data(as_text=True))
        assert not not_spanish(text), (not_spanish(text), text[-600:])


def test_a_wrong_password_is_refused_in_spanish(web_app: Flask) -> None:
    client = web_app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    answer = client.post("/login", data={"username": "nadie", "password": "mal"})
    assert answer.status_code == 401
    text = page_text(answer.get_data(as_text=True))
    assert "contraseña" in text
    assert not not_spanish(text), not_spanish(text)


# (role, path, form, what the confirmation says): the same forms sent right.
GOOD = {
    "target": ("manager", "/agreement/targets", TARGET | {"value": "1.200", "reason": "Más eventos"}, "1200"),
    "criteria": ("manager", "/agreement/vocabulary/criteria", {"stage": "MQL", "text": "Demo"}, "Guardado"),
    "persona": ("manager", "/agreement/vocabulary/persona", {"name": "Directora", "reason": "x"}, "Guardado"),
    "calendar": ("manager", "/agreement/terms/calendar", CALENDAR, "guardadas"),
    "rate": (
        "manager",
        "/agreement/money/rate",
        {"currency": "USD", "rate": "0,92", "valid_from": "2026-11-01", "reason": "BCE"},
        "Guardado",
    ),
    "meeting": ("manager", "/meetings/weekly/record", {"week": WEEK, "decision": "Llamar"}, "Registrado"),
    "user": ("admin", "/users/", {"username": "eva", "role": "sales", "password": "x" * 12}, "eva"),
    "integration": ("admin", "/integrations/", {"name": "web", "scope": "leads:write"}, "Token para web"),
    "revoke": ("admin", "/integrations/crm/revoke", {}, "crm"),
}


@pytest.mark.parametrize("case", list(GOOD))
def test_each_form_confirms_in_spanish(
    web_app: Flask, filled: dict[str, str], login: LoginFn, case: str
) -> None:
    role, path, form, said = GOOD[case]
    client = login(web_app.test_client(), role, lang="es")
    answer = client.post(path, data=form, headers=htmx_to(path))
    assert 200 <= answer.status_code < 300, answer.get_data(as_text=True)[:300]
    text = page_text(answer.get_data(as_text=True))
    assert said in text.replace(".", ""), text[:600]
    assert not not_spanish(text), (not_spanish(text), text[:600])
