"""A cohort month's funnel, kept in process until a lead of that cohort changes.

The dashboard shows one cohort's funnel (counts, conversions, median days in
stage: a probe of the stage times per lead of the cohort, the dashboard's
largest query on PostgreSQL). Its figures change only when an event changes a
row of one of the cohort's leads (captured, owner, stage), and the funnel
projection marks the cohort month with that event's position in
``funnel_months`` (``projections.month_marks``). Entries are keyed by the
month, the filters and that mark, read on every call, so a change projected by
any process is seen at once; a month without a mark is computed every time.
The mark is read before the figures, so an entry never holds figures older
than its key.

Interactions (calls, e-mails: most writes) do not change the funnel, so a busy
team's dashboard keeps its cohort funnel until a lead of it moves.
``SMARKETING_SCORECARD_CACHE=0`` turns this cache off too (every call computes).
"""

import threading
from collections import Counter, OrderedDict
from copy import deepcopy
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, inspect, select

from projections.funnel import funnel_months
from projections.funnel_query import funnel
from projections.scorecard_cache import enabled

MAX_ENTRIES = 256  # per engine; an entry is a small dict

_caches: "WeakKeyDictionary[Engine, OrderedDict[tuple, dict[str, Any]] | None]" = WeakKeyDictionary()
_lock = threading.Lock()
# How often each month was computed (not served from the cache) in this process: for tests.
computed: Counter[str] = Counter()


def cohort_funnel(conn: Connection, month: str, **filters: str) -> dict[str, Any]:
    """``funnel_query.funnel(conn, month, **filters)``, from the cache while the
    cohort's mark is unchanged. The caller gets its own copy."""
    cache = _cache(conn.engine) if enabled() else None
    mark = None
    if cache is not None:
        mark = conn.execute(select(funnel_months.c.position).where(funnel_months.c.month == month)).scalar()
    key = (month, tuple(sorted((k, v) for k, v in filters.items() if v)), mark)
    if cache is not None and mark is not None:
        with _lock:
            found = cache.get(key)
            if found is not None:
                cache.move_to_end(key)
                return deepcopy(found)
    computed[month] += 1
    result = funnel(conn, month, **filters)
    if cache is not None and mark is not None:
        with _lock:
            cache[key] = deepcopy(result)
            while len(cache) > MAX_ENTRIES:
                cache.popitem(last=False)
    return result


def _cache(engine: Engine) -> "OrderedDict[tuple, dict[str, Any]] | None":
    """The engine's cache; None for a store whose mark table ``flask db init`` has
    not created yet (checked once per engine): its funnels are always computed."""
    with _lock:
        if engine in _caches:
            return _caches[engine]
    ready = inspect(engine).has_table(funnel_months.name)
    with _lock:
        return _caches.setdefault(engine, OrderedDict() if ready else None)
