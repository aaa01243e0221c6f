"""The daily loop's read side: a lead's tasks, a user's tasks by when they are due,
the team's load, and the MQLs sales handed back to marketing (plain dicts)."""

from datetime import datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, select

from domain.task import TaskStatus
from projections.engine.schema import from_db
from projections.models.lead_summary import lead_summary
from projections.models.tasks import lead_tasks, returned_mqls

GROUPS = ("overdue", "today", "upcoming")


def _task(row: Any) -> dict[str, Any]:
    task = dict(row._mapping)
    task["due_at"] = from_db(task["due_at"])
    task["closed_at"] = from_db(task["closed_at"])
    task["created_at"] = from_db(task["created_at"])
    task["id"] = str(UUID(task["task_id"]))
    task["lead"] = str(UUID(task["lead_id"]))
    return task


def lead_task_rows(conn: Connection, lead_id: str) -> list[dict[str, Any]]:
    """Every task of the lead, by due time (then creation)."""
    query = (
        select(lead_tasks)
        .where(lead_tasks.c.lead_id == UUID(lead_id).hex)
        .order_by(lead_tasks.c.due_at, lead_tasks.c.created_at, lead_tasks.c.task_id)
    )
    return [_task(row) for row in conn.execute(query)]


def day_bounds(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """Today in the team's zone as [start, end) instants."""
    today = now.astimezone(tz).date()
    start = datetime.combine(today, time(0), tz)
    return start, datetime.combine(today + timedelta(days=1), time(0), tz)


def group_of(due_at: datetime, now: datetime, tz: ZoneInfo) -> str:
    """overdue: past due; today: due later today (team's zone); upcoming: after today."""
    _, end = day_bounds(now, tz)
    if due_at < now:
        return "overdue"
    return "today" if due_at < end else "upcoming"


def my_tasks(conn: Connection, user: str, now: datetime, tz: ZoneInfo) -> dict[str, list[dict[str, Any]]]:
    """The user's open tasks in the three groups, each soonest first, with the lead's name."""
    query = (
        select(lead_tasks, lead_summary.c.name, lead_summary.c.stage)
        .join(lead_summary, lead_summary.c.lead_id == lead_tasks.c.lead_id, isouter=True)
        .where(lead_tasks.c.assignee == user, lead_tasks.c.status == TaskStatus.OPEN.value)
        .order_by(lead_tasks.c.due_at, lead_tasks.c.task_id)
    )
    groups: dict[str, list[dict[str, Any]]] = {group: [] for group in GROUPS}
    for row in conn.execute(query):
        task = _task(row)
        groups[group_of(task["due_at"], now, tz)].append(task)
    return groups


def open_count(conn: Connection, user: str) -> int:
    query = select(func.count()).where(
        lead_tasks.c.assignee == user, lead_tasks.c.status == TaskStatus.OPEN.value
    )
    return int(conn.scalar(query) or 0)


def team_load(conn: Connection, now: datetime, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Per assignee with open tasks: how many are overdue, due today and upcoming."""
    query = select(lead_tasks.c.assignee, lead_tasks.c.due_at).where(
        lead_tasks.c.status == TaskStatus.OPEN.value
    )
    load: dict[str, dict[str, Any]] = {}
    for assignee, due_at in conn.execute(query):
        counts = load.setdefault(assignee, {"assignee": assignee, **dict.fromkeys(GROUPS, 0)})
        counts[group_of(from_db(due_at), now, tz)] += 1
    return [load[name] for name in sorted(load)]


def returned_list(conn: Connection) -> list[dict[str, Any]]:
    """Leads sales rejected back to marketing and nobody has moved since, newest first.

    The owner is the lead's as the lead list shows it (a rejection before any rule keeps
    the sales owner it had), so the two pages never disagree."""
    columns = [c for c in returned_mqls.c if c.name != "owner"]
    query = (
        select(*columns, lead_summary.c.name, lead_summary.c.owner)
        .join(lead_summary, lead_summary.c.lead_id == returned_mqls.c.lead_id, isouter=True)
        .order_by(returned_mqls.c.rejected_at.desc(), returned_mqls.c.lead_id)
    )
    rows = []
    for row in conn.execute(query):
        item = dict(row._mapping)
        item["rejected_at"] = from_db(item["rejected_at"])
        item["id"] = str(UUID(item["lead_id"]))
        rows.append(item)
    return rows
