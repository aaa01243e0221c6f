"""Read side of the SLA scorecard: the month's actual figures.

Definitions (the same words both teams signed up to; also in the README):
- revenue: the known amounts of deals won in the month, in the base currency
  (converted at the rates in force for the month), with how many wins had no
  known amount; marketing revenue: of those, the leads whose source is credited
  to marketing (``domain.money``; docs/FIGURES.md);
- average deal per opportunity (key kept): known revenue / wins of the month with
  a known amount; None ("—") when no amount is known. Amounts in a currency with
  no rate to the base are never converted nor added: the figures list them per
  currency (and the month is not graded on money);
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

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, exists, func, or_, select

from domain.business_hours import ALWAYS, Calendar, deadline
from domain.money import Known, MoneyFigure, MoneyTerms, money_figures
from projections.engine.schema import from_db
from projections.models.money_terms import money_book
from projections.models.scorecard import sla_facts
from projections.models.scorecard_follow_up import sfu_delays, sfu_entries
from projections.queries.source_merges import credited_team, merges, source_clause
from projections.queries.stats import median, percentile, ratio

DIMENSIONS = ("source", "campaign", "owner", "sourced_by")


def _where(month: str, filters: dict[str, str], conn: Connection | None = None) -> list[Any]:
    return [sla_facts.c.month == month, *_attribution(sla_facts, filters, conn)]


def _attribution(table: Any, filters: dict[str, str], conn: Connection | None) -> list[Any]:
    """Filter clauses; merged sources count as their target's (projections.queries.source_merges)."""
    merged = merges(conn) if conn is not None and (filters.get("source") or filters.get("sourced_by")) else {}
    clauses = []
    for dimension in DIMENSIONS:
        value = filters.get(dimension)
        if not value:
            continue
        if dimension == "source":
            clauses.append(source_clause(table.c.source, value, merged))
        elif dimension == "sourced_by" and merged:
            assert conn is not None
            clauses.append(credited_team(conn, table.c.source, table.c.sourced_by, merged) == value)
        else:
            clauses.append(table.c[dimension] == value)
    return clauses


def _facts(conn: Connection, where: list[Any]) -> dict[str, int]:
    """The month's fact counts and revenue in one statement of scalar subqueries:
    each an index-only range of the covering (month, kind, lead_id) or amount
    index; one GROUP BY over all kinds needed a temporary B-tree for the
    distinct counts (several times slower), and a statement per figure cost more in round
    trips than in SQLite (the dashboard asks for four months)."""

    def count(kind: str, distinct: bool = False) -> Any:
        counted = func.count(sla_facts.c.lead_id.distinct()) if distinct else func.count()
        return select(counted).where(*where, sla_facts.c.kind == kind).scalar_subquery()

    row = conn.execute(
        select(
            count("captured").label("leads"),
            count("mql", distinct=True).label("mqls"),
            count("sql", distinct=True).label("sqls"),
            count("opportunity", distinct=True).label("opportunities"),
            count("won").label("won"),
            count("lost").label("lost"),
            count("rejected").label("rejected"),
        )
    ).one()
    return {key: int(value) for key, value in row._mapping.items()}


def _money(
    conn: Connection, where: list[Any], terms: MoneyTerms
) -> tuple[MoneyFigure, MoneyFigure, MoneyFigure, MoneyFigure]:
    """(revenue, average deal, marketing revenue, marketing average) of the month's wins:
    known amounts summed per currency and counted (NULL = unknown), then converted."""
    # A merged source credits its target's team (projections.queries.source_merges).
    team = credited_team(conn, sla_facts.c.source, sla_facts.c.sourced_by, merges(conn))
    marketing = team == "marketing"
    rows = conn.execute(
        select(
            sla_facts.c.currency,
            marketing.label("marketing"),
            func.count(),
            func.count(sla_facts.c.amount_cents),
            func.coalesce(func.sum(sla_facts.c.amount_cents), 0),
        )
        .where(*where, sla_facts.c.kind == "won")
        .group_by(sla_facts.c.currency, marketing)
    ).all()

    def figures(rows: Sequence[Any]) -> tuple[MoneyFigure, MoneyFigure]:
        known: dict[str, Known] = {}
        for currency, _, _, count, cents in rows:
            before = known.get(currency or "EUR", Known(0, 0))
            known[currency or "EUR"] = Known(before.cents + int(cents), before.count + int(count))
        return money_figures(known, sum(int(r[2]) for r in rows), terms)

    revenue, average = figures(rows)
    marketing_revenue, marketing_average = figures([r for r in rows if r[1]])
    return revenue, average, marketing_revenue, marketing_average


