"""Read side of the lead list and timeline: filtered, searched, keyset-paginated.

Two query shapes keep a page of the list from reading every lead at 100k leads:

- SQLite, a filter with a sort its index does not give (activity or name, with a
  source, owner, stage or campaign): first look at the ``WINDOW`` leads that come
  next in the sort's own index order; when they hold a full page, that is the
  page. A filter matching one lead in five fills it within a few hundred leads,
  where SQLite (no statistics) read and sorted all its 20k leads through the
  filter's index. A rarer filter falls back to the plain query.
- PostgreSQL, the overdue filter: its leads come from the small partial index of
  uncontacted MQLs (``UNCONTACTED_MQL``) as an explicit list, which the planner
  sizes right; given the filter itself it expected thousands of matches and
  walked every lead in list order for the dozen there are.
"""

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Select, and_, or_, select

from domain.business_hours import ALWAYS, Calendar, latest_start
from domain.validation import EARLIEST, HORIZON
from projections.engine import distinct, lead_search
from projections.engine.schema import from_db, to_db
from projections.models.lead_summary import UNCONTACTED_MQL, lead_summary
from projections.models.timeline import lead_timeline
from projections.queries.source_merges import counted_as, merges, source_clause

SORTS = {
    "newest": (lead_summary.c.captured_at, True),
    "oldest": (lead_summary.c.captured_at, False),
    "activity": (lead_summary.c.last_activity_at, True),
    "name": (lead_summary.c.name, False),
}
# Sorts that an equality filter's own index (filter, captured_at) does not give.
WINDOWED_SORTS = ("activity", "name")
# Leads read in sort order before falling back to the plain query (see the docstring).
WINDOW = 2000
# Overdue leads taken as an explicit list up to this many; more, and overdue is so
# common that the plain filter finds a page within a few leads.
OVERDUE_LIST_MAX = 1000
FILTERS = ("stage", "owner", "source", "campaign")


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
    equal = {name: getattr(query, name) for name in FILTERS if getattr(query, name)}
    if query.source:  # a merged source's leads list under its target (projections.queries.source_merges)
        merged = merges(conn)
        if merged and any(counted_as(merged, k) == counted_as(merged, query.source) for k in merged):
            clauses.append(source_clause(lead_summary.c.source, equal.pop("source"), merged))
    if query.overdue:
        clauses += _overdue(conn, now, follow_up_hours, calendar)
    after = _after(query, column, descending)
    order = _order(lead_summary.c, column.name, descending)
    rows: Sequence[Any] | None = None
    # PostgreSQL has statistics (ANALYZE) and plans these well itself; SQLite has none.
    if equal and not clauses and query.sort in WINDOWED_SORTS and conn.dialect.name == "sqlite":
        rows = _in_window(conn, equal, after, (column.name, descending), query.limit + 1)
    if rows is None:
        where = [*clauses, *after, *(lead_summary.c[name] == value for name, value in equal.items())]
        rows = conn.execute(
            select(lead_summary).where(and_(True, *where)).order_by(*order).limit(query.limit + 1)
        ).all()
    page = rows[: query.limit]
    return {
        "leads": [_lead_row(r) for r in page],
        "next": _cursor(page[-1], query.sort) if len(rows) > query.limit else "",
    }


def _after(query: LeadQuery, column: Any, descending: bool) -> list[Any]:
    """The keyset condition: rows after the cursor's (sort value, lead_id)."""
    if not query.after:
        return []
    value, lead_id = json.loads(query.after)
    if not isinstance(lead_id, str) or not isinstance(value, str | None):  # as _cursor writes them
        raise ValueError("not a page cursor")
    if isinstance(column.type, DateTime):
        if value is None:  # _cursor writes these columns' times, never null: an edited link
            raise ValueError("not a page cursor")
        value = datetime.fromisoformat(value)
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)  # stored times may be naive UTC
        if not EARLIEST <= aware <= datetime.now(UTC) + HORIZON:
            raise ValueError("not a page cursor")  # an edited link: no year 1 or 9999 reaches the query
    # The first, redundant clause is a range both planners can start an index scan at.
    if descending:
        return [column <= value, or_(column < value, and_(column == value, lead_summary.c.lead_id < lead_id))]
    return [column >= value, or_(column > value, and_(column == value, lead_summary.c.lead_id > lead_id))]


def _order(columns: Any, name: str, descending: bool) -> tuple[Any, ...]:
    """List order on ``columns`` (the table's or a subquery's): the sort column, then lead_id."""
    if descending:
        return columns[name].desc(), columns.lead_id.desc()
    return columns[name], columns.lead_id


def _in_window(
    conn: Connection, equal: dict[str, str], after: list[Any], sort: tuple[str, bool], wanted: int
) -> list[Any] | None:
    """The first ``wanted`` matching rows if the next ``WINDOW`` leads in list order hold them.

    Exact when found: any matching lead outside the window comes after all of it.
    None when the window holds fewer (a rare filter, or the list's end): ask the plain query.
    """
    # Narrow window rows (a lead's whole row is wide); the page's rows are read after.
    needed = [lead_summary.c.lead_id, lead_summary.c[sort[0]], *(lead_summary.c[name] for name in equal)]
    window: Select[Any] = (
        select(*needed).where(and_(True, *after)).order_by(*_order(lead_summary.c, *sort)).limit(WINDOW)
    )
    inner = window.subquery()
    ids = (
        conn.execute(
            select(inner.c.lead_id)
            .where(*(inner.c[name] == value for name, value in equal.items()))
            .order_by(*_order(inner.c, *sort))
            .limit(wanted)
        )
        .scalars()
        .all()
    )
    if len(ids) < wanted:
        return None
    rows = {
        row.lead_id: row for row in conn.execute(select(lead_summary).where(lead_summary.c.lead_id.in_(ids)))
    }
    return [rows[lead_id] for lead_id in ids]


def _overdue(
    conn: Connection, now: datetime, follow_up_hours: float, calendar: Calendar = ALWAYS
) -> list[Any]:
    """MQLs past their first-contact deadline with no contact since becoming MQL."""
    # deadline(mql_at) < now  <=>  mql_at < latest_start(now): one cut-off SQL can use.
    deadline = to_db(latest_start(now, follow_up_hours, calendar))
    overdue = [UNCONTACTED_MQL, lead_summary.c.mql_at < deadline]
    if conn.dialect.name != "postgresql":
        # SQLite plans the list through ix_lead_summary_mql_contact (stage, mql_at,
        # last_contact_at) and sorts the few it keeps: quick enough on the 1M store as it is.
        return overdue
    ids = (
        conn.execute(select(lead_summary.c.lead_id).where(*overdue).limit(OVERDUE_LIST_MAX + 1))
        .scalars()
        .all()
    )
    if len(ids) > OVERDUE_LIST_MAX:
        return overdue
    # The conditions stay: a lead contacted since the ids were read drops out.
    return [lead_summary.c.lead_id.in_(ids), *overdue]


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


def distinct_values(conn: Connection, name: str) -> list[str]:
    # Loose index scan (projections.engine.distinct): not a read of all 100k index entries.
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
