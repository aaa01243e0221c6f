"""Business times and periods outside a sane range (before 1900, or more than a
year ahead) are refused at every door with a 4xx and a message in the reader's
language, nothing stored; and no query value, however odd, makes a page fail.

The date-taking routes are found from the app's url_map (every GET page without
path arguments, plus the pages of one lead), each fed the query parameters that
name a period or a moment anywhere in the app."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import quote

import pytest
import time_machine
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smarketing.bootstrap import Services
from smarketing.importing import mapping as mappings
from smarketing.importing.parse import read_csv_text
from smarketing.importing.plan import make_plan
from smarketing.importing.run import run_plan
from smarketing.service import integrations
from tests.integration.conftest import LoginFn, htmx
from tests.integration.test_import import MADRID

NOW = datetime(2026, 10, 14, 10, 0, tzinfo=UTC)
# Where each form's htmx request aims (the templates' hx-target).
LEAD_FORM = htmx("lead-form")
ACTION = htmx("action-result")
RECORD = htmx("meeting-record")
BODY = htmx("agreement-body")
# Every query parameter that names a period or a moment (month, week, as-of, page cursors).
DATE_PARAMS = ("month", "week", "at", "after", "period", "end_month")
EDGES = [
    "0001-01",
    "9999-12",
    "0000-00",
    "1899-12",
    "1900-01",
    "2027-10",
    "2027-11",
    "0001-W01",
    "9999-W52",
    "2025-W53",
    "1900-W01",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "0001-01-01T00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "1899-12-31T23:59",
    "1900-01-01T00:00",
    "0001-01-01T00:00|x",
    "9999-12-31T23:59:59-14:00|x",
    "",
    "2026-10",
    # The lead list's keyset cursor, edited: out-of-range times and values of the wrong kind.
    '["0001-01-01T00:00:00+14:00", "x"]',
    '["9999-12-31T23:59:59-14:00", "x"]',
    '["0001-01-01T00:00:00", "x"]',
    '[[1], "x"]',
    '[{"a": 1}, 2]',
    '[1e400, "x"]',
]
# Pages that change something or are not pages: never fed arbitrary input here.
SKIPPED = {"auth.logout", "static", "i18n.choose_language"}


@pytest.fixture
def clock() -> Iterator[None]:
    with time_machine.travel(NOW, tick=True):
        yield


@pytest.fixture
def manager(clock: None, web_app: Flask, login: LoginFn) -> FlaskClient:
    return login(web_app.test_client(), "manager")


@pytest.fixture
def spanish(clock: None, web_app: Flask, login: LoginFn) -> FlaskClient:
    return login(web_app.test_client(), "manager", lang="es")


def events(services: Services) -> int:
    return len(services.app.recorder.select_notifications(start=1, limit=10**7))


def date_routes(app: Flask, lead: str) -> list[str]:
    """Every GET page of the app that takes no path argument, and a lead's pages."""
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in SKIPPED or "GET" not in (rule.methods or ()):
            continue
        if not rule.arguments:
            routes.append(rule.rule)
        elif rule.arguments == {"lead_id"}:
            routes.append(rule.rule.replace("<lead_id>", lead))
    return sorted(routes)


def with_dates(route: str, value: str) -> str:
    return route + "?" + "&".join(f"{name}={quote(value)}" for name in DATE_PARAMS)


def oldest_lead(client: FlaskClient) -> str:
    """A lead at the earliest time accepted: the lower edge is stored and shown everywhere."""
    data = {"name": "Ana", "email": "ana@example.com", "source": "web", "occurred_at": "1900-01-01T00:00"}
    response = client.post("/leads/new", data=data)
    assert response.status_code == 303, response.data[:400]
    return response.headers["Location"].rsplit("/", 1)[1]


# --- year 1 and year 9999: refused at each door, nothing stored, no page fails ----------------


REFUSED = [
    "/?month=0001-01",
    "/?month=9999-12",
    "/?month=1899-12",
    "/agreement/?month=0001-01",
    "/agreement/?month=9999-12",
    "/agreement/plan?month=9999-12&goal=1000&avg_deal=10",
    "/meetings/weekly?week=9999-W52",
    "/meetings/weekly?week=0001-W01",
    "/meetings/weekly?week=2025-W53",  # 2025 has 52 ISO weeks
    "/meetings/monthly?month=0001-01",
    "/meetings/monthly?month=9999-12",
    "/export/funnel.csv?month=9999-12",
    "/export/scorecard.csv?month=0001-01",
    "/audit/as-of?at=0001-01-01T00:00",
    "/audit/as-of?at=9999-12-31T23:59",
    "/audit/as-of?at=0001-01-01T00:00%2B14:00",
    "/reports/monthly.pdf?month=0001-01",
    "/reports/monthly.pdf?month=9999-12",
    "/agreement/attention?list=overdue&after=0001-01-01T00:00%2B14:00|x",
    "/agreement/ready?after=9999-12-31T23:59:59-14:00|x",
]


