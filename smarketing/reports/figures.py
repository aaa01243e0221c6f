"""A month's figures as the report shows them: what the replay computes and the
sections and the PDF template read (apart, so neither imports the other)."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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
