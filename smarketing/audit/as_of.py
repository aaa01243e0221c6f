"""Time travel for auditors, in both of the log's times.

- "As it had happened by T" (``HAPPENED``, business time): every event recorded
  so far whose ``occurred_at`` is at or before T, whenever it was recorded. An
  imported or back-dated history shows at the dates it happened.
- "As it was recorded by T" (``RECORDED``, what the system knew then): the log
  up to the last event recorded at or before T (its position), as it stood,
  whatever business times those events carry.

Either way the events are replayed into a private in-memory read model (never
the live one, which may lag or have been rebuilt by newer code): the funnel (all
cohorts), the scorecard of T's month, the targets in force for it and the
grades as they stood on T's day (``projections.cached.scorecard_view``, the dashboard's
own rule, with the agreement's calendar as it then was).

The replay reads the log from the start (to T's position, or all of it for
business time), so its cost grows with the log (about a minute per half million
events): a web request does it only up to ``WEB_REPLAY_LIMIT`` events and
otherwise points to ``flask audit as-of``, which has no request time-out.

The figures of a replay never change (the log up to a position is immutable,
and nothing in them depends on the time of asking), so each process keeps the
last few per store: an auditor going through leads as of one date replays once.
"""

import threading
from collections import OrderedDict
from collections.abc import Sequence
from copy import deepcopy
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Table

from projections.cached.scorecard_view import scorecard
from projections.engine.projector import Positioned, Projection
from projections.engine.schema import month_of
from projections.models.agreement_docs import AgreementDocsProjection
from projections.models.funnel import FunnelProjection
from projections.models.money_terms import MoneyTermsProjection
from projections.models.scorecard import ScorecardProjection
from projections.models.scorecard_follow_up import ScorecardFollowUpProjection
from projections.models.targets import TargetsProjection, targets_for
from projections.queries.funnel_query import funnel
from projections.queries.scorecard_query import scorecard_actuals
from smarketing.audit.chain import position_at
from smarketing.bootstrap import Services
from smarketing.present.periods import moment_arg
from smarketing.reports.replay import current_position, replay_engine
from smarketing.service.sla_terms import sla_in_force

HAPPENED = "happened"  # business time: occurred_at <= T
RECORDED = "recorded"  # recording time: the log up to T's position
MODES = (HAPPENED, RECORDED)


def parse_at(text: str, services: Services) -> datetime:
    """``2026-10-03T12:00`` in the team's zone (or with an explicit offset) as UTC;
    InvalidInput when it is not one, or lies before 1900 or over a year ahead."""
    return moment_arg(text, services.settings.tz)


def parse_mode(text: str | None) -> str:
    """``happened`` or ``recorded``; anything else is refused (ValueError)."""
    mode = (text or HAPPENED).strip().lower()
    if mode not in MODES:
        raise ValueError(mode)
    return mode


def replay_size(services: Services, at: datetime, mode: str) -> int:
    """The log position a replay for (``at``, ``mode``) reads up to."""
    return position_at(services, at) if mode == RECORDED else current_position(services)


# Events a page may replay (a few seconds); beyond that the CLI does it.
WEB_REPLAY_LIMIT = 50_000


# Replays kept per store (per application object: tests and tools open several).
CACHED_REPLAYS = 8
_cache: WeakKeyDictionary[Any, OrderedDict[tuple[Any, ...], dict[str, Any]]] = WeakKeyDictionary()
_cache_lock = threading.Lock()


def figures_as_of(
    services: Services, at: datetime, position: int | None = None, mode: str = RECORDED
) -> dict[str, Any]:
    """Funnel (all cohorts), the scorecard of ``at``'s month with its targets and
    grades, as of ``at`` in ``mode`` (``position``: ``replay_size``, if known)."""
    mode = parse_mode(mode)
    position = replay_size(services, at, mode) if position is None else position
    tz = services.settings.tz
    # Recorded: the log up to the position decides, and the grades need only the day.
    # Happened: which events count depends on ``at`` itself.
    moment: Any = at.astimezone(tz).date() if mode == RECORDED else at
    key = (mode, position, month_of(at, tz), moment)
    with _cache_lock:
        kept = _cache.setdefault(services.app, OrderedDict())
        if key in kept:
            kept.move_to_end(key)
            return deepcopy(kept[key])  # a copy: callers add to it (the CLI adds the lead)
    figures = _replayed(services, at, mode, position)
    with _cache_lock:
        kept[key] = deepcopy(figures)
        while len(kept) > CACHED_REPLAYS:
            kept.popitem(last=False)
    return figures


class _HappenedBy:
    """The events of a batch that had happened by ``at`` (business time), filtered
    once per batch for every projection (the projector hands them the same list)."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        self._last: tuple[list[Positioned], list[Positioned]] | None = None

    def __call__(self, events: list[Positioned]) -> list[Positioned]:
        last = self._last
        if last is not None and last[0] is events:
            return last[1]
        # Events without a business time (none of the ones these read models use) pass.
        at = self.at
        kept = [(p, e) for p, e in events if getattr(e, "occurred_at", None) is None or e.occurred_at <= at]
        self._last = (events, kept)
        return kept


class _Filtered(Projection):
    """A projection fed only the events that ``keep`` lets through."""

    def __init__(self, inner: Projection, keep: _HappenedBy) -> None:
        self.inner, self.keep = inner, keep
        self.name = inner.name
        self.tables: Sequence[Table] = inner.tables

    def process(self, conn: Connection, events: list[Positioned]) -> None:
        kept = self.keep(events)
        if kept:
            self.inner.process(conn, kept)


def _replayed(services: Services, at: datetime, mode: str, position: int) -> dict[str, Any]:
    tz = services.settings.tz
    month = month_of(at, tz)
    # Only the read models these figures come from.
    projections: list[Projection] = [
        FunnelProjection(tz),
        ScorecardProjection(tz),
        ScorecardFollowUpProjection(tz),
        TargetsProjection(),
        AgreementDocsProjection(),
        MoneyTermsProjection(),  # the rates the money figures are converted with
    ]
    if mode == HAPPENED:
        keep = _HappenedBy(at)
        projections = [_Filtered(p, keep) for p in projections]
    engine = replay_engine(services, position, projections)
    try:
        with engine.connect() as conn:
            return {
                "mode": mode,
                "at": at,
                "position": position,
                "month": month,
                "funnel": funnel(conn),
                "scorecard": scorecard_actuals(conn, month),
                "targets": targets_for(conn, month),
                "graded": _graded(conn, month, at, services),
            }
    finally:
        engine.dispose()


def _graded(conn: Connection, month: str, at: datetime, services: Services) -> dict[str, Any]:
    """The scorecard as the dashboard would have graded it on ``at``'s day."""
    tz = services.settings.tz
    calendar = sla_in_force(conn, at, tz).calendar
    return scorecard(conn, month, today=at.astimezone(tz).date(), now=at, calendar=calendar)
