"""The "Needs attention" lists, read from the follow_up read model a page at a time.

``attention.needs_attention`` reads every MQL and its attempts (seconds at 100k
leads); this module asks the same two questions of ``follow_up`` with the range
conditions its docstring explains, joined to ``lead_summary`` for the names, so a
request reads only the rows it shows plus one grouped count:

- overdue first contact: no attempt since entry, entered before ``latest_start(now)``;
- under-contacted: entered at least D days ago and no N-th attempt within D days.

Rows come oldest entry first; a page continues after a (mql_at, lead_id) cursor.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, and_, exists, func, or_, select

from domain.business_hours import ALWAYS, Calendar, deadline, latest_start
from projections.follow_up import follow_up_attempts, follow_up_mqls
from projections.lead_summary import lead_summary
from projections.schema import from_db, to_db

OVERDUE = "overdue"
UNDER_CONTACTED = "under_contacted"
LISTS = (OVERDUE, UNDER_CONTACTED)


@dataclass(frozen=True)
class FollowUpTerms:
    follow_up_hours: float
    attempts_per_mql: int
    window_days: float
    calendar: Calendar = ALWAYS


def _conditions(kind: str, now: datetime, terms: FollowUpTerms) -> list[Any] | None:
    """WHERE clauses on follow_up_mqls for one list; None when the list is empty by definition."""
    mqls = follow_up_mqls.c
    if kind == OVERDUE:
        cutoff = latest_start(now, terms.follow_up_hours, terms.calendar)
        return [mqls.first_attempt_at.is_(None), mqls.mql_at < to_db(cutoff)]
    if terms.attempts_per_mql <= 0:  # nothing agreed: nobody is under-contacted
        return None
    window = terms.window_days * 86400
    enough = exists().where(
        follow_up_attempts.c.lead_id == mqls.lead_id,
        follow_up_attempts.c.rank == terms.attempts_per_mql,
        follow_up_attempts.c.delay_seconds <= window,
    )
    return [mqls.mql_at <= to_db(now - timedelta(days=terms.window_days)), ~enough]


def _rows(kind: str, terms: FollowUpTerms) -> Select[Any]:
    columns = [
        follow_up_mqls.c.lead_id,
        follow_up_mqls.c.mql_at,
        lead_summary.c.name,
        lead_summary.c.company,
        lead_summary.c.owner,
    ]
    if kind == UNDER_CONTACTED:
        attempts = (
            select(func.count())
            .where(
                follow_up_attempts.c.lead_id == follow_up_mqls.c.lead_id,
                follow_up_attempts.c.delay_seconds <= terms.window_days * 86400,
            )
            .scalar_subquery()
        )
        columns.append(attempts.label("attempts"))
    return select(*columns).join(lead_summary, lead_summary.c.lead_id == follow_up_mqls.c.lead_id)


def _lead(row: Any, kind: str, terms: FollowUpTerms) -> dict[str, Any]:
    entered = from_db(row.mql_at)
    lead = {"lead_id": row.lead_id, "name": row.name, "company": row.company, "mql_at": entered}
    if kind == OVERDUE:
        return lead | {"due": deadline(entered, terms.follow_up_hours, terms.calendar)}
    return lead | {"attempts": row.attempts}


def attention_overview(
    conn: Connection, now: datetime, terms: FollowUpTerms, per_owner: int = 10
) -> list[dict[str, Any]]:
    """Per owner (unassigned first): each list's size and its ``per_owner`` oldest leads.

    ``{"owner", "overdue", "overdue_count", "under_contacted", "under_contacted_count"}``.
    """
    groups: dict[str, dict[str, Any]] = {}

    def group(owner: str) -> dict[str, Any]:
        empty = {OVERDUE: [], f"{OVERDUE}_count": 0, UNDER_CONTACTED: [], f"{UNDER_CONTACTED}_count": 0}
        return groups.setdefault(owner, {"owner": owner} | empty)

    for kind in LISTS:
        where = _conditions(kind, now, terms)
        if where is None:
            continue
        counts = (
            select(lead_summary.c.owner, func.count())
            .select_from(follow_up_mqls)
            .join(lead_summary, lead_summary.c.lead_id == follow_up_mqls.c.lead_id)
            .where(*where)
            .group_by(lead_summary.c.owner)
        )
        for owner, count in conn.execute(counts):
            group(owner)[f"{kind}_count"] = int(count)
        rank = func.row_number().over(
            partition_by=lead_summary.c.owner, order_by=(follow_up_mqls.c.mql_at, follow_up_mqls.c.lead_id)
        )
        ranked = _rows(kind, terms).add_columns(rank.label("rank")).where(*where).subquery()
        first = select(ranked).where(ranked.c.rank <= per_owner).order_by(ranked.c.mql_at, ranked.c.lead_id)
        for row in conn.execute(first):
            group(row.owner)[kind].append(_lead(row, kind, terms))
    return sorted(groups.values(), key=lambda g: (g["owner"] != "", g["owner"]))


def attention_page(
    conn: Connection,
    now: datetime,
    terms: FollowUpTerms,
    *,
    owner: str,
    kind: str,
    after: tuple[datetime, str] | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """One owner's list, ``limit`` leads after the cursor: ``{"leads", "total", "next"}``."""
    where = _conditions(kind, now, terms)
    if where is None:
        return {"leads": [], "total": 0, "next": None}
    where = [*where, lead_summary.c.owner == owner]
    total = conn.execute(
        select(func.count())
        .select_from(follow_up_mqls)
        .join(lead_summary, lead_summary.c.lead_id == follow_up_mqls.c.lead_id)
        .where(*where)
    ).scalar_one()
    page = _rows(kind, terms).where(*where)
    if after is not None:
        at, lead_id = to_db(after[0]), after[1]
        page = page.where(
            or_(
                follow_up_mqls.c.mql_at > at,
                and_(follow_up_mqls.c.mql_at == at, follow_up_mqls.c.lead_id > lead_id),
            )
        )
    rows = conn.execute(
        page.order_by(follow_up_mqls.c.mql_at, follow_up_mqls.c.lead_id).limit(limit + 1)
    ).all()
    leads = [_lead(row, kind, terms) for row in rows[:limit]]
    following = (leads[-1]["mql_at"], leads[-1]["lead_id"]) if len(rows) > limit else None
    return {"leads": leads, "total": int(total), "next": following}
