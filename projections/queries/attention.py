"""Follow-up discipline, read at ``now`` against the SLA in force.

For every lead now in stage MQL (so not yet qualified, rejected or
disqualified), counted from the moment it last entered MQL:
- overdue first contact: its first-contact deadline
  (``domain.business_hours.deadline`` of ``follow_up_hours`` on the team
  calendar) has passed and no contact attempt was made since it entered MQL;
- under-contacted: ``attempts_window_days`` have passed since it entered MQL
  and fewer than ``attempts_per_mql`` attempts were made within that window.

The pages read these lists a page at a time from the follow_up read model
(``projections.queries.attention_query``); the tests hold them equal to the definition
written out in full (tests/integration/attention_reference.py).

``follow_up_breaches`` is the scorecard's count for a month: MQLs entered in
the month whose first contact came after the deadline, or that have none and
whose deadline has passed by ``now``. MQLs still within their hours are not
breaches yet.
"""

from datetime import datetime, timedelta

from sqlalchemy import Connection

from domain.business_hours import ALWAYS, Calendar, deadline, latest_start
from projections.engine.schema import to_db
from projections.queries.scorecard_query import MqlEntries


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
