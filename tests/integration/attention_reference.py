"""The follow-up rules of projections.queries.attention written out in full: every MQL and its
attempts read and checked one by one. Too slow for a page (seconds at 100k leads), it is
the reference the read models' lists and counts are held equal to."""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from domain.business_hours import ALWAYS, Calendar, deadline
from domain.vocabulary import Stage
from projections.engine.rows import chunks
from projections.engine.schema import from_db
from projections.models.lead_summary import lead_summary
from projections.models.scorecard import sla_facts


def _attempts(conn: Connection, lead_ids: list[str]) -> dict[str, list[datetime]]:
    found: dict[str, list[datetime]] = {lead_id: [] for lead_id in lead_ids}
    for chunk in chunks(lead_ids):
        for lead_id, at in conn.execute(
            select(sla_facts.c.lead_id, sla_facts.c.occurred_at).where(
                sla_facts.c.kind == "contact_attempt", sla_facts.c.lead_id.in_(chunk)
            )
        ):
            found[lead_id].append(from_db(at))
    return found


def needs_attention(
    conn: Connection,
    now: datetime,
    *,
    follow_up_hours: float,
    attempts_per_mql: int,
    window_days: float,
    calendar: Calendar = ALWAYS,
) -> list[dict[str, Any]]:
    """One entry per owner (unassigned first): ``{"owner", "overdue", "under_contacted"}``."""
    rows = conn.execute(
        select(
            lead_summary.c.lead_id,
            lead_summary.c.name,
            lead_summary.c.company,
            lead_summary.c.owner,
            lead_summary.c.mql_at,
        ).where(lead_summary.c.stage == Stage.MQL.value, lead_summary.c.mql_at.is_not(None))
    ).all()
    attempts = _attempts(conn, [r.lead_id for r in rows])
    window = timedelta(days=window_days)
    owners: dict[str, dict[str, Any]] = {}
    for r in rows:
        entered = from_db(r.mql_at)
        since = sorted(at for at in attempts[r.lead_id] if at >= entered)
        lead = {"lead_id": r.lead_id, "name": r.name, "company": r.company, "mql_at": entered}
        due = deadline(entered, follow_up_hours, calendar)
        group = owners.setdefault(r.owner, {"owner": r.owner, "overdue": [], "under_contacted": []})
        if not since and now > due:
            group["overdue"].append(lead | {"due": due})
        within = [at for at in since if at - entered <= window]
        if now >= entered + window and len(within) < attempts_per_mql:
            group["under_contacted"].append(lead | {"attempts": len(within)})
    result = [g for g in owners.values() if g["overdue"] or g["under_contacted"]]
    for group in result:
        group["overdue"].sort(key=lambda lead: lead["mql_at"])
        group["under_contacted"].sort(key=lambda lead: lead["mql_at"])
    return sorted(result, key=lambda g: (g["owner"] != "", g["owner"]))


def count_attention(groups: list[dict[str, Any]]) -> dict[str, int]:
    return {
        "overdue": sum(len(g["overdue"]) for g in groups),
        "under_contacted": sum(len(g["under_contacted"]) for g in groups),
    }
