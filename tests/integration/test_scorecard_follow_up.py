"""The scorecard's follow-up figures from the scorecard_follow_up read model
against the brute force they replaced (every MQL fact and contact attempt of
the month read from sla_facts), on a random history with re-entries into MQL
within a month, owner changes between entries, backdated entries and attempts."""

import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from domain.business_hours import ALWAYS, Calendar, deadline
from projections.engine.schema import from_db, to_db
from projections.models.scorecard import sla_facts
from projections.queries.attention import breaches_between, follow_up_breaches
from projections.queries.scorecard_query import _where, scorecard_actuals
from projections.queries.stats import median, percentile, ratio
from smarketing.bootstrap import Services
from tests.office_hours import MADRID

START = datetime(2024, 3, 1, 9, tzinfo=UTC)
OWNERS = ("ana", "bea")


def _history(svc: Services, seed: int, leads: int = 45) -> None:
    rng = random.Random(seed)
    app = svc.app
    for n in range(leads):
        captured = START + timedelta(days=rng.uniform(0, 40))
        lead_id = app.capture_lead(
            name=f"F{n}", email=f"f{n}@example.org", source="webinar", occurred_at=captured
        )
        owner = rng.choice(OWNERS)
        app.assign_owner(lead_id, owner=owner, team="sales", occurred_at=captured)
        if rng.random() < 0.2:  # contacted while still a Lead: counts only for an entry dated before it
            app.log_contact_attempt(
                lead_id, channel="email", outcome="left_message", occurred_at=captured + timedelta(days=3)
            )
        if rng.random() < 0.25:
            continue
        entered = captured + timedelta(days=rng.uniform(0, 6))
        for _round in range(rng.choice((1, 1, 2, 3))):
            app.change_stage(lead_id, to_stage="MQL", occurred_at=entered)
            attempts = [entered + timedelta(hours=rng.uniform(-30, 220)) for _ in range(rng.randrange(0, 4))]
            rng.shuffle(attempts)  # recorded out of order
            for when in attempts:
                app.log_contact_attempt(lead_id, channel="phone", outcome="no_answer", occurred_at=when)
            if rng.random() < 0.4:  # a new owner before the next entry: filtered months differ
                owner = OWNERS[1 - OWNERS.index(owner)]
                app.assign_owner(lead_id, owner=owner, team="sales", occurred_at=entered)
            back = entered + timedelta(days=rng.uniform(0.5, 12))
            app.reject_mql(lead_id, reason="Not yet", occurred_at=back)
            entered = back + timedelta(days=rng.uniform(-2, 10))  # sometimes backdated before the rejection


def _old(conn, where, hours: float, window_days: float, calendar: Calendar, now: datetime | None) -> dict:
    """The figures as scorecard_query and attention computed them from sla_facts."""
    entered = {
        lead_id: from_db(at)
        for lead_id, at in conn.execute(
            select(sla_facts.c.lead_id, func.min(sla_facts.c.occurred_at))
            .where(*where, sla_facts.c.kind == "mql")
            .group_by(sla_facts.c.lead_id)
        )
    }
    since: dict[str, list[datetime]] = {lead_id: [] for lead_id in entered}
    for lead_id, at in conn.execute(
        select(sla_facts.c.lead_id, sla_facts.c.occurred_at).where(sla_facts.c.kind == "contact_attempt")
    ):
        if lead_id in entered and from_db(at) >= entered[lead_id]:
            since[lead_id].append(from_db(at))
    firsts = {lead_id: min(times) for lead_id, times in since.items() if times}
    delays = [(first - entered[lead_id]).total_seconds() / 3600 for lead_id, first in firsts.items()]
    window = timedelta(days=window_days)
    counts = sum(1 for lead_id, times in since.items() for t in times if t - entered[lead_id] <= window)
    dues = {lead_id: deadline(at, hours, calendar) for lead_id, at in entered.items()}
    within = sum(1 for lead_id, first in firsts.items() if first <= dues[lead_id])
    breaches = sum(
        1
        for lead_id, due in dues.items()
        if (firsts[lead_id] > due if lead_id in firsts else now is None or now > due)
    )
    return {
        "follow_up_median_hours": median(delays),
        "follow_up_p95_hours": percentile(delays, 95),
        "follow_up_within_target": ratio(within, len(entered)),
        "follow_up_delays_hours": sorted(delays),
        "mqls_never_contacted": len(entered) - len(delays),
        "attempts_per_mql": ratio(counts, len(entered)),
        "breaches": breaches,
    }


def test_follow_up_figures_equal_the_brute_force(services: Services) -> None:
    _history(services, seed=11)
    services.projector.catch_up()
    now = START + timedelta(days=50)
    checked = 0
    with services.read_engine.connect() as conn:
        for month in ("2024-03", "2024-04", "2024-05"):
            for filters in ({}, {"owner": "ana"}, {"owner": "bea", "source": "webinar"}):
                for hours, window_days, calendar in ((24, 7, ALWAYS), (4, 2.5, ALWAYS), (8, 7, MADRID)):
                    for moment in (now, None):
                        old = _old(conn, _where(month, filters), hours, window_days, calendar, moment)
                        actual = scorecard_actuals(
                            conn,
                            month,
                            follow_up_hours=hours,
                            attempts_window_days=window_days,
                            calendar=calendar,
                            **filters,
                        )
                        assert {k: actual[k] for k in old if k != "breaches"} == {
                            k: v for k, v in old.items() if k != "breaches"
                        }, (month, filters, hours, calendar)
                        breaches = follow_up_breaches(
                            conn, month, follow_up_hours=hours, now=moment, calendar=calendar, **filters
                        )
                        assert breaches == old["breaches"], (month, filters, hours, calendar, moment)
                        checked += old["mqls_never_contacted"] + len(old["follow_up_delays_hours"])
        start, end = START + timedelta(days=10), START + timedelta(days=30)
        for calendar in (ALWAYS, MADRID):
            window = [sla_facts.c.occurred_at >= to_db(start), sla_facts.c.occurred_at < to_db(end)]
            old = _old(conn, window, 6, 7, calendar, now)
            assert (
                breaches_between(conn, start, end, follow_up_hours=6, now=now, calendar=calendar)
                == old["breaches"]
            )
    assert checked > 100  # the history produced MQLs to compare
