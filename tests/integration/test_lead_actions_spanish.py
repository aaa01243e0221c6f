"""Every action on a lead page answers in Spanish: its confirmation, and its refusal of a
wrong form (the answers the lead page swaps into #action-result)."""

import re

import pytest
from flask import Flask

from smarketing.bootstrap import Services
from tests.integration.conftest import LoginFn, htmx

HX = htmx("action-result")  # where the lead page's action forms aim (hx-target)
pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

# action -> (stages to walk first, a good form, its Spanish confirmation, a wrong form)
ACTIONS = {
    "interaction": ((), {"kind": "call", "channel": "phone"}, "Interacción registrada.", {"kind": "dance"}),
    "attempt": (
        ("MQL",),
        {"channel": "phone", "outcome": "no_answer"},
        "Intento de contacto registrado.",
        {},
    ),
    "owner": ((), {"owner": "ana", "team": "sales"}, "Responsable asignado.", {"owner": "", "team": "sales"}),
    "stage": ((), {"to_stage": "MQL"}, "Etapa cambiada.", {"to_stage": "Customer"}),
    "reject": (("MQL",), {"reason": "Sin presupuesto"}, "MQL devuelto a marketing.", {"reason": ""}),
    "won": (
        ("MQL", "SQL", "Opportunity"),
        {"amount": "1.500"},
        "Negocio marcado como ganado",
        {"amount": "abc"},
    ),
    "lost": (("MQL", "SQL"), {"reason": "Precio"}, "Negocio marcado como perdido.", {"reason": ""}),
}
ENGLISH = re.compile(r"\b(must|required|is not|cannot|already|Interaction|recorded|changed|marked)\b")


@pytest.mark.parametrize("action", list(ACTIONS))
def test_each_lead_action_answers_in_spanish(
    web_app: Flask, services: Services, login: LoginFn, action: str
) -> None:
    stages, good, confirmation, wrong = ACTIONS[action]
    lead_id = services.app.capture_lead(name="Ana", email=f"{action}@example.com", source="events")
    for stage in stages:
        services.app.change_stage(lead_id, to_stage=stage)
    services.projector.catch_up()
    manager = login(web_app.test_client(), "manager", lang="es")
    url = f"/leads/{lead_id.replace('-', '')}/{action}"
    refused = manager.post(url, data=wrong, headers=HX)
    assert 400 <= refused.status_code < 500, refused.get_data(as_text=True)[:300]
    text = re.sub(r"<[^>]+>", " ", refused.get_data(as_text=True))
    assert not ENGLISH.search(text), text[:300]
    answered = manager.post(url, data=good, headers=HX)
    assert answered.status_code == 200, answered.get_data(as_text=True)[:300]
    assert confirmation in answered.get_data(as_text=True)
