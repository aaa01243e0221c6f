"""The won form offers the agreement's base currency first (it offered EUR whatever the base)."""

from flask import Flask

from smarketing.bootstrap import Services
from tests.integration.conftest import LoginFn


def test_the_won_form_offers_the_base_currency(web_app: Flask, services: Services, login: LoginFn) -> None:
    lead_id = services.app.capture_lead(name="Ana", email="ana@example.com", source="events")
    services.app.change_stage(lead_id, to_stage="MQL")
    services.projector.catch_up()
    sales = login(web_app.test_client(), "sales", lang="es")
    page = f"/leads/{lead_id.replace('-', '')}"
    assert '<input name="currency" value="EUR" maxlength="3">' in sales.get(page).get_data(as_text=True)
    services.app.set_base_currency("BRL", reason="Brazilian team")
    services.projector.catch_up()
    assert '<input name="currency" value="BRL" maxlength="3">' in sales.get(page).get_data(as_text=True)