def avg_deal_per_opportunity(conn: Connection, month: str) -> Any:
    """The month's average deal in the base currency, as ``scorecard_actuals`` has it, without
    the follow-up figures (the reverse-funnel plan asks for three months of it); None when no
    amount is known or some currency has no rate."""
    return _money(conn, _where(month, {}), money_book(conn).for_month(month))[1].value


def scorecard_actuals(
    conn: Connection,
    month: str,
    *,
    follow_up_hours: float = 24,
    attempts_window_days: float = 7,
    calendar: Calendar = ALWAYS,
    money: MoneyTerms | None = None,
    **filters: str,
) -> dict[str, Any]:
    """``money``: the base currency and rates for the month (default: read from the store)."""
    where = _where(month, filters, conn)
    facts = _facts(conn, where)
    won = facts["won"]
    revenue, average, marketing_revenue, _ = _money(conn, where, money or money_book(conn).for_month(month))
    follow_up = _follow_up(
        conn, MqlEntries(month, filters, conn=conn), follow_up_hours, attempts_window_days, calendar
    )
    return {
        "month": month,
        "filters": {k: v for k, v in filters.items() if v},
        **{key: facts[key] for key in ("leads", "mqls", "sqls", "opportunities", "won", "lost", "rejected")},
        "revenue": revenue,
        "marketing_revenue": marketing_revenue,
        "avg_deal_per_opportunity": average,
        "lead_to_customer": ratio(won, facts["leads"]),
        "sales_conversion": ratio(won, facts["mqls"]),
        **follow_up,
    }


def entry_where(
    table: Any, month: str | None, filters: dict[str, str], conn: Connection | None = None
) -> list[Any]:
    """``_where`` for ``sfu_entries`` (same month and attribution stamps as the MQL facts)."""
    clauses = [] if month is None else [table.c.month == month]
    return clauses + _attribution(table, filters, conn)


def first_entries(where: Callable[[Any], list[Any]]) -> tuple[Any, list[Any]]:
    """Per lead its earliest entry matching ``where`` (ties: the lower version).

    As the old ``min(occurred_at) GROUP BY lead_id`` over MQL facts, but as a
    NOT EXISTS probe so the row itself (with its first attempt) comes back.
    """
    entry, earlier = sfu_entries.alias("entry"), sfu_entries.alias("earlier")
    # "≤ and (< or version <)" rather than an OR of two orderings: with the OR,
    # SQLite probed the month index per row (seconds a scorecard at 100k leads)
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
        conn: Connection | None = None,  # to read merged sources when filtered by source
    ) -> None:
        filters = {k: v for k, v in (filters or {}).items() if v}
        self.month = month if month is not None and where is None and not filters else None
        if self.month is not None:
            self.entry: Any = sfu_entries
            self.chosen = [sfu_entries.c.month == month, sfu_entries.c.first_in_month == 1]
        else:
            self.entry, self.chosen = first_entries(where or (lambda t: entry_where(t, month, filters, conn)))

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
        # (an anti-join, costly to plan on PostgreSQL) is made once, not once per figure.
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
        return [(from_db(a), from_db(b)) for a, b in conn.execute(statement)]

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
