"""Exports open right in the reader's spreadsheet: Spanish ``;`` and a decimal comma,
English ``,`` and a point, UTF-8 with a byte-order mark, figures rounded as the pages show
them; ``?format=raw`` gives the machine form (``,``, a point, full precision, no mark)."""

from datetime import UTC, datetime

from flask import Flask

from smarketing.bootstrap import Services
from tests.integration.conftest import LoginFn
from tests.integration.exported import exported_rows

MARCH = datetime(2025, 3, 10, 10, tzinfo=UTC)


def _one_win_in_three(services: Services) -> None:
    for n in range(3):
        lead_id = services.app.capture_lead(
            name=f"Lead {n}", email=f"lead{n}@example.com", source="events", occurred_at=MARCH
        )
        if n == 0:
            services.app.change_stage(lead_id, to_stage="MQL", occurred_at=MARCH)
            services.app.mark_won(lead_id, amount="1234.5", reason="Signed", occurred_at=MARCH)
    services.projector.catch_up()


def test_spanish_spreadsheet_convention(web_app: Flask, services: Services, login: LoginFn) -> None:
    _one_win_in_three(services)
    spanish = login(web_app.test_client(), "manager", lang="es")
    response = spanish.get("/export/scorecard.csv?month=2025-03")
    assert response.data.startswith("\ufeff".encode()) and response.mimetype == "text/csv"
    text = response.data.decode("utf-8-sig")
    assert text.startswith("metric;value\r\n")
    figures = {row["metric"]: row["value"] for row in exported_rows(response.data)}
    assert figures["lead_to_customer"] == "0,333"  # 33,3 % on the dashboard
    assert figures["revenue"] == "1234,50"
    leads = exported_rows(spanish.get("/leads/export.csv").data)
    assert {row["won_amount"] for row in leads} == {"1234,50", ""}
    assert all(len(row["captured_at"]) == 19 and "T" not in row["captured_at"] for row in leads)


def test_an_average_count_is_rounded_as_the_dashboard_shows_it(
    web_app: Flask, services: Services, login: LoginFn
) -> None:
    """Attempts per MQL (1, 1 and 2 attempts: 1.333…) read 1,3 as on the dashboard, not a raw float."""
    for n, attempts in enumerate((1, 1, 2)):
        lead_id = services.app.capture_lead(
            name=f"Lead {n}", email=f"lead{n}@example.com", source="events", occurred_at=MARCH
        )
        services.app.change_stage(lead_id, to_stage="MQL", occurred_at=MARCH)
        for _ in range(attempts):
            services.app.log_contact_attempt(lead_id, channel="phone", outcome="no_answer", occurred_at=MARCH)
    services.projector.catch_up()
    spanish = login(web_app.test_client(), "manager", lang="es")
    figures = {
        row["metric"]: row["value"]
        for row in exported_rows(spanish.get("/export/scorecard.csv?month=2025-03").data)
    }
    assert figures["attempts_per_mql"] == "1,3" and figures["mqls"] == "3"
    assert "1,3" in spanish.get("/?month=2025-03").get_data(as_text=True)
    raw = spanish.get("/export/scorecard.csv?month=2025-03&format=raw").get_data(as_text=True)
    assert "\r\nattempts_per_mql,1.3333333333333333\r\n" in raw


def test_english_spreadsheet_convention(web_app: Flask, services: Services, login: LoginFn) -> None:
    _one_win_in_three(services)
    english = login(web_app.test_client(), "manager", lang="en")
    text = english.get("/export/scorecard.csv?month=2025-03").data.decode("utf-8-sig")
    assert text.startswith("metric,value\r\n") and "\r\nlead_to_customer,0.333\r\n" in text
    funnel = exported_rows(english.get("/export/funnel.csv?month=2025-03").data)
    assert funnel[1]["stage"] == "MQL" and funnel[1]["conversion_from_previous"] == "0.333"


def test_raw_format_for_machines(web_app: Flask, services: Services, login: LoginFn) -> None:
    _one_win_in_three(services)
    spanish = login(web_app.test_client(), "manager", lang="es")
    response = spanish.get("/export/scorecard.csv?month=2025-03&format=raw")
    assert not response.data.startswith("\ufeff".encode())
    text = response.data.decode()
    assert text.startswith("metric,value\r\n") and "\r\nlead_to_customer,0.3333333333333333\r\n" in text
    leads = exported_rows(spanish.get("/leads/export.csv?format=raw").data)
    assert all(row["captured_at"].endswith("+01:00") for row in leads)  # ISO 8601 with the offset
    refused = spanish.get("/export/funnel.csv?format=xlsx")
    assert refused.status_code == 422
    message = "Formato: debe ser «sheet» (el formato de su hoja de cálculo) o «raw»"
    assert message in refused.get_data(as_text=True)
