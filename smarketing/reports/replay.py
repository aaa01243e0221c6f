"""A month's figures computed by replaying the event log into a throw-away
in-memory database, never from the live read models.

Why replay: the report must be reproducible. Anyone holding the log can rebuild
the same figures for the same (month, log position) and compare the digest,
whatever state (or lag, or bug fix) the live read models are in.
"""

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from eventsourcing.persistence import Notification
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import StaticPool

from projections.funnel_query import funnel, funnel_breakdown
from projections.projector import Projector
from projections.schema import metadata, month_of
from projections.scorecard_query import scorecard_actuals
from smarketing.bootstrap import Services, build_projections
from smarketing.reports import sections

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_PAGE = 1000


class ReportError(ValueError):
    """A report was asked for something it cannot produce; the message is for people."""


@dataclass
class MonthlyFigures:
    month: str
    log_position: int
    digest: str
    generated_at: datetime
    events_in_month: int
    has_data: bool
    funnel: dict[str, Any]
    breakdowns: dict[str, list[dict[str, Any]]]
    actuals: dict[str, Any]
    follow_up: dict[str, Any]
    rejected: dict[str, Any]
    deals: dict[str, list[dict[str, Any]]]
    scorecard: dict[str, Any] | None = None
    discuss: list[dict[str, Any]] = field(default_factory=list)


def check_month(month: str, today: date) -> str:
    """Return ``month`` when it is a well-formed YYYY-MM not after ``today``'s month."""
    match = _MONTH.match((month or "").strip())
    if not match or not 1 <= int(match[2]) <= 12 or int(match[1]) < 1970:
        raise ReportError(f"“{str(month)[:20]}” is not a month: use the form YYYY-MM, e.g. 2026-10.")
    month = match[0]
    if month > today.strftime("%Y-%m"):
        raise ReportError(f"{month} has not started yet; the latest month with a report is {today:%Y-%m}.")
    return month


def current_position(services: Services) -> int:
    return services.app.recorder.max_notification_id() or 0


def check_position(services: Services, log_position: int | None) -> int:
    latest = current_position(services)
    if log_position is None:
        return latest
    if log_position < 0 or log_position > latest:
        raise ReportError(f"Log position {log_position} does not exist; the log ends at {latest}.")
    return log_position


def replay_engine(services: Services, until: int) -> Engine:
    """A private SQLite database holding every read model as of log position ``until``."""
    # StaticPool: "sqlite://" is one database per connection, so every
    # connection must be the same one or the tables vanish between queries.
    engine = create_engine("sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False})
    metadata.create_all(engine)
    app = services.app
    projector = Projector(app.recorder, app.mapper, engine, build_projections(services.settings))
    projector.create_tracking_rows()
    if until > 0:
        projector.catch_up(until=until)
    return engine


def _notifications(services: Services, until: int) -> Iterator[Notification]:
    start = 0
    while start < until:
        page = services.app.recorder.select_notifications(
            start=start, limit=_PAGE, stop=until, inclusive_of_start=False
        )
        if not page:
            return
        # The digest decodes every event: fetch the page's lead keys in one query.
        prefetch = getattr(services.app.mapper, "prefetch", None)
        if prefetch is not None:
            prefetch({n.originator_id for n in page})
        yield from page
        start = page[-1].id


def month_digest(services: Services, month: str, until: int) -> tuple[str, int]:
    """SHA-256 over the month's events (business time in the team's zone) up to ``until``.

    Each event contributes its notification id, topic and stored state, length
    prefixed so no two different sequences can hash alike. Returns (hex, count).
    """
    tz = services.settings.tz
    digest = hashlib.sha256(b"smarketing-monthly-v1\n")
    count = 0
    for n in _notifications(services, until):
        occurred_at = getattr(services.app.mapper.to_domain_event(n), "occurred_at", None)
        if occurred_at is None or month_of(occurred_at, tz) != month:
            continue
        topic = n.topic.encode()
        digest.update(n.id.to_bytes(8, "big"))
        digest.update(len(topic).to_bytes(4, "big") + topic)
        digest.update(len(n.state).to_bytes(8, "big") + bytes(n.state))
        count += 1
    return digest.hexdigest(), count


def monthly_figures(
    services: Services,
    month: str,
    *,
    log_position: int | None = None,
    today: date | None = None,
) -> MonthlyFigures:
    today = today or datetime.now(services.settings.tz).date()
    month = check_month(month, today)
    position = check_position(services, log_position)
    digest, events_in_month = month_digest(services, month, position)
    engine = replay_engine(services, position)
    try:
        with engine.connect() as conn:
            cohort = funnel(conn, month)
            actuals = scorecard_actuals(conn, month)
            figures = MonthlyFigures(
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
                scorecard=sections.scorecard(conn, month, today),
            )
    finally:
        engine.dispose()
    figures.discuss = sections.discuss(figures)
    return figures
