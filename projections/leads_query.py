"""Read side of the lead list and timeline: filtered, searched, keyset-paginated."""

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, DateTime, and_, func, or_, select

from domain.business_hours import ALWAYS, Calendar, latest_start
from domain.vocabulary import Stage
from projections import distinct, lead_search
from projections.lead_summary import lead_summary
from projections.schema import from_db, to_db
from projections.timeline import lead_timeline

SORTS = {
    "newest": (lead_summary.c.captured_at, True),
    "oldest": (lead_summary.c.captured_at, False),
    "activity": (lead_summary.c.last_activity_at, True),
    "name": (lead_summary.c.name, False),
}


@dataclass
class LeadQuery:
    q: str = ""
    stage: str = ""
    owner: str = ""
    source: str = ""
    campaign: str = ""
    overdue: bool = False
    sort: str = "newest"
    after: str = ""  # keyset cursor from the previous page
    limit: int = 50


def _cursor(row: Any, sort: str) -> str:
    column, _ = SORTS[sort]
    value = row._mapping[column.name]
    value = value.isoformat() if isinstance(value, datetime) else value
    return json.dumps([value, row.lead_id])


def list_leads(
    conn: Connection,
    query: LeadQuery,
    now: datetime,
    follow_up_hours: float = 24,
    calendar: Calendar = ALWAYS,
) -> dict[str, Any]:
    if query.sort not in SORTS:
        query.sort = "newest"
    column, descending = SORTS[query.sort]
    clauses: list[Any] = []
    if query.q:
        term = query.q.lower()
        indexed = lead_search.matching(conn, term)  # SQLite trigram index: rare terms of ≥ 3 characters
        if indexed is not None:
            clauses.append(lead_summary.c.lead_id.in_(indexed))
        else:  # PostgreSQL (pg_trgm index serves LIKE), a short term or a common one
            clauses.append(lead_summary.c.search_text.contains(term, autoescape=True))
    for name in ("stage", "owner", "source", "campaign"):
        value = getattr(query, name)
        if value:
            clauses.append(lead_summary.c[name] == value)
    if query.overdue:
        clauses += _overdue(now, follow_up_hours, calendar)
    if query.after:
        value, lead_id = json.loads(query.after)
        if isinstance(column.type, DateTime):
            value = datetime.fromisoformat(value)
        if descending:
            clauses.append(or_(column < value, and_(column == value, lead_summary.c.lead_id < lead_id)))
        else:
            clauses.append(or_(column > value, and_(column == value, lead_summary.c.lead_id > lead_id)))
    order = (column.desc(), lead_summary.c.lead_id.desc()) if descending else (column, lead_summary.c.lead_id)
    rows = conn.execute(
        select(lead_summary).where(and_(True, *clauses)).order_by(*order).limit(query.limit + 1)
    ).all()
    page = rows[: query.limit]
    return {
        "leads": [_lead_row(r) for r in page],
        "next": _cursor(page[-1], query.sort) if len(rows) > query.limit else "",
    }


def _overdue(now: datetime, follow_up_hours: float, calendar: Calendar = ALWAYS) -> list[Any]:
    """MQLs past their first-contact deadline with no contact since becoming MQL."""
    # deadline(mql_at) < now  <=>  mql_at < latest_start(now): one cut-off SQL can use.
    deadline = to_db(latest_start(now, follow_up_hours, calendar))
    return [
        lead_summary.c.stage == Stage.MQL.value,
        lead_summary.c.mql_at < deadline,
        or_(lead_summary.c.last_contact_at.is_(None), lead_summary.c.last_contact_at < lead_summary.c.mql_at),
    ]


def _lead_row(row: Any) -> dict[str, Any]:
    lead = dict(row._mapping)
    for key in (
        "captured_at",
        "stage_entered_at",
        "last_activity_at",
        "mql_at",
        "first_contact_at",
        "last_contact_at",
    ):
        lead[key] = from_db(lead[key])
    return lead


def get_summary(conn: Connection, lead_id: str) -> dict[str, Any] | None:
    row = conn.execute(select(lead_summary).where(lead_summary.c.lead_id == lead_id)).first()
    return None if row is None else _lead_row(row)


def count_leads(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(lead_summary)).scalar_one())


def distinct_values(conn: Connection, name: str) -> list[str]:
    # Loose index scan (projections.distinct): not a read of all 100k index entries.
    return distinct.distinct_values(conn, lead_summary.c[name])


def timeline(conn: Connection, lead_id: str, newest_first: bool = True) -> list[dict[str, Any]]:
    order = lead_timeline.c.version.desc() if newest_first else lead_timeline.c.version
    rows = conn.execute(select(lead_timeline).where(lead_timeline.c.lead_id == lead_id).order_by(order))
    return [
        {
            "version": r.version,
            "position": r.position,
            "event_type": r.event_type,
            "occurred_at": from_db(r.occurred_at),
            "recorded_at": from_db(r.recorded_at),
            "actor": r.actor,
            "data": json.loads(r.data),
        }
        for r in rows
    ]
