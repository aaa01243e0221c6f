"""Read side of the SLA scorecard: the month's actual figures.

Definitions (the same words both teams signed up to; also in the README):
- revenue: amounts of deals won in the month; marketing revenue: of those, the
  leads whose source is credited to marketing;
- average deal per opportunity: revenue / opportunities closed (won or lost) in the month;
- lead->customer (marketing): deals won in the month / leads captured in the month;
- MQLs delivered: leads that entered MQL in the month (once per lead);
- first follow-up: for each MQL of the month, time from entering MQL to the
  first contact attempt at or after it;
- attempts per MQL: contact attempts within the window after entering MQL;
- lead->customer (sales): deals won in the month / MQLs delivered in the month.
"""

from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, select

from projections.scorecard import sla_facts
from projections.stats import cents_to_money, median, percentile, ratio

DIMENSIONS = ("source", "campaign", "owner", "sourced_by")


def _where(month: str, filters: dict[str, str]) -> list[Any]:
    clauses = [sla_facts.c.month == month]
    for dimension in DIMENSIONS:
        if filters.get(dimension):
            clauses.append(sla_facts.c[dimension] == filters[dimension])
    return clauses


def _count(conn: Connection, where: list[Any], kind: str, distinct: bool = False) -> int:
    counted = func.count(sla_facts.c.lead_id.distinct()) if distinct else func.count()
    return int(conn.execute(select(counted).where(*where, sla_facts.c.kind == kind)).scalar_one())


def _revenue_cents(conn: Connection, where: list[Any], *extra: Any) -> int:
    total = conn.execute(
        select(func.coalesce(func.sum(sla_facts.c.amount_cents), 0)).where(
            *where, sla_facts.c.kind == "won", *extra
        )
    ).scalar_one()
    return int(total)


def scorecard_actuals(
    conn: Connection,
    month: str,
    *,
    follow_up_hours: float = 24,
    attempts_window_days: float = 7,
    **filters: str,
) -> dict[str, Any]:
    where = _where(month, filters)
    leads = _count(conn, where, "captured")
    mqls = _count(conn, where, "mql", distinct=True)
    won = _count(conn, where, "won")
    lost = _count(conn, where, "lost")
    revenue = _revenue_cents(conn, where)
    marketing_revenue = _revenue_cents(conn, where, sla_facts.c.sourced_by == "marketing")
    follow_up = _follow_up(conn, where, follow_up_hours, attempts_window_days)
    return {
        "month": month,
        "filters": {k: v for k, v in filters.items() if v},
        "leads": leads,
        "mqls": mqls,
        "sqls": _count(conn, where, "sql", distinct=True),
        "opportunities": _count(conn, where, "opportunity", distinct=True),
        "won": won,
        "lost": lost,
        "rejected": _count(conn, where, "rejected"),
        "revenue": cents_to_money(revenue),
        "marketing_revenue": cents_to_money(marketing_revenue),
        "avg_deal_per_opportunity": cents_to_money(round(revenue / (won + lost))) if won + lost else None,
        "lead_to_customer": ratio(won, leads),
        "sales_conversion": ratio(won, mqls),
        **follow_up,
    }


def _follow_up(conn: Connection, where: list[Any], hours: float, window_days: float) -> dict[str, Any]:
    mql_rows = conn.execute(
        select(sla_facts.c.lead_id, func.min(sla_facts.c.occurred_at))
        .where(*where, sla_facts.c.kind == "mql")
        .group_by(sla_facts.c.lead_id)
    ).all()
    entered = dict(mql_rows)
    attempts: dict[str, list] = {lead_id: [] for lead_id in entered}
    lead_ids = list(entered)
    for i in range(0, len(lead_ids), 500):
        chunk = lead_ids[i : i + 500]
        for lead_id, at in conn.execute(
            select(sla_facts.c.lead_id, sla_facts.c.occurred_at).where(
                and_(sla_facts.c.kind == "contact_attempt", sla_facts.c.lead_id.in_(chunk))
            )
        ):
            if at >= entered[lead_id]:
                attempts[lead_id].append(at)
    delays = [
        (min(times) - entered[lead_id]).total_seconds() / 3600 for lead_id, times in attempts.items() if times
    ]
    window = timedelta(days=window_days)
    counts = [sum(1 for t in times if t - entered[lead_id] <= window) for lead_id, times in attempts.items()]
    within = sum(1 for d in delays if d <= hours)
    return {
        "follow_up_median_hours": median(delays),
        "follow_up_p95_hours": percentile(delays, 95),
        "follow_up_within_target": ratio(within, len(entered)),
        "follow_up_delays_hours": sorted(delays),
        "mqls_never_contacted": len(entered) - len(delays),
        "attempts_per_mql": ratio(sum(counts), len(entered)),
    }
