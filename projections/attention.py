"""Follow-up discipline, read at ``now`` against the SLA in force.

For every lead now in stage MQL (so not yet qualified, rejected or
disqualified), counted from the moment it last entered MQL:
- overdue first contact: its first-contact deadline
  (``domain.business_hours.deadline`` of ``follow_up_hours`` on the team
  calendar) has passed and no contact attempt was made since it entered MQL;
- under-contacted: ``attempts_window_days`` have passed since it entered MQL
  and fewer than ``attempts_per_mql`` attempts were made within that window.

``needs_attention`` is the definition written out in full, read from every MQL
and its attempts; the pages read the same lists a page at a time from the
follow_up read model (``projections.attention_query``), and the tests hold the
two equal.

``follow_up_breaches`` is the scorecard's count for a month: MQLs entered in
the month whose first contact came after the deadline, or that have none and
whose deadline has passed by ``now``. MQLs still within their hours are not
breaches yet.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from domain.business_hours import ALWAYS, Calendar, deadline, latest_start
from domain.vocabulary import Stage
from projections.lead_summary import lead_summary
from projections.rows import chunks
from projections.schema import from_db, to_db
from projections.scorecard import sla_facts
from projections.scorecard_query import MqlEntries


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


def follow_up_breaches(
    conn: Connection,
    month: str,
    *,
    follow_up_hours: float,
    now: datetime | None,
    calendar: Calendar = ALWAYS,
    **filters: str,
) -> int:
    """See the module docstring; ``now`` None counts every deadline as run out."""
    return _breaches(conn, MqlEntries(month, filters, conn=conn), follow_up_hours, now, calendar)


def breaches_between(
    conn: Connection,
    start: datetime,
    end: datetime,
    *,
    follow_up_hours: float,
    now: datetime,
    calendar: Calendar,
) -> int:
    """The same count for MQLs entered in [start, end) — a meeting's window."""
    window = MqlEntries(where=lambda t: [t.c.entered_at >= to_db(start), t.c.entered_at < to_db(end)])
    return _breaches(conn, window, follow_up_hours, now, calendar)


def _breaches(
    conn: Connection, entries: MqlEntries, follow_up_hours: float, now: datetime | None, calendar: Calendar
) -> int:
    # Counted on the scorecard_follow_up read model (each MQL's first attempt),
    # not by fetching every attempt of the month's MQLs.
    entry = entries.entry
    if calendar.every_hour_counts:  # first > entered + N h, exactly, as a delay range
        late = entries.count(
            conn, entry.c.first_delay_seconds > timedelta(hours=follow_up_hours).total_seconds()
        )
    else:
        late = sum(
            1
            for start, first in entries.first_contacts(conn)
            if first > deadline(start, follow_up_hours, calendar)
        )
    unanswered = [entry.c.first_attempt_at.is_(None)]
    if now is not None:  # deadline(entered) < now  <=>  entered < latest_start(now)
        unanswered.append(entry.c.entered_at < to_db(latest_start(now, follow_up_hours, calendar)))
    return late + entries.count(conn, *unanswered)
