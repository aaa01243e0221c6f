"""Lead scoring and the reverse funnel on fixed numbers."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from domain.planning import reverse_funnel
from domain.scoring import ScoringConfig, crossing_time, decayed_total, falls_below_at, is_ready, score

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


# --- the moment a score falls under the threshold (projections.models.score_state) ------------


def test_crossing_time_is_one_half_life_per_halving_above_the_threshold() -> None:
    # 100 → 50 takes one half-life (10 days); 200 → 50 two; 25 was at 50 ten days before.
    assert crossing_time(100, NOW, 50, 10) == NOW + timedelta(days=10)
    assert crossing_time(200, NOW, 50, 10) == NOW + timedelta(days=20)
    assert crossing_time(25, NOW, 50, 10) == NOW - timedelta(days=10)
    assert crossing_time(50, NOW, 50, 10) == NOW
    # 30 → 20 with half-life 7: 7 × log2(1.5) = 7 × 0.5849625 = 4.0947375 days.
    assert crossing_time(30, NOW, 20, 7) == pytest.approx(
        NOW + timedelta(days=4.0947375), abs=timedelta(seconds=1)
    )


def test_decayed_total_is_the_score_at_the_latest_scoring_interaction() -> None:
    interactions = [("form_submitted", days_ago(10)), ("webinar", days_ago(20)), ("email_sent", days_ago(1))]
    points = CONFIG.points | {"email_sent": 0}
    config = ScoringConfig(points=points, half_life_days=10, threshold=30)
    # Reference: 10 days ago (the 0-point e-mail does not move it): 20 + 16 × 0.5 = 28.
    assert decayed_total(interactions, config) == (days_ago(10), 28.0)
    assert decayed_total([("email_sent", NOW)], config) is None
    assert decayed_total([], config) is None


def test_falls_below_at_matches_the_rounded_score_the_lists_compare() -> None:
    # 28 at 10 days ago, threshold 30 (29.995 after rounding): already under it,
    # by 10 × log2(29.995 / 28) = 0.99295 days.
    moment = falls_below_at(28.0, days_ago(10), CONFIG)
    assert moment == pytest.approx(days_ago(10.99295), abs=timedelta(seconds=60))
    # 60 at NOW, threshold 30 (29.995 after rounding): 10 × log2(60 / 29.995) = 10.0024 days.
    moment = falls_below_at(60.0, NOW, CONFIG)
    assert moment == pytest.approx(NOW + timedelta(days=10.0024), abs=timedelta(seconds=60))
    # At that moment the score rounds to exactly the threshold; a minute later it does not.
    assert score([("x", NOW)], moment, ScoringConfig(points={"x": 60}, half_life_days=10)) == 30
    later = moment + timedelta(minutes=1)
    assert not is_ready(
        score([("x", NOW)], later, ScoringConfig(points={"x": 60}, half_life_days=10)), CONFIG
    )
