"""A cohort month's funnel, kept in process until a lead of that cohort changes.

The dashboard shows one cohort's funnel (counts, conversions, median days in
stage: a probe of the stage times per lead of the cohort, the dashboard's
largest query on PostgreSQL). Its figures change only when an event changes a
row of one of the cohort's leads (captured, owner, stage), and the funnel
projection marks the cohort month with that event's position in
``funnel_months`` (``projections.engine.month_marks``). Entries are keyed by the
month, the filters and that mark, read on every call, so a change projected by
any process is seen at once; a month without a mark is computed every time.
The mark is read before the figures, so an entry never holds figures older
than its key.

Interactions (calls, e-mails: most writes) do not change the funnel, so a busy
team's dashboard keeps its cohort funnel until a lead of it moves.
``SMARKETING_SCORECARD_CACHE=0`` turns this cache off too (every call computes).
"""

from collections import Counter
from copy import deepcopy
from typing import Any

from sqlalchemy import Connection, select

from projections.cached.marked_cache import MarkedCache
from projections.cached.scorecard_cache import enabled
from projections.models.funnel import funnel_months
from projections.queries.funnel_query import funnel
from projections.queries.source_merges import merges, signature

# Per store, at most 256 entries; an entry is a small dict.
_cache = MarkedCache((funnel_months,), max_entries=256)
# How often each month was computed (not served from the cache) in this process: for tests.
computed: Counter[str] = Counter()


def cohort_funnel(conn: Connection, month: str, **filters: str) -> dict[str, Any]:
    """``funnel_query.funnel(conn, month, **filters)``, from the cache while the
    cohort's mark is unchanged. The caller gets its own copy."""
    engine = conn.engine
    mark = None
    if enabled() and _cache.usable(engine):
        mark = conn.execute(select(funnel_months.c.position).where(funnel_months.c.month == month)).scalar()
    merged = signature(merges(conn)) if filters.get("source") else ()  # a merge moves a source's leads
    key = (month, tuple(sorted((k, v) for k, v in filters.items() if v)), mark, merged)
    found = _cache.get(engine, key) if mark is not None else None
    if found is not None:
        return deepcopy(found)
    computed[month] += 1
    result = funnel(conn, month, **filters)
    if mark is not None:
        _cache.put(engine, key, deepcopy(result))
    return result
