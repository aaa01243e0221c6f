"""Which months hold any data: so a page opening on an empty month (e.g. the
current one, after importing only past history) can say so and point to the
latest month that has figures.

A month has data when a lead was captured in it (a funnel cohort) or any SLA
fact falls in it (an MQL, a contact, a win ... by business time, team zone).
Both look-ups read the leading column of an index: a range probe, not a scan.
"""

from sqlalchemy import Connection, exists, func, select

from projections.models.funnel import funnel_leads
from projections.models.scorecard import sla_facts


def month_has_data(conn: Connection, month: str) -> bool:
    facts = exists().where(sla_facts.c.month == month)
    cohort = exists().where(funnel_leads.c.cohort_month == month)
    return bool(conn.execute(select(facts | cohort)).scalar())


def latest_month_with_data(conn: Connection, up_to: str | None = None) -> str | None:
    """The latest month with data, not after ``up_to`` ("YYYY-MM") when given; None if none."""
    found = []
    for column in (sla_facts.c.month, funnel_leads.c.cohort_month):
        query = select(func.max(column))
        if up_to is not None:
            query = query.where(column <= up_to)  # "YYYY-MM" sorts as text in date order
        value = conn.execute(query).scalar()
        if value is not None:
            found.append(value)
    return max(found, default=None)