@pytest.mark.parametrize("url", REFUSED)
def test_year_1_and_9999_in_a_query_are_refused(manager: FlaskClient, url: str) -> None:
    response = manager.get(url)
    assert 400 <= response.status_code < 500, (url, response.status_code, response.data[:300])
    assert 'role="alert"' in response.get_data(as_text=True) or b"YYYY-MM" in response.data


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/?month=9999-12", "Mes: debe ser un mes entre 1900-01 y 2027-10"),
        ("/?month=0001-01", "Mes: debe ser un mes entre 1900-01 y 2027-10"),
        ("/?month=octubre", "Mes: «octubre» no es un mes como 2026-10"),
        ("/meetings/weekly?week=9999-W52", "Semana: debe ser una semana entre 1900-W01 y 2027-W41"),
        ("/meetings/weekly?week=2025-W53", "Semana: «2025-W53» no es una semana como 2026-W44"),
        ("/audit/as-of?at=0001-01-01T00:00", "A fecha de: no puede ser anterior a 1900-01-01"),
        ("/audit/as-of?at=9999-12-31T23:59", "A fecha de: no puede estar a más de un año vista"),
        ("/export/funnel.csv?month=9999-12", "Mes: debe ser un mes entre 1900-01 y 2027-10"),
        ("/reports/monthly.pdf?month=0001-01", "«0001-01» no es un mes: usa la forma AAAA-MM"),
        ("/reports/monthly.pdf?month=9999-12", "9999-12 aún no ha empezado; el último mes con informe es"),
    ],
)
def test_refusals_read_in_spanish(spanish: FlaskClient, url: str, message: str) -> None:
    response = spanish.get(url)
    assert response.status_code == (400 if url.startswith("/reports/") else 422)
    assert message in response.get_data(as_text=True)


def test_agreement_pages_reach_as_far_ahead_as_targets_may_be_set(manager: FlaskClient) -> None:
    assert manager.get("/agreement/?month=2031-12").status_code == 200  # five years ahead: targets allowed
    assert manager.get("/agreement/?month=2032-01").status_code == 422
    assert manager.get("/?month=2027-10").status_code == 200  # a year ahead: still a month to look at
    assert manager.get("/?month=2027-11").status_code == 422


@pytest.mark.parametrize("when", ["0001-01-01T00:00", "1899-12-31T23:00", "9999-12-31T23:59"])
def test_forms_refuse_business_times_out_of_range(
    manager: FlaskClient, services: Services, when: str
) -> None:
    lead = oldest_lead(manager)
    before = events(services)
    form = {"name": "Bea", "email": "bea@example.com", "source": "web", "occurred_at": when}
    assert manager.post("/leads/new", data=form, headers=LEAD_FORM).status_code == 422
    note = {"kind": "note", "channel": "web", "occurred_at": when}
    response = manager.post(f"/leads/{lead}/interaction", data=note, headers=ACTION)
    assert response.status_code == 422 and 'role="alert"' in response.get_data(as_text=True)
    assert events(services) == before


def test_form_refusal_of_year_1_reads_in_spanish(spanish: FlaskClient, services: Services) -> None:
    lead = oldest_lead(spanish)
    note = {"kind": "note", "channel": "web", "occurred_at": "0001-01-01T00:00"}
    response = spanish.post(f"/leads/{lead}/interaction", data=note, headers=ACTION)
    assert response.status_code == 422
    assert "no puede ser anterior a 1900-01-01" in response.get_data(as_text=True)


def test_meeting_record_for_year_9999_is_refused(manager: FlaskClient, services: Services) -> None:
    before = events(services)
    form = {"week": "9999-W52", "decision": "Hire", "action": "", "owner": ""}
    assert manager.post("/meetings/weekly/record", data=form, headers=RECORD).status_code == 422
    form = {"month": "0001-01", "decision": "Hire", "action": "", "owner": ""}
    assert manager.post("/meetings/monthly/record", data=form, headers=RECORD).status_code == 422
    assert events(services) == before


