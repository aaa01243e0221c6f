"""Numbers typed as the reader writes them, on both backends, through the real
login: ``12.000`` is twelve thousand in Spanish and ``12,000.50`` is twelve
thousand and a half in English; what is ambiguous in the reader's notation is
refused in their language, never guessed, and nothing is stored."""

import re
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient

from domain.agreement import REVENUE_GOAL
from domain.scoring import DEFAULT_POINTS
from smarketing.bootstrap import Services
from smarketing.importing import mapping as mappings
from smarketing.importing.parse import read_csv_text
from smarketing.importing.plan import lead_id_for, make_plan
from smarketing.importing.run import run_plan
from tests.integration.conftest import LoginFn, htmx
from tests.integration.test_import import MADRID

# Where each form's htmx request aims (the templates' hx-target).
ACTION = htmx("action-result")
BODY = htmx("agreement-body")
TERMS = htmx("terms-body")
PLAN = htmx("plan")
MONTH = "2026-10"


def plain(html: str) -> str:
    """Babel separates the number and the euro sign with a no-break space."""
    return html.replace("\u00a0", " ").replace("\u202f", " ")


def events(services: Services) -> int:
    return len(services.app.recorder.select_notifications(start=1, limit=10**7))


def opportunity(client: FlaskClient) -> str:
    """A new lead taken to Opportunity, ready to be won."""
    data = {"name": "Ana Ruiz", "email": "ana@example.com", "source": "webinar"}
    response = client.post("/leads/new", data=data)
    assert response.status_code == 303, response.data[:400]
    lead = response.headers["Location"].rsplit("/", 1)[1]
    for action, fields in [
        ("stage", {"to_stage": "MQL"}),
        ("owner", {"owner": "lucia", "team": "sales"}),
        ("stage", {"to_stage": "SQL"}),
        ("stage", {"to_stage": "Opportunity"}),
    ]:
        assert client.post(f"/leads/{lead}/{action}", data=fields, headers=ACTION).status_code == 200
    return lead


@pytest.fixture
def spanish(web_app: Flask, login: LoginFn) -> FlaskClient:
    return login(web_app.test_client(), "manager", lang="es")


@pytest.fixture
def english(web_app: Flask, login: LoginFn) -> FlaskClient:
    return login(web_app.test_client(), "manager", lang="en")


@pytest.mark.parametrize(
    ("typed", "stored", "shown"),
    [("12.000", Decimal("12000"), "12.000,00 €"), ("18.500,00", Decimal("18500"), "18.500,00 €")],
)
def test_spanish_amount_on_the_won_form_is_read_the_spanish_way(
    spanish: FlaskClient, services: Services, typed: str, stored: Decimal, shown: str
) -> None:
    lead = opportunity(spanish)
    response = spanish.post(f"/leads/{lead}/won", data={"amount": typed, "currency": "EUR"}, headers=ACTION)
    assert response.status_code == 200, response.data[:400]
    assert services.app.get_lead(lead)["won_amount"] == stored
    assert f"Negocio marcado como ganado: {shown}." in plain(response.get_data(as_text=True))


def test_english_amount_with_a_thousands_comma(english: FlaskClient, services: Services) -> None:
    lead = opportunity(english)
    response = english.post(f"/leads/{lead}/won", data={"amount": "12,000.50"}, headers=ACTION)
    assert response.status_code == 200, response.data[:400]
    assert services.app.get_lead(lead)["won_amount"] == Decimal("12000.50")
    assert "Deal marked as won: €12,000.50." in response.get_data(as_text=True)


@pytest.mark.parametrize("typed", ["12,000.50", "12.5", "1.2.3", "12.00", "1e5", "NaN", "doce"])
def test_amount_not_written_the_spanish_way_is_refused_in_spanish(
    spanish: FlaskClient, services: Services, typed: str
) -> None:
    lead = opportunity(spanish)
    before = events(services)
    response = spanish.post(f"/leads/{lead}/won", data={"amount": typed}, headers=ACTION)
    assert response.status_code == 422
    html = plain(response.get_data(as_text=True))
    assert f"«{typed}» no es un número escrito como aquí; escríbelo así: 12.000,50" in html
    assert "Importe" in html and 'role="alert"' in html
    assert events(services) == before
    assert services.app.get_lead(lead)["stage"] == "Opportunity"


def test_sla_target_in_spanish_notation(spanish: FlaskClient, services: Services) -> None:
    form = {"month": MONTH, "metric": REVENUE_GOAL, "value": "180.000"}
    response = spanish.post("/agreement/targets", data=form, headers=BODY)
    assert response.status_code == 200, response.data[:400]
    assert services.app.agreement_history()[-1]["value"] == Decimal("180000")
    assert "Objetivo guardado: " in response.get_data(as_text=True)
    assert "Ingresos de octubre de 2026 es 180.000,00 €." in plain(response.get_data(as_text=True))
    revised = form | {"value": "18.500,5", "reason": "Half-year plan"}
    assert spanish.post("/agreement/targets", data=revised, headers=BODY).status_code == 200
    assert services.app.agreement_history()[-1]["value"] == Decimal("18500.50")


def test_sla_target_ambiguous_in_spanish_is_refused_and_kept_in_the_form(
    spanish: FlaskClient, services: Services
) -> None:
    before = events(services)
    form = {"month": MONTH, "metric": REVENUE_GOAL, "value": "180,000.00"}
    response = spanish.post("/agreement/targets", data=form, headers=BODY)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "no es un número escrito como aquí" in html
    assert 'name="value" inputmode="decimal" required value="180,000.00"' in html  # as typed, to fix
    assert events(services) == before


