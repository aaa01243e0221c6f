"""Every page and fragment of the team web app, through the Flask test client:
full page and htmx fragment, success and each kind of bad input."""

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from smarketing.bootstrap import Services
from tests.integration.conftest import htmx

HX = {"HX-Request": "true"}
# Where the lead pages' htmx requests aim (the templates' hx-target).
ACTION = htmx("action-result")
LEAD_FORM = htmx("lead-form")
EMAIL_CHECK = htmx("email-check")


@pytest.fixture
def client(web_app: Flask, login: Callable) -> FlaskClient:
    return login(web_app.test_client(), "manager")


def capture(client: FlaskClient, **fields: str) -> str:
    data = {"name": "Ana Ruiz", "email": "ana@example.com", "source": "webinar"} | fields
    response = client.post("/leads/new", data=data)
    assert response.status_code == 303, response.data[:400]
    return response.headers["Location"].rsplit("/", 1)[1]


def event_count(services: Services) -> int:
    return services.app.recorder.max_notification_id() or 0


def act(client: FlaskClient, lead: str, action: str, headers: dict | None = None, **data: str):
    return client.post(f"/leads/{lead}/{action}", data=data, headers=headers or {})


def version_of(client: FlaskClient, lead: str) -> str:
    page = client.get(f"/leads/{lead}").get_data(as_text=True)
    return re.search(r'name="expected_version" value="(\d+)"', page).group(1)


def test_dashboard_page_and_fragment(client: FlaskClient) -> None:
    capture(client)
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<html" in html and "dashboard-panels" in html and "<svg" in html
    fragment = client.get("/?source=webinar", headers=HX | {"HX-Target": "dashboard-panels"})
    assert fragment.status_code == 200
    assert "<html" not in fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"]
    assert client.get("/?month=October").status_code == 422


def test_leads_list_search_filters_and_pages(client: FlaskClient) -> None:
    for i in range(55):
        capture(client, name=f"Lead {i:02d}", email=f"l{i}@example.com", company="Acme" if i % 2 else "Beta")
    page = client.get("/leads/")
    assert page.status_code == 200 and page.get_data(as_text=True).count('href="/leads/') >= 50
    more = (
        re.search(r'hx-get="([^"]+after=[^"]+)"', page.get_data(as_text=True)).group(1).replace("&amp;", "&")
    )
    rest = client.get(more, headers=HX | {"HX-Target": "more-leads"})
    assert rest.status_code == 200 and "<html" not in rest.get_data(as_text=True)
    assert rest.get_data(as_text=True).count("<tr>") == 5  # 55 leads: 50 on the first page
    searched = client.get("/leads/?q=lead 07", headers=HX | {"HX-Target": "lead-rows"})
    assert searched.get_data(as_text=True).count("<tr>") == 1
    assert client.get("/leads/?q=beta").get_data(as_text=True).count("Beta") >= 27
    assert client.get("/leads/?stage=MQL").get_data(as_text=True).count("<tr>\n") <= 2
    assert client.get("/leads/?after=not-json").status_code == 422


def test_new_lead_validation_keeps_input_and_refuses_duplicates(
    client: FlaskClient, services: Services
) -> None:
    empty = client.post("/leads/new", data={"name": "", "email": "x@example.com", "source": "web"})
    assert empty.status_code == 422 and "is required" in empty.get_data(as_text=True)
    bad = client.post("/leads/new", data={"name": "A", "email": "nope", "source": "web"}, headers=LEAD_FORM)
    assert bad.status_code == 422
    assert "not a valid e-mail" in bad.get_data(as_text=True) and "<html" not in bad.get_data(as_text=True)
    long = client.post("/leads/new", data={"name": "A" * 201, "email": "a@example.com", "source": "web"})
    assert long.status_code == 422 and "at most 200" in long.get_data(as_text=True)
    capture(client, email="dup@example.com")
    before = event_count(services)
    dup = client.post("/leads/new", data={"name": "B", "email": "DUP@example.com", "source": "web"})
    assert dup.status_code == 409 and "already exists" in dup.get_data(as_text=True)
    assert "Open the existing lead" in dup.get_data(as_text=True)
    assert event_count(services) == before
    check = client.get("/leads/check-email?email=dup@example.com", headers=EMAIL_CHECK)
    assert "already exists" in check.get_data(as_text=True)


