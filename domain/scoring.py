"""Lead scoring: points per interaction kind, halved every ``half_life_days``.

A lead's score at ``now`` is the sum over its interactions of
``points[kind] × 0.5 ** (age in days / half_life_days)``. An interaction
dated after ``now`` (clock skew, imports) counts at full value, never more.
At or above ``threshold`` a lead is ready for MQL: in "flag" mode it is only
listed; in "auto_promote" mode the rule moves it to MQL itself.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

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
