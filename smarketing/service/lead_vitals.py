"""What a lead page says about where the lead stands against the agreement: how long it
has been in its stage, its score, and its SLA follow-up (the deadline on the agreement's
calendar, whether it passed, and how long the first contact took)."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from domain.business_hours import deadline
from projections.models.scoring import lead_score
from projections.queries.leads_query import get_summary
from smarketing.service.sla_terms import SLAInForce


def lead_vitals(conn: Connection, lead: dict[str, Any], now: datetime, sla: SLAInForce) -> dict[str, Any]:
    summary = get_summary(conn, lead["id"].replace("-", "")) or {}
    mql_at, first_contact = summary.get("mql_at"), summary.get("first_contact_at")
    due = deadline(mql_at, sla.follow_up_hours, sla.calendar) if mql_at else None
    first_follow_up = None
    if first_contact is not None and mql_at is not None and first_contact >= mql_at:
        first_follow_up = first_contact - mql_at
    contacted = first_follow_up is not None
    return {
        "in_stage": max(now - lead["stage_entered_at"], timedelta(0)),
        "score": lead_score(conn, lead["id"].replace("-", ""), now, sla.scoring),
        "follow_up_hours": sla.follow_up_hours,
        "due": due,
        "overdue": due is not None and not contacted and now > due,
        "first_follow_up": first_follow_up,
    }
