"""The SLA as the pages apply it at a moment: targets in force this month plus
the standing terms (calendar, scoring, meetings) from the read models."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from domain.agreement import ATTEMPTS_PER_MQL, ATTEMPTS_WINDOW_DAYS, FOLLOW_UP_HOURS
from domain.agreement_terms import CALENDAR, MEETINGS, SCORING, calendar_of, scoring_config, section_values
from domain.business_hours import Calendar
from domain.scoring import ScoringConfig
from projections.models import score_state
from projections.models.agreement_docs import TERMS, current_docs
from projections.models.follow_up import count_follow_up
from projections.models.scoring import lead_scores
from projections.models.targets import targets_for

# Used when the agreement says nothing: the same defaults as the scorecard.
DEFAULT_FOLLOW_UP_HOURS = Decimal(24)
DEFAULT_WINDOW_DAYS = Decimal(7)
DEFAULT_ATTEMPTS = Decimal(2)


@dataclass(frozen=True)
class SLAInForce:
    month: str
    follow_up_hours: float
    attempts_per_mql: int
    window_days: float
    calendar: Calendar
    scoring: ScoringConfig
    meetings: dict[str, Any]
    terms: dict[str, dict[str, Any]]


def sla_in_force(conn: Connection, now: datetime, tz: ZoneInfo) -> SLAInForce:
    month = now.astimezone(tz).strftime("%Y-%m")
    targets = targets_for(conn, month)
    terms = current_docs(conn, TERMS)
    return SLAInForce(
        month=month,
        follow_up_hours=float(targets.get(FOLLOW_UP_HOURS, DEFAULT_FOLLOW_UP_HOURS)),
        attempts_per_mql=int(
            targets.get(ATTEMPTS_PER_MQL, DEFAULT_ATTEMPTS).to_integral_value("ROUND_CEILING")
        ),
        window_days=float(targets.get(ATTEMPTS_WINDOW_DAYS, DEFAULT_WINDOW_DAYS)),
        calendar=calendar_of(terms.get(CALENDAR), tz),
        scoring=scoring_config(terms.get(SCORING)),
        meetings=section_values(terms, MEETINGS),
        terms=terms,
    )


def overdue_terms(conn: Connection, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """The lead list's "follow-up overdue" filter measured like the dashboard's count."""
    sla = sla_in_force(conn, now, tz)
    return {"follow_up_hours": sla.follow_up_hours, "calendar": sla.calendar}


def agreement_counts(conn: Connection, now: datetime, tz: ZoneInfo) -> dict[str, Any]:
    """For the dashboard: the calendar in force and how many MQLs and leads need a move.

    Counts by index range from read models kept for them (``follow_up``,
    ``score_state``), not by reading every MQL and open lead per request.
    """
    sla = sla_in_force(conn, now, tz)
    attention = count_follow_up(
        conn,
        now,
        follow_up_hours=sla.follow_up_hours,
        attempts_per_mql=sla.attempts_per_mql,
        window_days=sla.window_days,
        calendar=sla.calendar,
    )
    if score_state.is_current(conn, sla.scoring):
        ready = score_state.count_ready(conn, now)
    else:  # just after a terms change, until the projector has re-scored: the slow, exact way
        ready = sum(1 for s in lead_scores(conn, now, sla.scoring) if s["score"] >= sla.scoring.threshold)
    return {"calendar": sla.calendar, "ready": ready, **attention}
