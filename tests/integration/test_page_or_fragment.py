"""Page or fragment, decided one way (smarketing.web.core.hx): a view answers a fragment only
to an htmx request aimed at the target its template's hx-target names. A boosted link or
form (HX-Request, but no target of the view's: htmx swaps the whole body) and a request
aimed elsewhere get the whole page, or the redirect a plain form gets. Every such answer
varies on HX-Request, so no cache hands one to the other.

The choice does not depend on the database: these run on SQLite only.
"""

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from smarketing.bootstrap import Services
from tests.integration.conftest import LoginFn, htmx

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

BOOSTED = {"HX-Request": "true", "HX-Boosted": "true"}  # the body is the target: it has no id
ELSEWHERE = htmx("store-faults")  # an element of the layout no view answers for


def is_page(response: TestResponse) -> bool:
    return "<html" in response.get_data(as_text=True)


def varies(response: TestResponse) -> bool:
    return {"HX-Request", "HX-Target"} <= set(response.vary)


@pytest.fixture
def manager(web_app: Flask, login: LoginFn) -> FlaskClient:
    return login(web_app.test_client(), "manager")


# (path, the target its template's htmx request names, status): GET views.
READS = {
    "plan": ("/agreement/plan?month=2026-10&goal=100000&avg_deal=5000", "plan", 200),
    "plan-refused": ("/agreement/plan?month=2026-10&goal=-1&avg_deal=5", "plan", 422),
    "vocabulary": ("/agreement/vocabulary", "vocabulary-body", 200),
    "terms": ("/agreement/terms", "terms-body", 200),
    "money": ("/agreement/money", "money-body", 200),
    "meeting": ("/meetings/weekly?week=2026-W44", "meeting-record", 200),
    "attention-more": ("/agreement/attention?owner=ana&list=overdue", "more-attention", 200),
    "ready-more": ("/agreement/ready", "more-ready", 200),
    "leads-more": ("/leads/?sort=oldest", "more-leads", 200),
    "leads-search": ("/leads/?q=ana", "lead-rows", 200),
}


@pytest.mark.parametrize("case", list(READS))
def test_a_read_answers_its_target_a_fragment_and_anything_else_the_page(
    manager: FlaskClient, case: str
) -> None:
    path, target, status = READS[case]
    aimed = manager.get(path, headers=htmx(target))
    assert aimed.status_code == status and not is_page(aimed), aimed.get_data(as_text=True)[:300]
    assert varies(aimed), aimed.vary
    for headers in (BOOSTED, ELSEWHERE, {}):
        answer = manager.get(path, headers=headers)
        assert answer.status_code == status and is_page(answer), (
            headers,
            answer.get_data(as_text=True)[:300],
        )
        assert varies(answer), answer.vary


# (path, a form that writes, the target its template's form names): a write's confirmation
# comes back as the fragment; anything else is redirected (303) to the page, as a plain form.
WRITES: dict[str, tuple[str, Callable[[int], dict[str, str]], str]] = {
    "target": (
        "/agreement/targets",
        lambda n: {"month": "2026-10", "metric": "mqls_delivered", "value": str(60 + n), "reason": "x"},
        "agreement-body",
    ),
    "criteria": (
        "/agreement/vocabulary/criteria",
        lambda n: {"stage": "MQL", "text": f"Asked for a demo {n}", "reason": "x"},
        "vocabulary-body",
    ),
    "terms": (
        "/agreement/terms/meetings",
        lambda n: {
            "weekly_attendees": "Ana",
            "weekly_minutes": str(20 + n),
            "monthly_minutes": "60",
            "reason": "x",
        },
        "terms-body",
    ),
    "money": (
        "/agreement/money/rate",
        lambda n: {"currency": "USD", "rate": f"0.9{n}", "valid_from": f"2026-11-0{n + 1}", "reason": "x"},
        "money-body",
    ),
    "meeting": (
        "/meetings/weekly/record",
        lambda n: {"week": "2026-W44", "decision": f"Decision {n}"},
        "meeting-record",
    ),
}


@pytest.mark.parametrize("case", list(WRITES))
def test_a_write_answers_its_target_a_fragment_and_anything_else_the_redirect(
    manager: FlaskClient, case: str
) -> None:
    path, form, target = WRITES[case]
    aimed = manager.post(path, data=form(0), headers=htmx(target))
    assert aimed.status_code == 200 and not is_page(aimed), aimed.get_data(as_text=True)[:300]
    assert varies(aimed), aimed.vary
    for n, headers in enumerate((BOOSTED, ELSEWHERE, {}), 1):
        answer = manager.post(path, data=form(n), headers=headers)
        assert answer.status_code == 303, (headers, answer.get_data(as_text=True)[:300])
        assert varies(answer), answer.vary


