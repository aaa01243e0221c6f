"""The lead page says where the lead stands: time in stage, score, the SLA follow-up
deadline (red once passed) and how long the first contact took, and links to its replay."""

from datetime import UTC, datetime

import time_machine
from flask import Flask

from smarketing.bootstrap import Services
from tests.integration.conftest import LoginFn

MQL_AT = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Madrid


def test_follow_up_deadline_overdue_then_met(web_app: Flask, services: Services, login: LoginFn) -> None:
    lead_id = services.app.capture_lead(
        name="Ana", email="ana@example.com", source="events", occurred_at=MQL_AT
    )
    services.app.change_stage(lead_id, to_stage="MQL", occurred_at=MQL_AT)
    services.projector.catch_up()
    page_url = f"/leads/{lead_id.replace('-', '')}"
    with time_machine.travel(datetime(2026, 11, 5, 9, 0, tzinfo=UTC), tick=True):
        manager = login(web_app.test_client(), "manager", lang="es")
        page = manager.get(page_url).get_data(as_text=True)
        # 24 elapsed hours by default: due Wednesday 10:00 in Madrid, passed by Thursday.
        assert "En esta etapa desde hace 2 días" in page
        assert 'class="status-missed">4/11/26, 10:00 (vencido)' in page
        assert "Puntuación: <strong>0,0</strong>" in page  # no scored interaction yet
        assert f'href="/audit/leads/{lead_id.replace("-", "")}?step=1"' in page
        services.app.log_contact_attempt(lead_id, channel="phone", outcome="connected")
        services.projector.catch_up()
        page = manager.get(page_url).get_data(as_text=True)
        assert "(vencido)" not in page and "Primer seguimiento al cabo de 2 días" in page
        sales = login(web_app.test_client(), "sales", lang="es")
        assert "/audit/leads/" not in sales.get(page_url).get_data(as_text=True)  # not theirs to read
