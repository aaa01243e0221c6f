"""A month's scorecard actuals, kept in process until a fact of that month arrives.

The dashboard grades a month and shows the three before it, and the meeting
packs grade last month: closed months whose figures only change when a late
fact of theirs is projected. Each entry is keyed by the month, the filters,
the terms it was measured with (N hours, D days, the calendar) and the month's
marks in the two read models it is read from (``projections.engine.month_marks``):
``sla_fact_months`` and ``sfu_months``. Those marks are read on every call, in
one small query, so a fact projected by any process (another worker, the
projector loop) changes the key at once; a month without both marks is
computed every time. The marks are read before the figures, so an entry never
holds figures older than its key. The money terms in force for the month (base
currency and exchange rates, ``projections.models.money_terms``) are part of the key
too: recording a rate changes the month's money figures without a new fact.

``SMARKETING_SCORECARD_CACHE=0`` turns the cache off (every call computes),
so the live cost can be measured and compared.
"""

import os
from collections import Counter
from typing import Any

from sqlalchemy import Connection, literal, select, union_all

from domain.business_hours import ALWAYS, Calendar
from domain.money import MoneyTerms
from projections.cached.marked_cache import MarkedCache
from projections.models.money_terms import money_book
from projections.models.scorecard import sla_fact_months
from projections.models.scorecard_follow_up import sfu_months
from projections.queries.scorecard_query import scorecard_actuals
from projections.queries.source_merges import merges, signature

ENV = "SMARKETING_SCORECARD_CACHE"
# Per store, at most 512 entries; an entry is a few kB (the month's delays).
_cache = MarkedCache((sla_fact_months, sfu_months), max_entries=512)
# How often each month was computed (not served from the cache) in this process: for tests.
computed: Counter[str] = Counter()


def enabled() -> bool:
    return os.environ.get(ENV, "1") != "0"


def month_actuals(
    conn: Connection,
    requests: list[tuple[str, float, float]],
    *,
    calendar: Calendar = ALWAYS,
    **filters: str,
) -> list[dict[str, Any]]:
    """``scorecard_actuals`` of each (month, follow-up hours, attempts window days).

    The returned dicts may be shared with later callers: read them, do not change them.
    """
    chosen = tuple(sorted((k, v) for k, v in filters.items() if v))
    engine = conn.engine
    book = money_book(conn)
    if not enabled() or not _cache.usable(engine):
        return [_compute(conn, r, calendar, chosen, book.for_month(r[0])) for r in requests]
    versions = _marks(conn, [month for month, _, _ in requests])
    merged = signature(merges(conn))  # a merge changes who a source's revenue credits
    results = []
    for request in requests:
        version = versions.get(request[0])
        money = book.for_month(request[0])
        key = (request, calendar, chosen, version, merged, money)
        found = _cache.get(engine, key) if version is not None else None
        if found is None:
            found = _compute(conn, request, calendar, chosen, money)
            if version is not None:
                _cache.put(engine, key, found)
        results.append(found)
    return results


def _compute(
    conn: Connection, request: tuple[str, float, float], calendar: Calendar, filters: tuple, money: MoneyTerms
) -> dict[str, Any]:
    month, hours, window_days = request
    computed[month] += 1
    return scorecard_actuals(
        conn,
        month,
        follow_up_hours=hours,
        attempts_window_days=window_days,
        calendar=calendar,
        money=money,
        **dict(filters),
    )


def _marks(conn: Connection, months: list[str]) -> dict[str, tuple[int, int]]:
    """Per month with both marks: (facts mark, follow-up mark), in one statement."""
    wanted = sorted(set(months))
    statement = union_all(
        *(
            select(literal(n).label("n"), t.c.month, t.c.position).where(t.c.month.in_(wanted))
            for n, t in enumerate((sla_fact_months, sfu_months))
        )
    )
    found: dict[str, list[int | None]] = {}
    for n, month, position in conn.execute(statement):
        found.setdefault(month, [None, None])[n] = int(position)
    return {m: (a, b) for m, (a, b) in found.items() if a is not None and b is not None}
