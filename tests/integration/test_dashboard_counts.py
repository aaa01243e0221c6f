"""The dashboard's indexed counts (score_state, follow_up) against the brute-force
lists they replace, on a small random history with out-of-order recording,
rejections back to Lead, disqualifications and backdated attempts."""

import random
from datetime import UTC, datetime, timedelta

from domain.agreement_terms import DEFAULTS, SCORING, scoring_config
from domain.business_hours import ALWAYS
from domain.scoring import DEFAULT_POINTS
from projections.models.follow_up import count_follow_up
from projections.models.score_state import count_ready, is_current
from projections.models.scoring import lead_scores
from smarketing.bootstrap import Services
from smarketing.service.sla_terms import sla_in_force
from tests.integration.attention_reference import count_attention, needs_attention
from tests.office_hours import MADRID

START = datetime(2024, 3, 1, 9, tzinfo=UTC)
KINDS = sorted(DEFAULT_POINTS)


def _days(rng: random.Random, low: float, high: float) -> timedelta:
    return timedelta(days=rng.uniform(low, high))


def _interactions(
    svc: Services, rng: random.Random, lead_id: str, after: datetime, n: int, span: float = 60
) -> None:
    times = [after + _days(rng, 0, span) for _ in range(n)]
    rng.shuffle(times)  # recorded out of order, as imports do
    for when in times:
        svc.app.record_interaction(lead_id, kind=rng.choice(KINDS), occurred_at=when)


def _history(svc: Services, seed: int, leads: int = 40) -> None:
    rng = random.Random(seed)
    for n in range(leads):
        captured = START + _days(rng, 0, 50)
        lead_id = svc.app.capture_lead(
            name=f"R{n}", email=f"r{n}@example.org", source="webinar", occurred_at=captured
        )
        _interactions(svc, rng, lead_id, captured, rng.randrange(0, 9))
        fate = rng.random()
        if fate < 0.1:
            svc.app.change_stage(
                lead_id,
                to_stage="Disqualified",
                reason="No budget",
                occurred_at=captured + timedelta(days=61),
            )
        elif fate < 0.55:
            entered = captured + _days(rng, 61, 65)
            svc.app.change_stage(lead_id, to_stage="MQL", occurred_at=entered)
            attempts = [entered + _days(rng, -1, 9) for _ in range(rng.randrange(0, 4))]
            rng.shuffle(attempts)
            for when in attempts:
                svc.app.log_contact_attempt(lead_id, channel="phone", outcome="no_answer", occurred_at=when)
            if fate < 0.2:
                back = entered + timedelta(days=10)
                svc.app.reject_mql(lead_id, reason="Not a buyer", occurred_at=back)
                _interactions(svc, rng, lead_id, back, rng.randrange(1, 6), span=10)
        if fate > 0.55 or fate < 0.2:  # still in Lead: some warm up again lately
            _interactions(svc, rng, lead_id, START + timedelta(days=125), rng.randrange(0, 8), span=10)


def _assert_counts_match(svc: Services) -> None:
    with svc.read_engine.connect() as conn:
        for days in (136, 140, 150, 200):  # after every interaction
            now = START + timedelta(days=days)
            sla = sla_in_force(conn, now, svc.settings.tz)
            assert is_current(conn, sla.scoring)
            brute = [s for s in lead_scores(conn, now, sla.scoring) if s["score"] >= sla.scoring.threshold]
            assert count_ready(conn, now) == len(brute), days
            for hours, attempts, window, calendar in (
                (24, 1, 7, ALWAYS),
                (4, 2, 3, MADRID),
                (48, 3, 10, ALWAYS),
            ):
                terms = {"follow_up_hours": hours, "attempts_per_mql": attempts, "window_days": window}
                listed = count_attention(needs_attention(conn, now, calendar=calendar, **terms))
                assert count_follow_up(conn, now, calendar=calendar, **terms) == listed, (days, terms)


def test_indexed_counts_equal_the_brute_force_lists(services: Services) -> None:
    _history(services, seed=7)
    services.projector.catch_up()
    _assert_counts_match(services)
    with services.read_engine.connect() as conn:
        # The history is not trivial: some leads ready, some MQLs in each state.
        now = START + timedelta(days=136)
        assert count_ready(conn, now) > 0
        counts = count_follow_up(conn, now, follow_up_hours=24, attempts_per_mql=2, window_days=7)
        assert counts["overdue"] > 0 and counts["under_contacted"] > 0


def test_changed_scoring_terms_rescore_every_lead(services: Services) -> None:
    _history(services, seed=11, leads=25)
    services.projector.catch_up()
    values = dict(DEFAULTS[SCORING]) | {"half_life_days": 60, "threshold": 35}
    services.app.set_terms("scoring", values, "Slower decay, lower bar")
    with services.read_engine.connect() as conn:
        assert not is_current(conn, scoring_config(values))  # not caught up: the dashboard counts slowly
    services.projector.catch_up()
    _assert_counts_match(services)