# (path, a refused form, the target its template's form names): the refusal comes back in
# the form's place to htmx aimed there, and as the whole page to anything else.
REFUSALS = {
    "target": (
        "/agreement/targets",
        {"month": "2026-10", "metric": "mqls_delivered", "value": "lots"},
        "agreement-body",
    ),
    "criteria": ("/agreement/vocabulary/criteria", {"stage": "", "text": ""}, "vocabulary-body"),
    "terms": (
        "/agreement/terms/calendar",
        {"opens": "18:00", "closes": "09:00", "workdays": ["0"]},
        "terms-body",
    ),
    "money": (
        "/agreement/money/rate",
        {"currency": "USD", "rate": "abc", "valid_from": "2026-11-01"},
        "money-body",
    ),
    "meeting": ("/meetings/weekly/record", {"week": "2026-W44", "action": "x"}, "meeting-record"),
    "new-lead": ("/leads/new", {"name": "", "email": "nope", "source": "web"}, "lead-form"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_refusal_answers_its_target_a_fragment_and_anything_else_the_page(
    manager: FlaskClient, case: str
) -> None:
    path, form, target = REFUSALS[case]
    aimed = manager.post(path, data=form, headers=htmx(target))
    assert aimed.status_code == 422 and not is_page(aimed), aimed.get_data(as_text=True)[:300]
    assert varies(aimed), aimed.vary
    for headers in (BOOSTED, ELSEWHERE, {}):
        answer = manager.post(path, data=form, headers=headers)
        assert answer.status_code == 422 and is_page(answer), (headers, answer.get_data(as_text=True)[:300])
        assert varies(answer), answer.vary


def _lead(services: Services, email: str) -> str:
    lead_id = services.app.capture_lead(name="Ana", email=email, source="webinar")
    services.projector.catch_up()
    return lead_id.replace("-", "")


def test_a_lead_action_answers_its_target_the_swaps_and_anything_else_the_page(
    manager: FlaskClient, services: Services
) -> None:
    """The issue's case: the lead page's actions post into #action-result."""
    lead = _lead(services, "ana@example.com")
    note = {"kind": "note", "channel": "web", "details": "Asked for prices"}
    aimed = manager.post(f"/leads/{lead}/interaction", data=note, headers=htmx("action-result"))
    html = aimed.get_data(as_text=True)
    assert aimed.status_code == 200 and not is_page(aimed) and html.count('hx-swap-oob="true"') == 4
    assert varies(aimed), aimed.vary
    for headers in (BOOSTED, ELSEWHERE, {}):
        answer = manager.post(f"/leads/{lead}/interaction", data=note, headers=headers)
        assert answer.status_code == 200 and is_page(answer), headers
        assert 'hx-swap-oob="true"' not in answer.get_data(as_text=True), headers
        assert varies(answer), answer.vary


def test_an_erasure_answers_its_target_the_swaps_and_anything_else_the_page(
    web_app: Flask, login: LoginFn, services: Services
) -> None:
    admin = login(web_app.test_client(), "admin")
    for n, headers in enumerate((htmx("action-result"), BOOSTED, ELSEWHERE, {})):
        email = f"person{n}@example.com"
        lead = _lead(services, email)
        answer = admin.post(
            f"/leads/{lead}/erase", data={"confirm_email": email, "reason": "RGPD"}, headers=headers
        )
        assert answer.status_code == 200 and "Personal data erased" in answer.get_data(as_text=True)
        assert is_page(answer) == (n > 0), headers
        assert varies(answer), answer.vary


def test_a_new_lead_sends_any_htmx_request_to_its_page_and_a_form_by_redirect(manager: FlaskClient) -> None:
    """Where the answer is the same for every htmx request: htmx follows HX-Location itself."""
    for n, headers in enumerate((htmx("lead-form"), BOOSTED, ELSEWHERE)):
        lead = {"name": "Ana", "email": f"ana{n}@example.com", "source": "webinar"}
        answer = manager.post("/leads/new", data=lead, headers=headers)
        assert answer.status_code == 204 and answer.headers["HX-Location"].startswith("/leads/"), headers
        assert varies(answer), answer.vary
    plain = manager.post("/leads/new", data={"name": "Bea", "email": "bea@example.com", "source": "webinar"})
    assert plain.status_code == 303 and varies(plain)


def test_an_error_is_a_fragment_to_any_htmx_request(manager: FlaskClient) -> None:
    """Errors replace whatever the request aimed at: a fragment for every htmx request."""
    for headers in (htmx("action-result"), BOOSTED, ELSEWHERE):
        missing = manager.get("/no-such-page", headers=headers)
        assert missing.status_code == 404 and not is_page(missing), headers
        assert varies(missing), missing.vary
    assert is_page(manager.get("/no-such-page"))
