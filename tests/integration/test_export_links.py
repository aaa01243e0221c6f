"""Each page that has an export links to it, with the page's own filters."""

from flask import Flask

from smarketing.bootstrap import Services
from tests.integration.conftest import LoginFn


def test_dashboard_and_lead_list_link_their_downloads(
    web_app: Flask, services: Services, login: LoginFn
) -> None:
    services.app.capture_lead(name="Ana", email="ana@example.com", source="events")
    services.projector.catch_up()
    manager = login(web_app.test_client(), "manager", lang="es")
    dashboard = manager.get("/?month=2026-10&source=events").get_data(as_text=True)
    assert "/export/scorecard.csv?month=2026-10&amp;source=events" in dashboard
    assert "/export/funnel.csv?month=2026-10&amp;source=events" in dashboard
    leads = manager.get("/leads/?source=events&sort=name").get_data(as_text=True)
    assert 'href="/leads/export.csv?source=events&amp;sort=name"' in leads
    assert "Descargar estos leads (CSV)" in leads
    # The rows htmx swaps in for a changed filter carry the link for that filter.
    rows = manager.get("/leads/?source=social", headers={"HX-Request": "true", "HX-Target": "lead-rows"})
    assert "Descargar estos leads" not in rows.get_data(
        as_text=True
    )  # no lead from social: nothing to download
