"""An admin erases a person's data from the lead page: the e-mail typed again confirms it,
a reason is required, and the page then says when the data was erased."""

from datetime import UTC, datetime

import time_machine
from flask import Flask

from smarketing.bootstrap import Services
from tests.integration.conftest import LoginFn, htmx

HX = htmx("action-result")  # where the erasure form aims (hx-target)


def test_admin_erases_from_the_lead_page(web_app: Flask, services: Services, login: LoginFn) -> None:
    with time_machine.travel(datetime(2026, 11, 20, 9, 30, tzinfo=UTC), tick=True):
        _erase_from_the_page(web_app, services, login)


def _erase_from_the_page(web_app: Flask, services: Services, login: LoginFn) -> None:
    lead_id = services.app.capture_lead(name="Zelda Quimbyworth", email="zelda@example.com", source="events")
    services.projector.catch_up()
    url = f"/leads/{lead_id.replace('-', '')}"
    admin = login(web_app.test_client(), "admin", lang="es")
    page = admin.get(url).get_data(as_text=True)
    assert "Borrar los datos personales" in page
    wrong = admin.post(
        f"{url}/erase", data={"confirm_email": "other@example.com", "reason": "RGPD-7"}, headers=HX
    )
    assert wrong.status_code == 422
    assert "escriba exactamente el correo del lead" in wrong.get_data(as_text=True)
    assert services.app.get_lead(lead_id)["name"] == "Zelda Quimbyworth"  # nothing erased
    no_reason = admin.post(f"{url}/erase", data={"confirm_email": "zelda@example.com"}, headers=HX)
    assert no_reason.status_code == 422
    # The clock is the caller's (09:30 and ticking): travelling back to 09:30 here would date
    # the request before the session's signature, which itsdangerous refuses (a 401 at times).
    typed = {"confirm_email": "ZELDA@example.com", "reason": "RGPD-7"}
    done = admin.post(f"{url}/erase", data=typed, headers=HX)
    assert done.status_code == 200 and "Datos personales borrados." in done.get_data(as_text=True)
    page = admin.get(url).get_data(as_text=True)
    assert "Zelda" not in page and "zelda@example.com" not in page
    assert "Datos personales borrados el 20/11/26, 10:30." in page and "<h1>(borrado)" in page
    assert "Borrar los datos personales" not in page  # nothing left to erase
    assert "PersonalDataErased" not in page  # the timeline says it in words


def test_only_admins_may_erase(web_app: Flask, services: Services, login: LoginFn) -> None:
    lead_id = services.app.capture_lead(name="Ana", email="ana@example.com", source="events")
    services.projector.catch_up()
    url = f"/leads/{lead_id.replace('-', '')}"
    for role in ("manager", "sales", "marketing", "auditor"):
        client = login(web_app.test_client(), role)
        assert "Erase personal data" not in client.get(url).get_data(as_text=True)
        refused = client.post(f"{url}/erase", data={"confirm_email": "ana@example.com", "reason": "x"})
        assert refused.status_code == 403, role
    assert services.app.get_lead(lead_id)["name"] == "Ana"
