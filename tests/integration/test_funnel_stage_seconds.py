"""The funnel's median days read a cohort's stage times through a per-lead
LATERAL probe on PostgreSQL (a plan fix): the rows must be exactly those of the
plain join, for every cohort and filter."""

from collections import Counter

from projections.queries import funnel_query
from projections.queries.funnel_query import _stage_seconds, _where
from smarketing.bootstrap import Services
from tests.integration.fixed_history import build_history


def test_one_cohort_reads_the_same_stage_times_as_the_join(services: Services) -> None:
    build_history(services)
    with services.read_engine.connect() as conn:
        cases = [(m, {}) for m in funnel_query.cohort_months(conn)]
        cases += [("2026-10", {"source": "paid_search"}), ("2026-10", {"owner": "nobody"})]
        for month, filters in cases:
            where = _where(month, filters)
            one = Counter(map(tuple, conn.execute(_stage_seconds(conn, where, one_cohort=True))))
            joined = Counter(map(tuple, conn.execute(_stage_seconds(conn, where, one_cohort=False))))
            assert one == joined, (month, filters)
        assert sum(one.values()) == 0  # the last case matches no lead
        assert len(cases) > 4
