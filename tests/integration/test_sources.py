"""Sources from the shared vocabulary, on both backends: what a form, the API or an
import types lands on the vocabulary's key; unknown values wait as new sources;
accept and merge are events; merged leads count under the target everywhere,
except in a sealed month's report; filters show labels in either language."""

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from domain.vocabulary_book import vocabulary_id
from projections.queries.funnel_query import funnel, funnel_breakdown
from projections.queries.leads_query import LeadQuery, list_leads
from projections.queries.scorecard_query import scorecard_actuals
from smarketing.audit.chain import seal_month
from smarketing.bootstrap import Services
from smarketing.importing import mapping as mappings
from smarketing.importing.parse import read_csv_text
from smarketing.importing.plan import lead_id_for, make_plan
from smarketing.importing.run import run_plan
from smarketing.reports.replay import monthly_figures
from smarketing.service import integrations
from tests.integration.exported import exported_rows

MADRID = ZoneInfo("Europe/Madrid")
NOW = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
MONTH = "2026-03"


@pytest.fixture
def manager(web_app: Flask, login: Callable) -> FlaskClient:
    return login(web_app.test_client(), "manager")


def _capture(svc: Services, n: int, source: str, **fields: object) -> str:
    return svc.app.capture_lead(name=f"Lead {n}", email=f"s{n}@example.org", source=source, **fields)


def _book(svc: Services) -> list[str]:
    return [type(e).__name__ for e in svc.app.repository.event_store.get(vocabulary_id())]


def test_the_form_stores_a_typed_label_as_the_known_source(web_app: Flask, manager: FlaskClient) -> None:
    svc = web_app.extensions["smarketing"]
    for n, typed in enumerate(["Eventos", "eventos", "EVENTS", "Eventos ", "Webinar X"]):
        response = manager.post(
            "/leads/new", data={"name": f"Ana {n}", "email": f"a{n}@example.com", "source": typed}
        )
        assert response.status_code == 303, response.data[:300]
    sources = [lead["source"] for lead in _all_leads(svc)]
    assert sorted(sources) == ["events"] * 4 + ["webinar_x"]
    form = manager.get("/leads/new").get_data(as_text=True)
    assert '<option value="events"' in form and ">Events</option>" in form  # a select, with labels


def test_the_api_maps_the_source_and_says_which_key_it_stored(web_app: Flask, services: Services) -> None:
    token = integrations.create_token(services.write_engine, "website")
    client = web_app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    body = {"name": "Ana", "email": "api1@example.com", "source": "EVENTOS"}
    created = client.post("/api/v1/leads", json=body, headers=headers)
    assert created.status_code == 201 and created.json["source"] == "events"
    other = client.post(
        "/api/v1/leads", json=body | {"email": "api2@example.com", "source": "Webinar X"}, headers=headers
    )
    assert other.status_code == 201 and other.json["source"] == "webinar_x"


def test_an_import_maps_sources_and_campaigns(web_app: Flask, services: Services) -> None:
    _capture(services, 1, "social", campaign="feria-digital")
    services.projector.catch_up()
    text = (
        "key,name,email,source,campaign,captured_at\n"
        "i1,Ana,i1@example.com,Eventos ,Feria Digital,2026-01-05\n"
        "i2,Bea,i2@example.com,búsqueda ORGÁNICA,,2026-01-06\n"
        "i3,Cai,i3@example.com,Webinar X,,2026-01-07\n"
    )
    with web_app.app_context():
        from smarketing.present.source_words import resolver

        plan = make_plan(read_csv_text(text), mappings.load("leads", "leads"), MADRID, sources=resolver())
    assert run_plan(services.app, plan).imported == 3
    lead = services.app.get_lead(lead_id_for("csv", "i1"))
    assert (lead["source"], lead["campaign"]) == ("events", "feria-digital")
    assert services.app.get_lead(lead_id_for("csv", "i2"))["source"] == "organic_search"
    assert services.app.get_lead(lead_id_for("csv", "i3"))["source"] == "webinar_x"


def _all_leads(svc: Services) -> list[dict]:
    svc.projector.catch_up()
    with svc.read_engine.connect() as conn:
        return list_leads(conn, LeadQuery(limit=1000), NOW)["leads"]