def test_lead_page_actions_swap_header_actions_and_timeline(client: FlaskClient) -> None:
    lead = capture(client)
    page = client.get(f"/leads/{lead}")
    # A source outside the known list reads as written, capitalised (labels.label).
    assert page.status_code == 200 and "Captured from Webinar" in page.get_data(as_text=True)
    response = act(client, lead, "stage", ACTION, to_stage="MQL", expected_version=version_of(client, lead))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert html.count('hx-swap-oob="true"') == 4 and "Lead → MQL" in html  # header, actions, tasks, timeline
    steps = [
        ("owner", {"owner": "lucia", "team": "sales"}),
        ("attempt", {"channel": "phone", "outcome": "no_answer", "note": "voicemail"}),
        ("interaction", {"kind": "meeting", "channel": "in_person", "details": "demo"}),
        ("stage", {"to_stage": "SQL"}),
        ("stage", {"to_stage": "Opportunity"}),
        ("won", {"amount": "1200.50", "currency": "EUR"}),
    ]
    for action, data in steps:
        response = act(client, lead, action, ACTION, expected_version=version_of(client, lead), **data)
        assert response.status_code == 200, (action, response.get_data(as_text=True)[:300])
    final = client.get(f"/leads/{lead}").get_data(as_text=True)
    assert "Customer" in final and "€1,200.50" in final and "voicemail" in final
    # The vocabulary's keys in words, in the timeline, the header and the forms.
    assert "Contact attempt: Phone · No answer" in final and "Interaction: Meeting · In person" in final
    assert "lucia (Sales)" in final and '<option value="in_person">In person</option>' in final


def test_reject_and_lost_and_full_page_post(client: FlaskClient) -> None:
    rejected, lost = capture(client), capture(client, email="lost@example.com")
    act(client, rejected, "stage", to_stage="MQL")
    response = act(client, rejected, "reject", reason="No budget")
    assert response.status_code == 200 and "<html" in response.get_data(as_text=True)  # no htmx: full page
    assert "MQL rejected by sales" in response.get_data(as_text=True)
    act(client, lost, "stage", to_stage="SQL", reason="Referral")
    assert act(client, lost, "lost", ACTION, reason="Price").status_code == 200
    assert "Disqualified" in client.get(f"/leads/{lost}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("action", "data", "status", "message"),
    [
        ("stage", {"to_stage": "Customer"}, 409, "only by winning a deal"),
        ("stage", {"to_stage": "Disqualified"}, 409, "requires a reason"),
        ("reject", {"reason": "x"}, 409, "only an MQL"),
        ("won", {"amount": "-5"}, 422, "positive amount"),
        ("won", {"amount": "abc"}, 422, "not a number"),
        ("interaction", {"kind": "telepathy", "channel": "web"}, 422, "must be one of"),
        ("attempt", {"channel": "phone", "outcome": "no_answer", "note": "x" * 2001}, 422, "at most 2,000"),
        ("owner", {"owner": "", "team": "sales"}, 422, "is required"),
        ("interaction", {"kind": "note", "channel": "web", "occurred_at": "yesterday"}, 422, "date and time"),
        ("interaction", {"kind": "note", "channel": "web", "occurred_at": "2999-01-01T10:00"}, 422, "future"),
        ("teleport", {}, 403, "not allowed"),  # unknown actions fail closed at the access gate
    ],
)
def test_bad_input_gets_a_readable_fragment_and_stores_nothing(
    client: FlaskClient, services: Services, action: str, data: dict, status: int, message: str
) -> None:
    lead = capture(client)
    before = event_count(services)
    response = act(client, lead, action, ACTION, **data)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert message in html and 'role="alert"' in html and "<html" not in html
    assert event_count(services) == before


def test_stale_form_and_unknown_lead(client: FlaskClient, services: Services) -> None:
    lead = capture(client)
    old_version = version_of(client, lead)
    act(client, lead, "stage", to_stage="MQL", expected_version=old_version)
    before = event_count(services)
    stale = act(
        client, lead, "stage", ACTION, to_stage="Disqualified", reason="dup", expected_version=old_version
    )
    assert stale.status_code == 409 and "changed by someone else" in stale.get_data(as_text=True)
    assert event_count(services) == before
    assert client.get("/leads/0123456789abcdef0123456789abcdef").status_code == 404
    assert client.get("/leads/not-a-lead").status_code == 404
    assert act(client, "not-a-lead", "stage", ACTION, to_stage="MQL").status_code == 404


def test_script_in_a_name_renders_as_text(client: FlaskClient) -> None:
    lead = capture(client, name="<script>alert(1)</script>", company='"><img src=x onerror=alert(1)>')
    for url, headers in [
        (f"/leads/{lead}", {}),
        ("/leads/", {}),
        ("/leads/", HX | {"HX-Target": "lead-rows"}),
    ]:
        html = client.get(url, headers=headers).get_data(as_text=True)
        assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<img src=x" not in html


def test_spanish_is_the_default_and_english_on_request(web_app: Flask, login: Callable) -> None:
    spanish = login(web_app.test_client(), "manager", lang="es")
    lead = capture(spanish)
    page = spanish.get(f"/leads/{lead}").get_data(as_text=True)
    assert 'lang="es"' in page and "Historial" in page
    bad = act(spanish, lead, "won", ACTION, amount="-1").get_data(as_text=True)
    assert "Importe" in bad and "positivo" in bad  # the domain's message, translated
    english = login(web_app.test_client(), "manager", lang="en")
    assert "History" in english.get(f"/leads/{lead}").get_data(as_text=True)
