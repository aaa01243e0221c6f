"""The daily loop's pages, in Spanish: Mis tareas grouped overdue / today / upcoming in
the team's zone, the lead page's task forms, marketing's returned queue, the rules page,
the timeline's "assigned by the rule" line, and readable 4xx answers."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask import Flask

from domain.validation import utc_now
from projections.queries.tasks_query import group_of
from smarketing.extensions import KEY
from smarketing.service import daily_loop
from tests.integration.conftest import LoginFn, do_login, ensure_user


def test_group_of_reads_today_in_the_teams_zone() -> None:
    from zoneinfo import ZoneInfo

    madrid = ZoneInfo("Europe/Madrid")
    now = datetime(2026, 3, 10, 22, 30, tzinfo=UTC)  # 23:30 in Madrid
    assert group_of(now - timedelta(minutes=1), now, madrid) == "overdue"
    assert group_of(datetime(2026, 3, 10, 22, 45, tzinfo=UTC), now, madrid) == "today"
    assert group_of(datetime(2026, 3, 10, 23, 15, tzinfo=UTC), now, madrid) == "upcoming"  # 00:15 tomorrow


def _lead(app: Flask, n: int) -> str:
    svc = app.extensions[KEY]
    return str(svc.app.capture_lead(name=f"Lead {n}", email=f"p{n}@example.org", source="webinar"))


def test_mis_tareas_groups_overdue_today_and_upcoming_in_spanish(make_web_app: Callable[..., Flask]) -> None:
    app = make_web_app()
    client = do_login(app.test_client(), "sales", "es")
    svc = app.extensions[KEY]
    now = utc_now()
    lead_id = _lead(app, 1)
    for title, due in (("Llamar ya", now - timedelta(hours=1)), ("Más tarde", now + timedelta(days=3))):
        daily_loop.create_task(svc, lead_id, title=title, assignee="test-sales", due_at=due)
    svc.projector.catch_up()
    page = client.get("/tasks/").get_data(as_text=True)
    assert "Mis tareas" in page and "Vencidas (1)" in page and "Próximas (1)" in page
    assert page.index("Llamar ya") < page.index("Más tarde")
    assert '<span class="badge" aria-label="tareas abiertas">2</span>' in page


def test_lead_page_task_forms_complete_reopen_and_refuse_bad_input(
    make_web_app: Callable[..., Flask], login: LoginFn
) -> None:
    app = make_web_app()
    client = login(app.test_client(), "sales")
    lead_id = _lead(app, 2)
    page = client.get(f"/leads/{lead_id}").get_data(as_text=True)
    assert 'id="lead-tasks"' in page and 'name="idempotency_key"' in page
    missing = client.post(f"/leads/{lead_id}/tasks", data={"title": "Call", "due_at": ""})
    assert missing.status_code == 422
    bad = client.post(f"/leads/{lead_id}/tasks", data={"title": "Call", "due_at": "mañana"})
    assert bad.status_code == 422 and b"2026-10-03T14:30" in bad.data
    made = client.post(
        f"/leads/{lead_id}/tasks",
        data={"title": "Send the proposal", "due_at": "2030-01-02T10:00"},
        headers={"HX-Request": "true", "HX-Target": "lead-tasks"},
    )
    assert made.status_code == 200 and "Send the proposal" in made.get_data(as_text=True)
    svc = app.extensions[KEY]
    from projections.queries.tasks_query import lead_task_rows

    with svc.read_engine.connect() as conn:
        (task,) = lead_task_rows(conn, lead_id)
    assert task["assignee"] == "test-sales"
    assert client.post(f"/tasks/{task['id']}/complete").status_code == 303
    assert client.post(f"/tasks/{task['id']}/complete").status_code == 422  # no longer open
    assert client.post(f"/tasks/{task['id']}/reopen").status_code == 303
    assert client.post("/tasks/not-a-task/complete").status_code == 404


def test_rules_assign_an_mql_from_the_lead_page_and_rejects_go_to_marketing(
    make_web_app: Callable[..., Flask], login: LoginFn
) -> None:
    app = make_web_app()
    ensure_user(app, "sales", "ana")
    ensure_user(app, "marketing", "marta")
    manager = do_login(app.test_client(), "manager", "es")
    saved = manager.post("/agreement/assignment", data={"by-0": "round_robin", "returns_to": "marta"})
    assert saved.status_code == 200 and "Reglas de asignación guardadas" in saved.get_data(as_text=True)
    lead_id = _lead(app, 3)
    marketing = do_login(app.test_client(), "marketing", "es")
    assert marketing.post(f"/leads/{lead_id}/stage", data={"to_stage": "MQL"}).status_code == 200
    svc = app.extensions[KEY]
    assert svc.app.get_lead(lead_id)["owner"] == "ana"
    page = marketing.get(f"/leads/{lead_id}").get_data(as_text=True)
    assert "Asignado a ana por la regla «reparto rotatorio»" in page
    sales = do_login(app.test_client(), "sales", "es")
    assert sales.post(f"/leads/{lead_id}/reject", data={"reason": "Sin presupuesto"}).status_code == 200
    returned = marketing.get("/returned/").get_data(as_text=True)
    assert "Devueltos por ventas" in returned and "Sin presupuesto" in returned and "marta" in returned
    assert sales.get("/returned/").status_code == 403
