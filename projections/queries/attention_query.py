"""The "Needs attention" lists, read from the follow_up read model a page at a time.

``attention.needs_attention`` reads every MQL and its attempts (seconds at 100k
leads); this module asks the same two questions of ``follow_up`` with the range
conditions its docstring explains. ``follow_up`` keeps each MQL's owner, so the
sizes per owner and each owner's first leads come from covering index ranges of
that small table, and only the leads shown are looked up in ``lead_summary`` for
their names:

- overdue first contact: no attempt since entry, entered before ``latest_start(now)``;
- under-contacted: entered at least D days ago and no N-th attempt within D days.

Rows come oldest entry first; a page continues after a (mql_at, lead_id) cursor.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, and_, func, or_, select, union_all

from domain.business_hours import ALWAYS, Calendar, deadline, latest_start
from projections.engine.schema import from_db, to_db
from projections.models.follow_up import follow_up_attempts, follow_up_mqls
from projections.models.lead_summary import lead_summary

OVERDUE = "overdue"
UNDER_CONTACTED = "under_contacted"
LISTS = (OVERDUE, UNDER_CONTACTED)
_OWNERS_PER_STATEMENT = 400


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
    window_over = to_db(now - timedelta(days=terms.window_days))
    # Not a correlated NOT EXISTS: without statistics SQLite probes it through the rank
    # index, every rank-N attempt per MQL (minutes at 100k leads). One range read of
    # that index instead, as count_follow_up does; attempt rows carry their entry's mql_at.
    enough = select(follow_up_attempts.c.lead_id).where(
        follow_up_attempts.c.rank == terms.attempts_per_mql,
        follow_up_attempts.c.mql_at <= window_over,
        follow_up_attempts.c.delay_seconds <= terms.window_days * 86400,
    )
    return [mqls.mql_at <= window_over, mqls.lead_id.not_in(enough)]


def _matching(where: list[Any]) -> Select[Any]:
    # follow_up_mqls alone (it keeps the owner): the thousands of MQLs a list may hold
    # are never joined to the wide lead_summary rows; only the shown ones are.
    return select(follow_up_mqls.c.lead_id, follow_up_mqls.c.mql_at, follow_up_mqls.c.owner).where(*where)


def _names(conn: Connection, rows: Sequence[Any]) -> dict[str, tuple[str, str]]:
    """Name and company of the shown rows' leads: one primary-key read of the wide table."""
    ids = [row.lead_id for row in rows]
    if not ids:
        return {}
    summary = lead_summary.c
    query = select(summary.lead_id, summary.name, summary.company).where(summary.lead_id.in_(ids))
    return {lead_id: (name, company) for lead_id, name, company in conn.execute(query)}


def _attempts_in_window(terms: FollowUpTerms) -> Any:
    """A column for the under-contacted rows: their attempts within the window.

    Correlated on the attempts' primary key and added to the LIMITed read, so only
    the shown rows pay for it, without a statement (and a plan) of its own."""
    tries = follow_up_attempts.c
    counted = select(func.count()).where(
        tries.lead_id == follow_up_mqls.c.lead_id, tries.delay_seconds <= terms.window_days * 86400
    )
    return counted.scalar_subquery().label("attempts")


def _leads(
    rows: Sequence[Any], kind: str, terms: FollowUpTerms, names: dict[str, tuple[str, str]]
) -> list[dict[str, Any]]:
    """The shown rows with their names (and attempts in the window), in the rows' order."""
    leads = []
    for row in rows:
        entered = from_db(row.mql_at)
        name, company = names[row.lead_id]
        lead = {"lead_id": row.lead_id, "name": name, "company": company, "mql_at": entered}
        if kind == OVERDUE:
            lead["due"] = deadline(entered, terms.follow_up_hours, terms.calendar)
        else:
            lead["attempts"] = int(row.attempts)
        leads.append(lead)
    return leads


def _windowed(conn: Connection, where: list[Any], per_owner: int) -> list[Any]:
    """Each owner's first ``per_owner`` matching rows with the owner's ``size``, in one pass.

    For the overdue list: its few rows (no attempt yet) come straight from the
    uncontacted index, so ranking them all costs nothing."""
    matching = _matching(where).subquery()
    owner, order = matching.c.owner, (matching.c.mql_at, matching.c.lead_id)
    ranked = select(
        matching,
        func.row_number().over(partition_by=owner, order_by=order).label("rank"),
        func.count().over(partition_by=owner).label("size"),
    ).subquery()
    return list(
        conn.execute(
            select(ranked).where(ranked.c.rank <= per_owner).order_by(ranked.c.mql_at, ranked.c.lead_id)
        ).all()
    )


