"""Read side of the SLA scorecard: the month's actual figures.

Definitions (the same words both teams signed up to; also in the README):
- revenue: amounts of deals won in the month; marketing revenue: of those, the
  leads whose source is credited to marketing;
- average deal per opportunity: revenue / opportunities closed (won or lost) in the month;
- lead->customer (marketing): deals won in the month / leads captured in the month;
- MQLs delivered (and SQLs, opportunities): leads that reached the stage in the month,
  once per lead, a stated skip reaching the stages it skipped (docs/FIGURES.md);
- first follow-up: for each MQL entered in the month by a stage change (an MQL
  implied by a skip starts no clock), time from entering MQL to the
  first contact attempt at or after it; "in time" when that attempt came by the
  deadline of N hours on the agreement's calendar (elapsed hours by default);
- attempts per MQL: contact attempts within the window after entering MQL;
- lead->customer (sales): deals won in the month / MQLs delivered in the month.
"""

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, exists, func, or_, select

from domain.business_hours import ALWAYS, Calendar, deadline
from projections.schema import from_db
from projections.scorecard import sla_facts
from projections.scorecard_follow_up import sfu_delays, sfu_entries
from projections.stats import cents_to_money, median, percentile, ratio

DIMENSIONS = ("source", "campaign", "owner", "sourced_by")


def _where(month: str, filters: dict[str, str]) -> list[Any]:
    clauses = [sla_facts.c.month == month]
    for dimension in DIMENSIONS:
        if filters.get(dimension):
            clauses.append(sla_facts.c[dimension] == filters[dimension])
    return clauses


def _facts(conn: Connection, where: list[Any]) -> dict[str, int]:
    """The month's fact counts and revenue in one statement of scalar subqueries:
    each an index-only range of the covering (month, kind, lead_id) or amount
    index (≤ 0.4 ms); one GROUP BY over all kinds needed a temporary B-tree for
    the distinct counts (3 ms), and a statement per figure cost more in round
    trips than in SQLite (the dashboard asks for four months)."""

    def count(kind: str, distinct: bool = False) -> Any:
        counted = func.count(sla_facts.c.lead_id.distinct()) if distinct else func.count()
        return select(counted).where(*where, sla_facts.c.kind == kind).scalar_subquery()

    def revenue(*extra: Any) -> Any:
        total = func.coalesce(func.sum(sla_facts.c.amount_cents), 0)
        return select(total).where(*where, sla_facts.c.kind == "won", *extra).scalar_subquery()

    row = conn.execute(
        select(
            count("captured").label("leads"),
            count("mql", distinct=True).label("mqls"),
            count("sql", distinct=True).label("sqls"),
            count("opportunity", distinct=True).label("opportunities"),
            count("won").label("won"),
            count("lost").label("lost"),
            count("rejected").label("rejected"),
            revenue().label("revenue"),
            revenue(sla_facts.c.sourced_by == "marketing").label("marketing_revenue"),
        )
    ).one()
    return {key: int(value) for key, value in row._mapping.items()}


def avg_deal_per_opportunity(conn: Connection, month: str) -> Any:
    """Revenue / opportunities closed in the month, as ``scorecard_actuals`` has it, without
    the follow-up figures (the reverse-funnel plan asks for three months of it)."""
    facts = _facts(conn, _where(month, {}))
    closed = facts["won"] + facts["lost"]
    return cents_to_money(round(facts["revenue"] / closed)) if closed else None


def scorecard_actuals(
    conn: Connection,
    month: str,
    *,
    follow_up_hours: float = 24,
    attempts_window_days: float = 7,
    calendar: Calendar = ALWAYS,
    **filters: str,
) -> dict[str, Any]:
    facts = _facts(conn, _where(month, filters))
    won, lost, revenue = facts["won"], facts["lost"], facts["revenue"]
    follow_up = _follow_up(conn, MqlEntries(month, filters), follow_up_hours, attempts_window_days, calendar)
    return {
        "month": month,
        "filters": {k: v for k, v in filters.items() if v},
        **{key: facts[key] for key in ("leads", "mqls", "sqls", "opportunities", "won", "lost", "rejected")},
        "revenue": cents_to_money(revenue),
        "marketing_revenue": cents_to_money(facts["marketing_revenue"]),
        "avg_deal_per_opportunity": cents_to_money(round(revenue / (won + lost))) if won + lost else None,
        "lead_to_customer": ratio(won, facts["leads"]),
        "sales_conversion": ratio(won, facts["mqls"]),
        **follow_up,
    }


def entry_where(table: Any, month: str | None, filters: dict[str, str]) -> list[Any]:
    """``_where`` for ``sfu_entries`` (same month and attribution stamps as the MQL facts)."""
    clauses = [] if month is None else [table.c.month == month]
    for dimension in DIMENSIONS:
        if filters.get(dimension):
            clauses.append(table.c[dimension] == filters[dimension])
    return clauses


