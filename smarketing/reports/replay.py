"""A month's figures computed from the event log with the current code, never
from the live read models.

Why: the report must be reproducible. Anyone holding the log can rebuild the
same figures for the same (month, log position) and compare the digest
(``smarketing.reports.month_digest``), whatever state (or lag, or bug fix) the
live read models are in. The figures come from the report replica
(``smarketing.reports.replica``: the report's read models, caught up
incrementally to the position), or, for a position the replica has passed,
from a replay of the log into a throw-away in-memory database with the same
projections.
"""

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.pool import StaticPool

from domain.agreement import ATTEMPTS_WINDOW_DAYS, FOLLOW_UP_HOURS
from domain.agreement_terms import CALENDAR, calendar_of
from domain.errors import N_
from projections.cached.scorecard_view import month_terms
from projections.engine.projector import Projection, Projector
from projections.engine.quarantine import quarantine
from projections.engine.schema import metadata, tracking
from projections.models.agreement_docs import TERMS, current_docs
from projections.queries.funnel_query import funnel, funnel_breakdown
from projections.queries.scorecard_query import scorecard_actuals
from projections.queries.source_merges import merges_until
from smarketing.audit.chain import seal_for
from smarketing.bootstrap import Services, build_projections
from smarketing.reports import month_digest, sections
from smarketing.reports.errors import ReportError, ReportNotReady, refuse_if_stuck
from smarketing.reports.figures import MonthlyFigures
from smarketing.reports.month_digest import replica_metadata
from smarketing.reports.replica import ReplicaBehind, open_replica, report_projections

UTC_ZONE = ZoneInfo("UTC")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def check_month(month: str, today: date) -> str:
    """Return ``month`` when it is a well-formed YYYY-MM not after ``today``'s month."""
    match = _MONTH.match((month or "").strip())
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1970:
        raise ReportError(
            N_("“%(month)s” is not a month: use the form YYYY-MM, e.g. 2026-10."), month=str(month)[:20]
        )
    month = match[0]
    if month > today.strftime("%Y-%m"):
        raise ReportError(
            N_("%(month)s has not started yet; the latest month with a report is %(latest)s."),
            month=month,
            latest=f"{today:%Y-%m}",
        )
    return month


def current_position(services: Services) -> int:
    return services.app.recorder.max_notification_id() or 0


def check_position(services: Services, log_position: int | None) -> int:
    latest = current_position(services)
    if log_position is None:
        return latest
    if log_position < 0 or log_position > latest:
        raise ReportError(
            N_("Log position %(position)s does not exist; the log ends at %(latest)s."),
            position=log_position,
            latest=latest,
        )
    return log_position


def replay_engine(services: Services, until: int, projections: list[Projection] | None = None) -> Engine:
    """A private in-memory database holding the read models (all, unless
    ``projections`` says which) as of log position ``until``."""
    # StaticPool: "sqlite://" is one database per connection, so every
    # connection must be the same one or the tables vanish between queries.
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    if projections is None:
        metadata.create_all(engine)
        replica_metadata.create_all(engine)
        projections = build_projections(services.settings)
    else:  # just their tables: creating all forty took longer than a small replay
        tables = {table for projection in projections for table in projection.tables}
        for table in {tracking, quarantine, *tables}:
            table.create(engine)
    app = services.app
    projector = Projector(app.recorder, app.mapper, engine, projections)
    projector.create_tracking_rows()
    if until > 0:
        projector.catch_up(until=until)
        refuse_if_stuck(projector)
    return engine


def monthly_figures(
    services: Services,
    month: str,
    *,
    log_position: int | None = None,
    today: date | None = None,
    budget: float | None = None,
) -> MonthlyFigures:
    """The month's figures at ``log_position`` (default: the latest the replica reaches).

    ``budget``: seconds the replica may spend catching up (a web request must
    answer before its worker is killed); ``ReportNotReady`` when not enough.
    """
    today = today or datetime.now(services.settings.tz).date()
    month = check_month(month, today)
    if log_position is not None:
        log_position = check_position(services, log_position)
    settings, app = services.settings, services.app
    cutoff = sealed_merges_cutoff(services, month)
    replica = open_replica(settings, app.recorder, app.mapper)
    try:
        with merges_until(cutoff):
            figures = replica.read_at(
                log_position, lambda conn, at: read_figures(conn, month, at, today, settings.tz), budget
            )
    except ReplicaBehind as behind:
        raise ReportNotReady(
            N_(
                "The report's figures are being prepared from the event log (%(done)s of "
                "%(target)s events so far). Try again in a few minutes."
            ),
            done=behind.done,
            target=behind.target,
        ) from None
    finally:
        replica.close()
    if figures is None:
        # The replica is past the position asked for (an older report): replay
        # the log into memory with the same projections (slow, but the same figures).
        position = check_position(services, log_position)
        engine = replay_engine(services, position, report_projections(settings))
        try:
            with engine.connect() as conn, merges_until(cutoff):
                figures = read_figures(conn, month, position, today, settings.tz)
        finally:
            engine.dispose()
    figures.discuss = sections.discuss(figures)
    return figures


def sealed_merges_cutoff(services: Services, month: str) -> int | None:
    """A sealed month's report applies only the source merges recorded by its seal
    (projections.queries.source_merges): a later merge must not change a closed month's PDF."""
    with services.read_engine.connect() as conn:
        seal = seal_for(conn, month)
    return None if seal is None else seal.position


def read_figures(
    conn: Connection, month: str, position: int, today: date, tz: ZoneInfo = UTC_ZONE
) -> MonthlyFigures:
    """Every figure of the report from read models standing at ``position``.

    Measured and graded as the dashboard measures and grades the month: with the month's
    own terms (N hours, D days) and the agreement's calendar (as of ``position``), by the
    same functions, so the report's statuses are the dashboard's."""
    digest, events_in_month = month_digest.read(conn, month)
    cohort = funnel(conn, month)
    calendar = calendar_of(current_docs(conn, TERMS).get(CALENDAR), tz)
    terms = month_terms(conn, month)
    actuals = scorecard_actuals(
        conn,
        month,
        follow_up_hours=float(terms[FOLLOW_UP_HOURS]),
        attempts_window_days=float(terms[ATTEMPTS_WINDOW_DAYS]),
        calendar=calendar,
    )
    return MonthlyFigures(
        month=month,
        log_position=position,
        digest=digest,
        generated_at=datetime.now(UTC),
        events_in_month=events_in_month,
        has_data=events_in_month > 0 or cohort["stages"][0]["count"] > 0,
        funnel=cohort,
        breakdowns={d: funnel_breakdown(conn, d, month) for d in ("source", "campaign", "owner")},
        actuals={k: v for k, v in actuals.items() if k != "follow_up_delays_hours"},
        follow_up=sections.follow_up(actuals),
        rejected=sections.rejected(conn, month),
        deals=sections.deals(conn, month),
        scorecard=sections.scorecard(conn, month, today, calendar),
    )
