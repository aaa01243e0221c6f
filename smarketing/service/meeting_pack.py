"""What a joint meeting looks at: the figures since the last meeting, read from
the read models, and the agenda they suggest.

A pack for a period covers the period before it: the weekly meeting of week W
(held early in W) reviews Monday–Sunday of W−1; the monthly meeting of month M
reviews M−1. Periods are read in the team's time zone.
"""

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, case, func, select

from domain.agreement import add_months
from domain.meeting import MONTHLY, WEEKLY, clean_period
from domain.money import Known, money_figures
from projections.cached.scorecard_view import scorecard
from projections.engine.schema import to_db
from projections.models.agreement_docs import CRITERIA, PERSONA, TERMS, doc_history
from projections.models.money_terms import money_book
from projections.models.scorecard import sla_facts
from projections.models.targets import target_history
from projections.queries.attention import breaches_between
from smarketing.service.sla_terms import SLAInForce


def period_bounds(kind: str, period: str, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of the period itself, in UTC-comparable aware datetimes."""
    period = clean_period(kind, period)
    if kind == WEEKLY:
        year, week = period.split("-W")
        start = date.fromisocalendar(int(year), int(week), 1)
        return _midnight(start, tz), _midnight(start + timedelta(days=7), tz)
    first = date.fromisoformat(period + "-01")
    following = date.fromisoformat(add_months(period, 1) + "-01")
    return _midnight(first, tz), _midnight(following, tz)


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def previous_period(kind: str, period: str) -> str:
    if kind == MONTHLY:
        return add_months(period, -1)
    year, week = period.split("-W")
    monday = date.fromisocalendar(int(year), int(week), 1) - timedelta(days=7)
    iso = monday.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def current_period(kind: str, now: datetime, tz: ZoneInfo) -> str:
    local = now.astimezone(tz)
    if kind == MONTHLY:
        return local.strftime("%Y-%m")
    iso = local.date().isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def graded_month(kind: str, period: str, now: datetime, tz: ZoneInfo) -> str:
    """The month whose targets a meeting's agenda grades, by ``scorecard_view.scorecard``
    as the dashboard grades that month on the same day.

    A monthly meeting grades the month it reviews (M − 1, over by then). A weekly meeting
    grades the month in progress during its week: the month of today for this week's
    meeting (the month the dashboard opens on), of the week's last day for a past week,
    of its first day for a week ahead. Grading the reviewed week's month instead made
    Monday's agenda grade last month as over ("missed") while the dashboard graded the
    new month pro-rated ("on track").
    """
    period = clean_period(kind, period)
    if kind == MONTHLY:
        return previous_period(kind, period)
    start, end = period_bounds(kind, period, tz)
    today = now.astimezone(tz).date()
    day = min(max(today, start.date()), (end - timedelta(days=1)).date())
    return day.strftime("%Y-%m")


REASONS_SHOWN = 10
REACHED_KINDS = ("mql", "sql", "opportunity")


def _reasons(conn: Connection, kind: str, in_period: list[Any]) -> list[dict[str, Any]]:
    """The period's most frequent reasons of one kind, with how often each was given."""
    rows = conn.execute(
        select(sla_facts.c.reason, func.count())
        .where(sla_facts.c.kind == kind, *in_period)
        .group_by(sla_facts.c.reason)
        .order_by(func.count().desc(), sla_facts.c.reason)
        .limit(REASONS_SHOWN)
    )
    return [{"reason": reason or "", "count": int(n)} for reason, n in rows]


def changes(
    conn: Connection, start: datetime, end: datetime, now: datetime, sla: SLAInForce
) -> dict[str, Any]:
    in_period = [sla_facts.c.occurred_at >= to_db(start), sla_facts.c.occurred_at < to_db(end)]
    count = dict.fromkeys(("mql", "sql", "won", "lost", "rejected"), 0)
    known: dict[str, Known] = {}  # the wins' known amounts per currency (NULL: unknown)
    # Stages reached count once per lead, as the scorecard counts them (implied facts of a
    # skip included: docs/FIGURES.md "Reaching a stage"); wins, losses, rejections per fact.
    reached = case(
        (sla_facts.c.kind.in_(REACHED_KINDS), func.count(sla_facts.c.lead_id.distinct())), else_=func.count()
    )
    for kind, currency, n, amounts, cents in conn.execute(
        select(
            sla_facts.c.kind,
            sla_facts.c.currency,
            reached,
            func.count(sla_facts.c.amount_cents),
            func.coalesce(func.sum(sla_facts.c.amount_cents), 0),
        )
        .where(sla_facts.c.kind.in_(list(count)), *in_period)
        .group_by(sla_facts.c.kind, sla_facts.c.currency)
    ):
        count[kind] += int(n)
        if kind == "won":
            known[currency or "EUR"] = Known(int(cents), int(amounts))
    # Converted at the rates in force for the month the period starts in (domain.money).
    money = money_book(conn).for_month(start.astimezone(sla.calendar.tz).strftime("%Y-%m"))
    revenue, _ = money_figures(known, count["won"], money)
    reasons = {kind: _reasons(conn, kind, in_period) for kind in ("rejected", "lost")}
    breaches = breaches_between(
        conn, start, end, follow_up_hours=sla.follow_up_hours, now=now, calendar=sla.calendar
    )
    revisions = [h for h in target_history(conn) if start <= h["occurred_at"] < end]
    docs = [h for h in doc_history(conn, TERMS, PERSONA, CRITERIA, since=start) if h["occurred_at"] < end]
    return {
        "count": count,
        "revenue": revenue,
        "reasons": reasons,
        "breaches": breaches,
        "revisions": revisions,
        "doc_changes": docs,
    }


def agenda(
    conn: Connection, figures: dict[str, Any], month: str, now: datetime, sla: SLAInForce, open_actions: int
) -> list[dict[str, Any]]:
    """Talking points, most pressing first; each names the figure behind it. ``month`` is
    the month graded (``graded_month``), with the dashboard's function and arguments."""
    items: list[dict[str, Any]] = []
    if figures["breaches"]:
        items.append({"kind": "breaches", "n": figures["breaches"]})
    if figures["count"]["rejected"]:
        items.append({"kind": "rejected", "n": figures["count"]["rejected"]})
    card = scorecard(
        conn, month, today=now.astimezone(sla.calendar.tz).date(), now=now, calendar=sla.calendar
    )
    for side in ("marketing", "sales"):
        for row in card[side]:
            if row["status"] in ("missed", "at_risk"):
                items.append(
                    {
                        "kind": "metric",
                        "metric": row["metric"],
                        "status": row["status"],
                        "side": side,
                        "month": month,
                    }
                )
    if figures["count"]["lost"]:
        items.append({"kind": "lost", "n": figures["count"]["lost"]})
    if figures["revisions"] or figures["doc_changes"]:
        items.append({"kind": "revisions", "n": len(figures["revisions"]) + len(figures["doc_changes"])})
    if open_actions:
        items.append({"kind": "actions", "n": open_actions})
    return items