def test_new_sources_are_listed_then_accepted_with_labels(
    web_app: Flask, services: Services, manager: FlaskClient
) -> None:
    _capture(services, 1, "Webinar X")
    services.projector.catch_up()
    page = manager.get("/agreement/vocabulary").get_data(as_text=True)
    assert 'class="new-source"><td><code>webinar_x</code>' in page
    refused = manager.post("/agreement/vocabulary/source-accept", data={"key": "webinar_x", "label_es": ""})
    assert refused.status_code == 422 and "Spanish label" in refused.get_data(as_text=True)
    form = {"key": "webinar_x", "label_es": "Seminario web X", "label_en": "Webinar X", "sourced_by": "sales"}
    assert manager.post("/agreement/vocabulary/source-accept", data=form).status_code == 303
    assert _book(services)[-1] == "SourceAccepted"
    page = manager.get("/agreement/vocabulary").get_data(as_text=True)
    assert 'class="new-source"' not in page and "Seminario web X" in page
    # Now known: typed by its Spanish label it lands on the key, credited to sales.
    lead = services.app.get_lead(_capture(services, 2, "seminario WEB x"))
    assert (lead["source"], lead["sourced_by"]) == ("webinar_x", "sales")
    spanish = manager.get("/leads/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert ">Seminario web X</option>" in spanish and ">webinar_x<" not in spanish
    assert ">Webinar X</option>" in manager.get("/leads/").get_data(as_text=True)


def test_a_merge_counts_the_leads_under_the_target_everywhere(
    web_app: Flask, services: Services, login: Callable
) -> None:
    with time_machine.travel(NOW, tick=True):
        manager = login(web_app.test_client(), "manager")  # logged in at the travelled time
        for n in range(2):
            _capture(services, n, "events")
        ferias = _capture(services, 2, "Ferias")
        cold = _capture(services, 3, "Prospección fría")
        services.app.mark_won(cold, amount="1000", reason="signed")
        services.app.mark_won(ferias, amount="500", reason="signed")
        services.projector.catch_up()
        with services.read_engine.connect() as conn:
            assert funnel(conn, MONTH, source="events")["stages"][0]["count"] == 2
            assert scorecard_actuals(conn, MONTH)["marketing_revenue"].value == 1500
        for key, into in (("ferias", "events"), ("prospeccion_fria", "outbound")):
            form = {"key": key, "into": into, "reason": "same source"}
            merged = manager.post("/agreement/vocabulary/source-merge", data=form)
            assert merged.status_code == 303 and merged.headers["Location"].endswith("/agreement/vocabulary")
        assert _book(services)[-2:] == ["SourceMerged", "SourceMerged"]
        assert services.app.get_lead(ferias)["source"] == "ferias"  # the lead's events stay as recorded
        with services.read_engine.connect() as conn:
            assert funnel(conn, MONTH, source="events")["stages"][0]["count"] == 3
            by_source = {
                row["value"]: row["counts"]["Lead"] for row in funnel_breakdown(conn, "source", MONTH)
            }
            assert by_source == {"events": 3, "outbound": 1}
            assert scorecard_actuals(conn, MONTH, source="events")["leads"] == 3
            assert scorecard_actuals(conn, MONTH, source="events")["revenue"].value == 500
            assert (
                scorecard_actuals(conn, MONTH)["marketing_revenue"].value == 500
            )  # cold calls credit sales now
            listed = list_leads(conn, LeadQuery(source="events"), NOW)["leads"]
            assert len(listed) == 3
        dashboard = manager.get(f"/?month={MONTH}").get_data(as_text=True)
        assert '<option value="events"' in dashboard and 'value="ferias"' not in dashboard
        filtered = manager.get(f"/?month={MONTH}&source=events").get_data(as_text=True)
        assert filtered.count('value="events" selected') == 1
        # Typing the merged source again lands on the target.
        assert services.app.get_lead(_capture(services, 9, "FERIAS"))["source"] == "events"


def test_a_merge_recorded_after_the_seal_leaves_the_sealed_month_report_alone(services: Services) -> None:
    with time_machine.travel(NOW, tick=True):
        _capture(services, 1, "events")
        _capture(services, 2, "Ferias")
        services.projector.catch_up()
    seal_month(services, MONTH, now=datetime(2026, 4, 2, tzinfo=UTC))
    with time_machine.travel(NOW + timedelta(days=30), tick=True):
        services.app.merge_source("ferias", "events", "same thing")
        services.projector.catch_up()
        with services.read_engine.connect() as conn:  # live figures apply the merge
            assert [r["value"] for r in funnel_breakdown(conn, "source", MONTH)] == ["events"]
        figures = monthly_figures(services, MONTH, today=date(2026, 4, 9))
    assert sorted(r["value"] for r in figures.breakdowns["source"]) == ["events", "ferias"]


def test_filters_show_labels_in_spanish_and_english(
    web_app: Flask, services: Services, login: Callable
) -> None:
    with time_machine.travel(NOW, tick=True):
        _capture(services, 1, "organic_search")
        _capture(services, 2, "events")
        services.projector.catch_up()
        for lang, words in (("es", ("Búsqueda orgánica", "Eventos")), ("en", ("Organic search", "Events"))):
            client = login(web_app.test_client(), "manager", lang)
            for url in ("/leads/", f"/?month={MONTH}"):
                html = client.get(url).get_data(as_text=True)
                for word in words:
                    assert f">{word}</option>" in html, (lang, url, word)
                assert ">organic_search</option>" not in html
            vocabulary = client.get("/agreement/vocabulary").get_data(as_text=True)
            assert ("Orígenes de los leads" in vocabulary) == (
                lang == "es"
            ) and "Búsqueda orgánica" in vocabulary
            chart = client.get(f"/?month={MONTH}&source=organic_search").get_data(as_text=True)
            assert f'value="organic_search" selected>{words[0]}</option>' in chart
            # The export keeps the key for machines and adds the words for people.
            rows = exported_rows(client.get("/leads/export.csv").data)
            assert {(r["source"], r["source_label"]) for r in rows} == {
                ("organic_search", words[0]),
                ("events", words[1]),
            }


def test_a_campaign_gets_labels_and_the_lists_show_them(
    web_app: Flask, services: Services, manager: FlaskClient
) -> None:
    _capture(services, 1, "events", campaign="feria-digital")
    services.projector.catch_up()
    # Typed differently later, it is written as the campaign the leads already carry.
    web = manager.post(
        "/leads/new",
        data={"name": "Bea", "email": "b@example.com", "source": "events", "campaign": "Feria Digital"},
    )
    assert web.status_code == 303
    assert {lead["campaign"] for lead in _all_leads(services)} == {"feria-digital"}
    form = {"key": "feria-digital", "label_es": "Feria digital 2026", "label_en": "Digital fair 2026"}
    assert manager.post("/agreement/vocabulary/campaign", data=form).status_code == 303
    assert _book(services)[-1] == "CampaignLabelled"
    assert ">Digital fair 2026</option>" in manager.get("/leads/").get_data(as_text=True)
    spanish = manager.get("/leads/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert ">Feria digital 2026</option>" in spanish and ">feria-digital</option>" not in spanish
