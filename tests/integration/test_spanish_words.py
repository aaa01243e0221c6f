"""Words the app itself writes, read in Spanish: roles, weekdays, meeting periods and the
dates of the attention lists (they were English keys, Mon–Sun, "weekly 2026-W50" and ISO)."""

import re
from datetime import UTC, datetime

import time_machine
from flask import Flask

from tests.integration.conftest import LoginFn, htmx

HX = htmx("action-result")  # where the lead page's action forms aim (hx-target)


def test_roles_read_in_the_readers_language(web_app: Flask, login: LoginFn) -> None:
    spanish = login(web_app.test_client(), "admin", lang="es")
    page = spanish.get("/users/").get_data(as_text=True)
    assert "(Administrador)" in page  # the signed-in user in the menu
    assert '<option value="manager">Responsable</option>' in page
    assert '<option value="sales">Ventas</option>' in page
    assert ">manager<" not in page and "(admin)" not in page
    english = login(web_app.test_client(), "admin", lang="en")
    assert '<option value="manager">Manager</option>' in english.get("/users/").get_data(as_text=True)


def test_working_days_are_spanish_weekdays(web_app: Flask, login: LoginFn) -> None:
    page = login(web_app.test_client(), "manager", lang="es").get("/agreement/terms").get_data(as_text=True)
    boxes = re.findall(r'name="workdays" value="(\d)"[^>]*> (\w+)</label>', page)
    assert [name for _, name in boxes] == ["lun", "mar", "mié", "jue", "vie", "sáb", "dom"]
    assert [int(value) for value, _ in boxes] == list(range(7))  # the stored values stay 0 = Monday


def test_meeting_periods_in_words(web_app: Flask, login: LoginFn) -> None:
    spanish = login(web_app.test_client(), "manager", lang="es")
    weekly = spanish.get("/meetings/weekly?week=2026-W50").get_data(as_text=True)
    assert "semana 50 de 2026</h1>" in weekly
    monthly = spanish.get("/meetings/monthly?month=2026-10").get_data(as_text=True)
    assert "octubre de 2026</h1>" in monthly
    english = login(web_app.test_client(), "manager", lang="en")
    assert "week 50 of 2026</h1>" in english.get("/meetings/weekly?week=2026-W50").get_data(as_text=True)


def test_attention_list_times_read_as_elsewhere(web_app: Flask, login: LoginFn) -> None:
    with time_machine.travel(datetime(2026, 11, 3, 9, 5, tzinfo=UTC), tick=True):
        marketing = login(web_app.test_client(), "marketing", lang="es")
        lead = {"name": "Ada Lovelace", "email": "ada@example.com", "source": "webinar"}
        response = marketing.post("/leads/new", data=lead)
        assert response.status_code == 303, response.data[:300]
        lead_page = response.headers["Location"]
        assert marketing.post(f"{lead_page}/stage", data={"to_stage": "MQL"}, headers=HX).status_code == 200
    with time_machine.travel(datetime(2026, 11, 5, 12, 0, tzinfo=UTC), tick=True):
        manager = login(web_app.test_client(), "manager", lang="es")
        page = manager.get("/agreement/attention").get_data(as_text=True)
    assert "Ada Lovelace" in page
    assert "<td>3/11/26, 10:05</td>" in page  # 09:05 UTC is 10:05 in Madrid, Babel's short form
    assert not re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", page)
