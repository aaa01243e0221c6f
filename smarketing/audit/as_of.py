"""Time travel by recorded time: the funnel and the SLA scorecard exactly as the
log stood at a moment, replayed into a private in-memory read model."""

from datetime import UTC, datetime
from typing import Any

from projections.funnel_query import funnel
from projections.schema import month_of
from projections.scorecard_query import scorecard_actuals
from smarketing.audit.chain import position_at
from smarketing.bootstrap import Services
from smarketing.reports.replay import replay_engine


def parse_at(text: str, services: Services) -> datetime:
    """``2026-10-03T12:00`` in the team's zone (or with an explicit offset) as UTC."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is None:
        value = value.replace(tzinfo=services.settings.tz)
    return value.astimezone(UTC)


def figures_as_of(services: Services, at: datetime) -> dict[str, Any]:
    """Funnel (all cohorts) and the scorecard of ``at``'s month, from the log up to ``at``."""
    position = position_at(services, at)
    month = month_of(at, services.settings.tz)
    # Replay (never the live read models): they may lag, or have been rebuilt by newer code.
    engine = replay_engine(services, position)
    try:
        with engine.connect() as conn:
            return {
                "position": position,
                "month": month,
                "funnel": funnel(conn),
                "scorecard": scorecard_actuals(conn, month),
            }
    finally:
        engine.dispose()