def _under_contacted(
    conn: Connection, now: datetime, terms: FollowUpTerms, where: list[Any], per_owner: int
) -> list[Any]:
    """As ``_windowed`` for the under-contacted list, without ranking its thousands of rows.

    The windowed pass probed the "enough" set for every entered MQL and sorted the
    matches per owner (most of the page's time on SQLite). Instead:
    size = entered MQLs per owner (a covering index range) minus those with a
    qualifying N-th attempt (a range of the rank index joined by primary key), as
    ``count_follow_up`` counts; rank N is unique per lead, so each is subtracted once
    (a fraction of the windowed pass on SQLite). PostgreSQL hashes the "enough" set
    once and counts the list's ``where`` grouped by owner (quicker there than the two
    counts).
    Then each owner's first rows by a LIMITed read of the owner index in list order."""
    mqls, tries = follow_up_mqls.c, follow_up_attempts.c
    window_over = to_db(now - timedelta(days=terms.window_days))
    within = terms.window_days * 86400
    entered = mqls.mql_at <= window_over
    by_owner = select(mqls.owner, func.count()).group_by(mqls.owner)
    sizes: dict[str, int]
    if conn.dialect.name == "postgresql":
        sizes = dict(conn.execute(by_owner.where(*where)).all())
    else:  # SQLite would probe a list subquery per entered MQL: the two counts are quicker
        sizes = dict(conn.execute(by_owner.where(entered)).all())
        enough = conn.execute(
            by_owner.select_from(
                follow_up_attempts.join(follow_up_mqls, mqls.lead_id == tries.lead_id)
            ).where(
                tries.rank == terms.attempts_per_mql,
                tries.mql_at <= window_over,
                tries.delay_seconds <= within,
                entered,
            )
        )
        for owner, count in enough:
            sizes[owner] -= count
    # Correlated, probing the attempts' primary key (lead_id, version): a few rows per
    # lead, and the LIMIT stops after a handful of leads. "rank + 0" keeps SQLite
    # (no statistics) off the rank index, which would read every rank-N attempt per probe.
    contacted = (
        select(tries.lead_id)
        .where(
            tries.lead_id == mqls.lead_id,
            tries.rank + 0 == terms.attempts_per_mql,
            tries.mql_at <= window_over,
            tries.delay_seconds <= within,
        )
        .exists()
    )
    owners = sorted(owner for owner, size in sizes.items() if size > 0)
    if not owners:
        return []
    # One statement for all owners (one round trip and one plan on PostgreSQL, where
    # planning each owner's read cost more than running it); each member ordered and
    # LIMITed inside its own subquery, as SQLite wants for a compound select.
    firsts = [
        select(
            _matching([mqls.owner == owner, entered, ~contacted])
            .add_columns(_attempts_in_window(terms))
            .order_by(mqls.mql_at, mqls.lead_id)
            .limit(per_owner)
            .subquery()
        )
        for owner in owners
    ]
    first: list[Any] = []
    # SQLite refuses a compound select of more than 500 members (its default limit).
    for i in range(0, len(firsts), _OWNERS_PER_STATEMENT):
        chunk = firsts[i : i + _OWNERS_PER_STATEMENT]
        first += conn.execute(chunk[0] if len(chunk) == 1 else union_all(*chunk)).all()
    # A UNION ALL promises no order: put each owner's few rows back in list order here.
    first.sort(key=lambda row: (row.mql_at, row.lead_id))
    return [(row, sizes[row.owner]) for row in first]


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

    shown: dict[str, list[tuple[Any, int]]] = {}
    for kind in LISTS:
        where = _conditions(kind, now, terms)
        if where is None:
            continue
        if kind == UNDER_CONTACTED:
            shown[kind] = _under_contacted(conn, now, terms, where, per_owner)
        else:
            shown[kind] = [(row, row.size) for row in _windowed(conn, where, per_owner)]
    names = _names(conn, [row for rows in shown.values() for row, _size in rows])  # both lists at once
    for kind, rows in shown.items():
        leads = _leads([row for row, _size in rows], kind, terms, names)
        for (row, size), lead in zip(rows, leads, strict=True):
            group(row.owner)[kind].append(lead)
            group(row.owner)[f"{kind}_count"] = int(size)
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
    matching = _matching([*where, follow_up_mqls.c.owner == owner])
    total = conn.execute(select(func.count()).select_from(matching.subquery())).scalar_one()
    if after is not None:
        at, lead_id = to_db(after[0]), after[1]
        mql_at, key = follow_up_mqls.c.mql_at, follow_up_mqls.c.lead_id
        matching = matching.where(or_(mql_at > at, and_(mql_at == at, key > lead_id)))
    if kind == UNDER_CONTACTED:
        matching = matching.add_columns(_attempts_in_window(terms))
    rows = conn.execute(
        matching.order_by(follow_up_mqls.c.mql_at, follow_up_mqls.c.lead_id).limit(limit + 1)
    ).all()
    leads = _leads(rows[:limit], kind, terms, _names(conn, rows[:limit]))
    following = (leads[-1]["mql_at"], leads[-1]["lead_id"]) if len(rows) > limit else None
    return {"leads": leads, "total": int(total), "next": following}
