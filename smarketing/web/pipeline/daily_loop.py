"""The daily loop's pages: Mis tareas (overdue, today, upcoming; a manager also sees
each person's load), the MQLs sales returned to marketing, the assignment rules, and
the task forms on the lead page (htmx fragments of ``partials/lead_tasks.html``)."""

from typing import Any

from flask import Blueprint, Flask, Response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from domain.assignment import MATCHED_FIELDS, ROUND_ROBIN
from domain.task import TaskKind
from domain.validation import utc_now
from projections.queries.tasks_query import lead_task_rows, my_tasks, open_count, returned_list, team_load
from smarketing.extensions import services
from smarketing.service import daily_loop, users
from smarketing.service.away import available_sales
from smarketing.web.core.access import can
from smarketing.web.core.catch_up import catch_up_after_write
from smarketing.web.core.hx import page_or_fragment, vary_on_htmx, wants_fragment
from smarketing.web.input import forms

bp = Blueprint("loop", __name__)

TASKS_TARGET = "lead-tasks"
RULE_ROWS = 6


@bp.get("/tasks/")
def my_tasks_page() -> Response:
    svc = services()
    now = utc_now()
    with svc.read_engine.connect() as conn:
        groups = my_tasks(conn, current_user.username, now, svc.settings.tz)
        load = team_load(conn, now, svc.settings.tz) if can("report.read") else []
    return page_or_fragment("tasks.html", "tasks.html", (), groups=groups, load=load)


@bp.get("/returned/")
def returned() -> Response:
    with services().read_engine.connect() as conn:
        rows = returned_list(conn)
    return page_or_fragment("returned.html", "returned.html", (), rows=rows)


@bp.post("/leads/<lead_id>/tasks")
def create_task(lead_id: str) -> Response:
    svc = services()
    daily_loop.create_task(
        svc,
        lead_id,
        title=forms.text(request.form, "title"),
        assignee=forms.text(request.form, "assignee") or current_user.username,
        due_at=forms.business_time(request.form, svc.settings.tz, "due_at"),
    )
    return _after_task_write(lead_id, _("Task created."))


@bp.post("/tasks/<task_id>/<action>")
def change_task(task_id: str, action: str) -> Response:
    lead_id = daily_loop.change_task(services(), task_id, action, forms.text(request.form, "text"))
    return _after_task_write(lead_id, _("Task updated."))


def _after_task_write(lead_id: str, message: str) -> Response:
    catch_up_after_write()
    if wants_fragment(TASKS_TARGET):
        return vary_on_htmx(
            Response(render_template("partials/lead_tasks.html", **lead_tasks(lead_id), message=message))
        )
    return redirect(url_for("lead_page.show", lead_id=lead_id), 303)  # type: ignore[return-value]


def lead_tasks(lead_id: str) -> dict[str, Any]:
    """What ``partials/lead_tasks.html`` shows for a lead (the lead page includes it)."""
    svc = services()
    with svc.read_engine.connect() as conn:
        tasks = lead_task_rows(conn, lead_id)
    return {"tasks": tasks, "task_lead_id": lead_id, "task_users": available_sales(svc.read_engine)}


@bp.route("/agreement/assignment", methods=["GET", "POST"])
def rules() -> Response:
    svc = services()
    message = ""
    if request.method == "POST":
        rows = [
            {"by": request.form.get(f"by-{n}", ""), "value": forms.text(request.form, f"value-{n}"),
             "user": forms.text(request.form, f"user-{n}")}
            for n in range(RULE_ROWS)
        ]  # fmt: skip
        chosen = [row for row in rows if row["by"]]
        daily_loop.set_assignment_rules(svc, chosen, forms.text(request.form, "returns_to"))
        catch_up_after_write()
        message = _("Assignment rules saved.")
    current, returns_to = daily_loop.assignment_rules(svc)
    padded = current + [{"by": "", "value": "", "user": ""}] * (RULE_ROWS - len(current))
    return page_or_fragment(
        "assignment_rules.html",
        "assignment_rules.html",
        (),
        rules=padded[:RULE_ROWS],
        returns_to=returns_to,
        kinds=(ROUND_ROBIN, *MATCHED_FIELDS),
        message=message,
        team=[user for user in users.list_users(svc.write_engine) if user.active],
    )


def _task_title(task: dict[str, Any]) -> str:
    if task["kind"] == TaskKind.FOLLOW_UP:
        return _("SLA follow-up")
    if task["kind"] == TaskKind.ATTEMPT:
        return _("Contact attempt %(n)s", n=task["attempt"])
    return str(task["title"])


STATUS = {"open": _l("open"), "done": _l("done"), "cancelled": _l("cancelled")}
ACTIONS = {"complete": _l("Complete"), "cancel": _l("Cancel"), "reopen": _l("Reopen")}


def _task_count() -> int:
    if not getattr(current_user, "is_authenticated", False):
        return 0
    with services().read_engine.connect() as conn:
        return open_count(conn, current_user.username)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["my_task_count"] = _task_count
    app.jinja_env.globals["lead_tasks"] = lead_tasks
    app.jinja_env.globals["task_title"] = _task_title
    app.jinja_env.globals["task_status"] = lambda status: str(STATUS.get(status, status))
    app.jinja_env.globals["task_action"] = lambda action: str(ACTIONS.get(action, action))
