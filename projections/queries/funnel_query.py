"""Read side of the funnel: plain dicts for pages, exports and reports."""

from typing import Any

from sqlalchemy import Connection, and_, func, select, true

from domain.vocabulary import FUNNEL
from projections.engine import distinct
from projections.models.funnel import REACHED, funnel_leads, funnel_stage_times
from projections.queries.source_merges import merges, source_clause, source_group
from projections.queries.stats import median, ratio

DIMENSIONS = ("source", "campaign", "owner")


def _where(month: str | None, filters: dict[str, str], merged: dict[str, str] | None = None) -> list[Any]:
    clauses = [] if not month else [funnel_leads.c.cohort_month == month]
    for dimension in DIMENSIONS:
        if filters.get(dimension):
            if dimension == "source":  # merged sources count as their target (source_merges)
                clauses.append(source_clause(funnel_leads.c.source, filters[dimension], merged or {}))
            else:
                clauses.append(funnel_leads.c[dimension] == filters[dimension])
    return clauses


def _counts() -> list[Any]:
    return [func.count().label("Lead")] + [
        func.count(funnel_leads.c[REACHED[stage.value]]).label(stage.value) for stage in FUNNEL[1:]
    ]


def funnel(conn: Connection, month: str | None = None, **filters: str) -> dict[str, Any]:
    """Cohort funnel: leads captured in ``month`` and how far they got."""
    where = _where(month, filters, merges(conn) if filters.get("source") else None)
    counts = (
        conn.execute(
            select(
                *_counts(),
                func.count(funnel_leads.c.disqualified_at).label("disqualified"),
                func.coalesce(func.sum(funnel_leads.c.recycled_count), 0).label("recycled"),
                func.coalesce(func.sum(funnel_leads.c.rejected_count), 0).label("rejected"),
                func.coalesce(func.sum(funnel_leads.c.skip_count), 0).label("skips"),
            ).where(and_(True, *where))
        )
        .one()
        ._mapping
    )
    stages: list[dict[str, Any]] = []
    previous = None
    for stage in FUNNEL:
        count = int(counts[stage.value])
        stages.append(
            {
                "stage": stage.value,
                "count": count,
                "conversion": None if previous is None else ratio(count, previous),
            }
        )
        previous = count
    return {
        "month": month,
        "filters": {k: v for k, v in filters.items() if v},
        "stages": stages,
        "lead_to_customer": ratio(stages[-1]["count"], stages[0]["count"]),
        "median_days_in_stage": _median_days(conn, where, one_cohort=bool(month)),
        "disqualified": int(counts["disqualified"]),
        "recycled": int(counts["recycled"]),
        "rejected": int(counts["rejected"]),
        "skips": int(counts["skips"]),
    }


def reached_counts(conn: Connection, months: list[str]) -> dict[str, int]:
    """How many leads of these cohorts reached each stage, summed: the funnel's counts
    without its medians (the reverse-funnel plan needs only these)."""
    row = conn.execute(select(*_counts()).where(funnel_leads.c.cohort_month.in_(months))).one()
    return {stage.value: int(row._mapping[stage.value]) for stage in FUNNEL}


def _median_days(conn: Connection, where: list[Any], one_cohort: bool) -> dict[str, float | None]:
    rows = conn.execute(_stage_seconds(conn, where, one_cohort)).all()
    by_stage: dict[str, list[float]] = {}
    for stage, seconds in rows:
        by_stage.setdefault(stage, []).append(seconds / 86400)
    return {stage.value: median(by_stage.get(stage.value, [])) for stage in FUNNEL[:-1]}


def _stage_seconds(conn: Connection, where: list[Any], one_cohort: bool) -> Any:
    """(stage, seconds ≥ 0) of the chosen leads' stage times."""
    times = funnel_stage_times
    # SQLite already probes the (lead_id, stage, seconds) index per lead; for every
    # cohort at once a hashed scan is the right plan on PostgreSQL too.
    if conn.dialect.name != "postgresql" or not one_cohort:
        return (
            select(times.c.stage, times.c.seconds)
            .join(funnel_leads, funnel_leads.c.lead_id == times.c.lead_id)
            .where(and_(True, *where), times.c.seconds >= 0)
        )
    # PostgreSQL hashed a sequential scan of every lead's stage times (160k rows at
    # 100k leads) for a month's ~5k leads; OFFSET 0 keeps the LATERAL subquery from
    # being flattened into that join, so it probes the index per lead, in a third of the time.
    per_lead = (
        select(times.c.stage, times.c.seconds)
        .where(times.c.lead_id == funnel_leads.c.lead_id, times.c.seconds >= 0)
        .offset(0)
        .lateral("per_lead")
    )
    return (
        select(per_lead.c.stage, per_lead.c.seconds)
        .select_from(funnel_leads)
        .join(per_lead, true())
        .where(*where)
    )


def funnel_breakdown(
    conn: Connection, dimension: str, month: str | None = None, **filters: str
) -> list[dict]:
    """One funnel row per value of ``dimension`` (source, campaign or owner)."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"Unknown dimension {dimension!r}")
    merged = merges(conn)
    column = (
        source_group(funnel_leads.c.source, merged) if dimension == "source" else funnel_leads.c[dimension]
    )
    rows = conn.execute(
        select(column.label("value"), *_counts())
        .where(and_(True, *_where(month, filters, merged)))
        .group_by(column)
        .order_by(func.count().desc(), column)
    ).all()
    result = []
    for row in rows:
        m = row._mapping
        counts = {stage.value: int(m[stage.value]) for stage in FUNNEL}
        result.append(
            {
                "value": m["value"],
                "counts": counts,
                "lead_to_customer": ratio(counts[FUNNEL[-1].value], counts[FUNNEL[0].value]),
            }
        )
    return result


def cohort_months(conn: Connection) -> list[str]:
    # Loose index scans (projections.engine.distinct): the dashboard asks on every request.
    return distinct.distinct_values(conn, funnel_leads.c.cohort_month)


def dimension_values(conn: Connection, dimension: str) -> list[str]:
    return distinct.distinct_values(conn, funnel_leads.c[dimension])