def test_sla_target_in_english_notation(english: FlaskClient, services: Services) -> None:
    form = {"month": MONTH, "metric": REVENUE_GOAL, "value": "180,000"}
    response = english.post("/agreement/targets", data=form, headers=BODY)
    assert response.status_code == 200, response.data[:400]
    assert services.app.agreement_history()[-1]["value"] == Decimal("180000")
    assert "Target saved: Revenue for October 2026 is €180,000.00." in response.get_data(as_text=True)


def _terms_value(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" inputmode="decimal"[^>]*value="([^"]*)"', page)
    assert found, name
    return found.group(1)


def _scoring_form(page: str, reason: str) -> dict[str, str]:
    """The scoring form as the page fills it in."""
    form = {k: _terms_value(page, k) for k in ("half_life_days", "threshold")}
    form |= {f"points_{k}": _terms_value(page, f"points_{k}") for k in DEFAULT_POINTS}
    return form | {"mode": "flag", "reason": reason}


def test_terms_counts_in_spanish_round_trip(spanish: FlaskClient, services: Services) -> None:
    scoring = _scoring_form(spanish.get("/agreement/terms").get_data(as_text=True), "Stricter")
    response = spanish.post("/agreement/terms/scoring", data=scoring | {"threshold": "10.000"}, headers=TERMS)
    assert response.status_code == 200, response.data[:600]
    assert services.app.agreement_terms()["scoring"]["threshold"] == 10000
    page = spanish.get("/agreement/terms").get_data(as_text=True)
    assert _terms_value(page, "threshold") == "10.000"  # re-shown in the reader's notation...
    again = _scoring_form(page, "Slower decay") | {"half_life_days": "45"}  # the threshold as shown
    assert spanish.post("/agreement/terms/scoring", data=again, headers=TERMS).status_code == 200
    assert services.app.agreement_terms()["scoring"]["threshold"] == 10000  # ...and read back the same
    assert services.app.agreement_terms()["scoring"]["half_life_days"] == 45


@pytest.mark.parametrize(
    ("typed", "message"),
    [("2,5", "debe ser un número entero"), ("10,000.0", "no es un número escrito como aquí")],
)
def test_terms_count_with_decimals_is_refused_in_spanish(
    spanish: FlaskClient, services: Services, typed: str, message: str
) -> None:
    before = events(services)
    form = {"weekly_minutes": typed, "monthly_minutes": "60", "weekly_attendees": "Ana"}
    response = spanish.post("/agreement/terms/meetings", data=form, headers=TERMS)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert events(services) == before


def test_terms_minutes_in_english_notation(english: FlaskClient, services: Services) -> None:
    form = {"weekly_minutes": "45", "monthly_minutes": "120", "weekly_attendees": "Ana", "reason": "x"}
    assert english.post("/agreement/terms/meetings", data=form, headers=TERMS).status_code == 200
    assert services.app.agreement_terms()["meetings"]["monthly_minutes"] == 120


def test_plan_inputs_read_and_shown_in_the_readers_notation(
    spanish: FlaskClient, english: FlaskClient
) -> None:
    page = spanish.get(f"/agreement/plan?month={MONTH}&goal=100.000&avg_deal=2.500,5").get_data(as_text=True)
    assert 'name="goal" inputmode="decimal" value="100.000"' in page
    assert 'name="avg_deal" inputmode="decimal" value="2.500,5"' in page
    assert "100.000,00 €" in plain(page)
    refused = spanish.get(f"/agreement/plan?month={MONTH}&goal=100,000.00&avg_deal=5000", headers=PLAN)
    assert refused.status_code == 422
    assert "Objetivo de ingresos (EUR): «100,000.00» no es un número" in refused.get_data(as_text=True)
    page = english.get(f"/agreement/plan?month={MONTH}&goal=100,000&avg_deal=2,500.5").get_data(as_text=True)
    assert 'name="goal" inputmode="decimal" value="100,000"' in page
    assert 'name="avg_deal" inputmode="decimal" value="2,500.5"' in page


def test_imported_amount_that_reads_two_ways_is_rejected_not_guessed(services: Services) -> None:
    leads = "key,name,email,source,captured_at\nk1,Ana,ana@example.com,web,2025-03-03\n"
    leads += "k2,Bea,bea@example.com,web,2025-03-03\nk3,Cai,cai@example.com,web,2025-03-03\n"
    plan = make_plan(read_csv_text(leads), mappings.load("leads", "leads"), MADRID)
    assert run_plan(services.app, plan).imported == 3
    deals = 'key,won_at,amount\nk1,2025-04-01,12.000\nk2,2025-04-01,"12.000,50"\nk3,2025-04-01,"12,000.50"\n'
    mapping = mappings.from_json(
        {"kind": "deals", "columns": {"key": "key", "won_at": "won_at", "amount": "amount"}}, "deals"
    )
    result = run_plan(services.app, make_plan(read_csv_text(deals), mapping, MADRID))
    assert result.imported == 2
    ((rejected),) = result.errors
    assert (rejected.row, rejected.column) == (2, "amount") and "ambiguous" in rejected.reason
    assert services.app.get_lead(lead_id_for("csv", "k1"))["won_amount"] is None  # nothing stored
    for key in ("k2", "k3"):
        assert services.app.get_lead(lead_id_for("csv", key))["won_amount"] == Decimal("12000.50")