def test_target_for_year_9999_is_refused(manager: FlaskClient, services: Services) -> None:
    before = events(services)
    form = {"month": "9999-12", "metric": "mqls_delivered", "value": "60"}
    assert manager.post("/agreement/targets", data=form, headers=BODY).status_code == 422
    assert events(services) == before


@pytest.mark.parametrize(
    "occurred_at", ["9999-12-31T23:59:59+00:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"]
)
def test_api_capture_out_of_range_is_refused(
    clock: None, web_app: Flask, services: Services, occurred_at: str
) -> None:
    token = integrations.create_token(services.write_engine, "website")
    body = {"name": "Ana", "email": "ana@example.com", "source": "web_form", "occurred_at": occurred_at}
    response = web_app.test_client().post(
        "/api/v1/leads", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 422, response.json
    assert response.json["field"] == "occurred_at"
    assert events(services) == 0


def test_import_row_dated_year_1_is_rejected_with_its_reason(clock: None, services: Services) -> None:
    text = (
        "key,name,email,source,captured_at\n"
        "k1,Ana,ana@example.com,web,0001-01-01\n"
        "k2,Bea,bea@example.com,web,01/01/0001\n"
        "k3,Cai,cai@example.com,web,9999-12-31T23:59-14:00\n"
        "k4,Dan,dan@example.com,web,2025-03-03\n"
    )
    result = run_plan(services.app, make_plan(read_csv_text(text), mappings.load("leads", "leads"), MADRID))
    assert result.imported == 1
    reasons = {e.row: (e.column, e.reason) for e in result.errors}
    assert reasons[2] == ("captured_at", "must not be before 1900-01-01")
    assert reasons[3] == ("captured_at", "must not be before 1900-01-01")
    assert reasons[4][0] == "captured_at" and "future" in reasons[4][1]


def _cli(app: Flask, *args: str) -> Result:
    return app.test_cli_runner().invoke(args=list(args))


@pytest.mark.parametrize(
    "args",
    [
        ("audit", "as-of", "--at", "0001-01-01T00:00"),
        ("audit", "as-of", "--at", "9999-12-31T23:59:59-14:00"),
        ("audit", "seal", "--month", "9999-12"),
        ("audit", "seal", "--month", "0001-01"),
        ("demo-data", "--end-month", "9999-12"),
    ],
)
def test_cli_refuses_out_of_range_dates(clock: None, web_app: Flask, services: Services, args: tuple) -> None:
    result = _cli(web_app, *args)
    assert result.exit_code != 0 and "Error" in result.output, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert events(services) == 0


# --- no value makes a page fail -----------------------------------------------------------------


def test_every_date_taking_route_answers_edge_dates_without_failing(manager: FlaskClient) -> None:
    lead = oldest_lead(manager)
    routes = date_routes(manager.application, lead)
    assert {"/", "/agreement/", "/meetings/weekly", "/audit/as-of", "/export/funnel.csv"} <= set(routes)
    for route in routes:
        for value in EDGES:
            response = manager.get(with_dates(route, value))
            body = response.get_data()  # read to the end: CSV exports stream
            assert response.status_code < 500, (route, value, body[:300])
    for route in ("/", "/agreement/", "/meetings/weekly", "/meetings/monthly", f"/leads/{lead}"):
        assert manager.get(route).status_code == 200  # the 1900 lead is shown everywhere


@pytest.mark.parametrize("sort", ["newest", "oldest", "activity", "name"])
def test_an_edited_lead_list_cursor_is_a_422_in_every_sort(manager: FlaskClient, sort: str) -> None:
    oldest_lead(manager)
    for cursor in [e for e in EDGES if e.startswith("[")] + ['[1, "x"]', '["a", 1]']:
        response = manager.get("/leads/", query_string={"sort": sort, "after": cursor})
        value, lead_id = json.loads(cursor)
        # By name, any text is a name to continue after; by time, only a time in range.
        fine = sort == "name" and isinstance(value, str) and isinstance(lead_id, str)
        assert response.status_code == (200 if fine else 422), (sort, cursor, response.data[:300])


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_arbitrary_query_text_never_makes_a_page_fail(manager: FlaskClient, data: st.DataObject) -> None:
    routes = date_routes(manager.application, "0" * 32)
    route = data.draw(st.sampled_from(routes), label="route")
    value = data.draw(st.one_of(st.sampled_from(EDGES), st.text(max_size=40)), label="value")
    response = manager.get(route, query_string={name: value for name in DATE_PARAMS})
    body = response.get_data()  # read to the end: CSV exports stream
    assert response.status_code < 500, (route, value, body[:300])
