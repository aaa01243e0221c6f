"""Lead scoring and the reverse funnel on fixed numbers."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.planning import reverse_funnel
from domain.scoring import ScoringConfig, is_ready, score

NOW = datetime(2026, 10, 30, 12, tzinfo=UTC)
CONFIG = ScoringConfig(
    points={"form_submitted": 20, "webinar": 16, "web_visit": 2}, half_life_days=10, threshold=30
)


def days_ago(n: float) -> datetime:
    return NOW - timedelta(days=n)


def test_points_halve_every_half_life() -> None:
    assert score([("form_submitted", NOW)], NOW, CONFIG) == 20
    assert score([("form_submitted", days_ago(10))], NOW, CONFIG) == 10
    assert score([("webinar", days_ago(20))], NOW, CONFIG) == 4
    assert score([("web_visit", days_ago(5))], NOW, CONFIG) == pytest.approx(1.41, abs=0.005)


def test_a_score_sums_its_interactions_and_ignores_unknown_kinds() -> None:
    interactions = [
        ("form_submitted", NOW),
        ("webinar", days_ago(10)),
        ("note", NOW),
        ("web_visit", days_ago(20)),
    ]
    assert score(interactions, NOW, CONFIG) == 20 + 8 + 0.5
    assert is_ready(28.5, CONFIG) is False
    assert is_ready(score([*interactions, ("web_visit", NOW)], NOW, CONFIG), CONFIG) is True  # 30.5


def test_a_future_interaction_counts_at_full_value_never_more() -> None:
    assert score([("webinar", NOW + timedelta(days=3))], NOW, CONFIG) == 16


def test_no_interactions_no_score() -> None:
    assert score([], NOW, CONFIG) == 0


def test_reverse_funnel_shows_each_step() -> None:
    # Sample: 200 MQLs → 100 SQLs → 50 opportunities → 20 customers (10 % MQL→Customer).
    reached = {"Lead": 1000, "MQL": 200, "SQL": 100, "Opportunity": 50, "Customer": 20}
    plan = reverse_funnel(Decimal(100_000), Decimal(4_000), reached)
    assert plan.customers == 25
    assert plan.mql_to_customer == pytest.approx(0.1)
    assert plan.mqls == 250
    assert [(s.stage, s.needed) for s in plan.steps] == [
        ("MQL", 250),
        ("SQL", 125),
        ("Opportunity", 63),  # 25 / 0.4 = 62.5, rounded up
        ("Customer", 25),
    ]


def test_reverse_funnel_without_any_conversion_says_so() -> None:
    plan = reverse_funnel(Decimal(1000), Decimal(300), {"MQL": 10, "SQL": 0, "Opportunity": 0, "Customer": 0})
    assert plan.customers == 4
    assert plan.mqls is None
