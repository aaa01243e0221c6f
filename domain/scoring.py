"""Lead scoring: points per interaction kind, halved every ``half_life_days``.

A lead's score at ``now`` is the sum over its interactions of
``points[kind] × 0.5 ** (age in days / half_life_days)``. An interaction
dated after ``now`` (clock skew, imports) counts at full value, never more.
At or above ``threshold`` a lead is ready for MQL: in "flag" mode it is only
listed; in "auto_promote" mode the rule moves it to MQL itself.
"""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.vocabulary import InteractionKind

FLAG = "flag"
AUTO_PROMOTE = "auto_promote"
MODES = (FLAG, AUTO_PROMOTE)
RULE_ACTOR = "rule:lead-scoring"

DEFAULT_POINTS: dict[str, int] = {
    InteractionKind.EMAIL_SENT: 0,
    InteractionKind.EMAIL_OPENED: 1,
    InteractionKind.EMAIL_CLICKED: 5,
    InteractionKind.CONTENT_VIEWED: 3,
    InteractionKind.CONTENT_DOWNLOADED: 10,
    InteractionKind.FORM_SUBMITTED: 20,
    InteractionKind.WEB_VISIT: 2,
    InteractionKind.WEBINAR: 15,
    InteractionKind.CAMPAIGN_TOUCH: 2,
    InteractionKind.CALL: 10,
    InteractionKind.MEETING: 25,
    InteractionKind.NOTE: 0,
}


@dataclass(frozen=True)
class ScoringConfig:
    points: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_POINTS))
    half_life_days: float = 30
    threshold: float = 50
    mode: str = FLAG

    @property
    def horizon_days(self) -> float:
        """Older than this, an interaction adds under 0.1 % of its points: safe to skip."""
        return self.half_life_days * 10


def score(interactions: Iterable[tuple[str, datetime]], now: datetime, config: ScoringConfig) -> float:
    """``interactions``: (kind, occurred_at) pairs; the score rounded to 2 decimals."""
    total = 0.0
    for kind, at in interactions:
        age_days = max((now - at).total_seconds(), 0.0) / 86400
        total += float(config.points.get(kind, 0)) * 0.5 ** (age_days / config.half_life_days)
    return round(total, 2)


def is_ready(value: float, config: ScoringConfig) -> bool:
    return value >= config.threshold


# Lists and promotions compare ``round(score, 2)``: a raw score this close under
# the threshold already rounds up to it, so the indexed count uses the same cut.
ROUNDING_MARGIN = 0.005
# Beyond a century either way the moment means "never" / "long ago"; clamping
# keeps it inside what a datetime (and a DATETIME column) can hold.
_MAX_DAYS = 36_500.0


def decayed_total(
    interactions: Iterable[tuple[str, datetime]], config: ScoringConfig
) -> tuple[datetime, float] | None:
    """(time of the latest scoring interaction, unrounded score at that time), or None
    when no interaction scores. The reference is the latest one, so nothing is
    "in the future" of it and no interaction counts above its points."""
    scored = [(float(config.points.get(kind, 0)), at) for kind, at in interactions]
    scored = [(points, at) for points, at in scored if points > 0]
    if not scored:
        return None
    last = max(at for _, at in scored)
    value = sum(
        points * 0.5 ** ((last - at).total_seconds() / 86400 / config.half_life_days) for points, at in scored
    )
    return last, value


def crossing_time(value: float, at: datetime, threshold: float, half_life_days: float) -> datetime:
    """When a score of ``value`` at ``at``, left to decay, equals ``threshold``.

    value × 0.5^(d / half_life) = threshold  ⇔  d = half_life × log2(value / threshold),
    so "score(now) ≥ threshold" ⇔ "now ≤ at + d": a single column SQL can range over.
    Before ``at`` when the score is already under the threshold.
    """
    days = half_life_days * math.log2(value / threshold)
    return at + timedelta(days=max(-_MAX_DAYS, min(_MAX_DAYS, days)))


def falls_below_at(value: float, at: datetime, config: ScoringConfig) -> datetime:
    """``crossing_time`` at the threshold as the lists apply it (after rounding)."""
    threshold = max(config.threshold - ROUNDING_MARGIN, ROUNDING_MARGIN)
    return crossing_time(value, at, threshold, config.half_life_days)