def first_entries(where: Callable[[Any], list[Any]]) -> tuple[Any, list[Any]]:
    """Per lead its earliest entry matching ``where`` (ties: the lower version).

    As the old ``min(occurred_at) GROUP BY lead_id`` over MQL facts, but as a
    NOT EXISTS probe so the row itself (with its first attempt) comes back.
    """
    entry, earlier = sfu_entries.alias("entry"), sfu_entries.alias("earlier")
    # "≤ and (< or version <)" rather than an OR of two orderings: with the OR,
    # SQLite probed the month index per row (8.8 s a scorecard at 100k leads)
    # instead of the lead's few entries (ix_sfu_entries_lead).
    sooner = and_(
        earlier.c.entered_at <= entry.c.entered_at,
        or_(earlier.c.entered_at < entry.c.entered_at, earlier.c.version < entry.c.version),
    )
    return entry, [
        *where(entry),
        ~exists().where(earlier.c.lead_id == entry.c.lead_id, *where(earlier), sooner),
    ]


class MqlEntries:
    """The MQL entries a month (or a window) is measured from: each lead's earliest.

    An unfiltered month reads the entries flagged ``first_in_month`` by the
    projection, on covering indexes; filters (attribution may change between
    two entries of a month) or a window pick each lead's earliest matching
    entry at read time (``first_entries``).
    """

    def __init__(
        self,
        month: str | None = None,
        filters: dict[str, str] | None = None,
        where: Callable[[Any], list[Any]] | None = None,
    ) -> None:
        filters = {k: v for k, v in (filters or {}).items() if v}
        self.month = month if month is not None and where is None and not filters else None
        if self.month is not None:
            self.entry: Any = sfu_entries
            self.chosen = [sfu_entries.c.month == month, sfu_entries.c.first_in_month == 1]
        else:
            self.entry, self.chosen = first_entries(where or (lambda t: entry_where(t, month, filters)))

    def count(self, conn: Connection, *conditions: Any) -> int:
        return int(
            conn.execute(
                select(func.count()).select_from(self.entry).where(*self.chosen, *conditions)
            ).scalar_one()
        )

    def delays_and_attempts(self, conn: Connection, window_seconds: float) -> tuple[int, list[float], int]:
        """(entries, seconds to the first attempt of those contacted, attempts dated at
        most ``window_seconds`` after their entry, summed over the entries)."""
        column = self.entry.c.first_delay_seconds
        if self.month is not None:  # covering index ranges of the month
            found = conn.execute(select(column).where(*self.chosen)).scalars().all()
            return len(found), [d for d in found if d is not None], self._month_attempts(conn, window_seconds)
        # Filters or a window: one statement, so the choice of each lead's earliest entry
        # (an anti-join, ~1 ms to plan on PostgreSQL) is made once, not once per figure.
        entry = self.entry
        attempts = (
            select(func.count())
            .where(
                sfu_delays.c.lead_id == entry.c.lead_id,
                sfu_delays.c.entry_version == entry.c.version,
                sfu_delays.c.delay_seconds <= window_seconds,
            )
            .scalar_subquery()
        )
        rows = conn.execute(select(column, attempts).where(*self.chosen)).all()
        return len(rows), [d for d, _ in rows if d is not None], sum(n for _, n in rows)

    def first_contacts(self, conn: Connection) -> list[tuple[datetime, datetime]]:
        """(entered, first attempt) of those contacted: for deadlines on a business calendar."""
        entry = self.entry
        statement = select(entry.c.entered_at, entry.c.first_attempt_at).where(
            *self.chosen, entry.c.first_attempt_at.is_not(None)
        )
        # Both columns are set on these rows (first_attempt_at IS NOT NULL above).
        return [(from_db(a), from_db(b)) for a, b in conn.execute(statement)]  # type: ignore[misc]

    def _month_attempts(self, conn: Connection, seconds: float) -> int:
        statement = select(func.count()).where(
            sfu_delays.c.month == self.month,
            sfu_delays.c.first_in_month == 1,
            sfu_delays.c.delay_seconds <= seconds,
        )
        return int(conn.execute(statement).scalar_one())


def _follow_up(
    conn: Connection, entries: MqlEntries, hours: float, window_days: float, calendar: Calendar
) -> dict[str, Any]:
    window = timedelta(days=window_days).total_seconds()
    total, seconds, attempts = entries.delays_and_attempts(conn, window)
    delays = [s / 3600 for s in seconds]  # the same float as total_seconds() / 3600 always gave
    if calendar.every_hour_counts:  # elapsed hours: the figure as it always was
        within = sum(1 for d in delays if d <= hours)
    else:  # the agreement's clock, as the breaches count it (domain.business_hours)
        within = sum(
            1 for start, first in entries.first_contacts(conn) if first <= deadline(start, hours, calendar)
        )
    return {
        "follow_up_median_hours": median(delays),
        "follow_up_p95_hours": percentile(delays, 95),
        "follow_up_within_target": ratio(within, total),
        "follow_up_delays_hours": sorted(delays),
        "mqls_never_contacted": total - len(delays),
        "attempts_per_mql": ratio(attempts, total),
    }
