"""Time travel by recorded time: the funnel and the SLA scorecard exactly as the
log stood at a moment, replayed into a private in-memory read model.

The replay reads the log from the start up to that moment, so its cost grows
with the log (about a minute per half million events): a web request does it
only up to ``WEB_REPLAY_LIMIT`` events and otherwise points to
``flask audit as-of``, which has no request time-out.

The figures at a log position never change (the log up to it is immutable, and
nothing in them depends on the time of asking), so each process keeps the last
few per store: an auditor going through leads as of one date replays once.
"""

import threading
from collections import OrderedDict
from copy import deepcopy
from datetime import UTC, datetime
from typing import Any
from weakref import WeakKeyDictionary

from projections.funnel import FunnelProjection
from projections.funnel_query import funnel
from projections.money_terms import MoneyTermsProjection
from projections.schema import month_of
from projections.scorecard import ScorecardProjection
from projections.scorecard_follow_up import ScorecardFollowUpProjection
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


# Events a page may replay (a few seconds); beyond that the CLI does it.
WEB_REPLAY_LIMIT = 50_000


# Replays kept per store (per application object: tests and tools open several).
CACHED_REPLAYS = 8
_cache: WeakKeyDictionary[Any, OrderedDict[tuple[int, str], dict[str, Any]]] = WeakKeyDictionary()
_cache_lock = threading.Lock()


def figures_as_of(services: Services, at: datetime, position: int | None = None) -> dict[str, Any]:
    """Funnel (all cohorts) and the scorecard of ``at``'s month, from the log up to ``at``."""
    position = position_at(services, at) if position is None else position
    key = (position, month_of(at, services.settings.tz))
    with _cache_lock:
        kept = _cache.setdefault(services.app, OrderedDict())
        if key in kept:
            kept.move_to_end(key)
            return deepcopy(kept[key])  # a copy: callers add to it (the CLI adds the lead)
    figures = _replayed(services, *key)
    with _cache_lock:
        kept[key] = deepcopy(figures)
        while len(kept) > CACHED_REPLAYS:
            kept.popitem(last=False)
    return figures


def _replayed(services: Services, position: int, month: str) -> dict[str, Any]:
    tz = services.settings.tz
    # Replay (never the live read models): they may lag, or have been rebuilt by newer code.
    # Only the read models these figures come from.
    projections = [
        FunnelProjection(tz),
        ScorecardProjection(tz),
        ScorecardFollowUpProjection(tz),
        MoneyTermsProjection(),  # the rates the money figures are converted with
    ]
    engine = replay_engine(services, position, projections)
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
