"""The scorecard's per-month cache (projections.cached.scorecard_cache): a month is
recomputed exactly when a fact of it has been projected (by this process or
another one), and cached figures always equal those computed live."""

import random
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from projections.cached import scorecard_cache
from projections.cached.scorecard_view import scorecard
from projections.models.scorecard import sla_fact_months
from projections.models.scorecard_follow_up import sfu_months
from smarketing.bootstrap import Services, bootstrap, init_schema

TODAY = date(2024, 7, 10)
NOW = datetime(2024, 7, 10, 12, tzinfo=UTC)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def mql_lead(svc: Services, n: int, entered: str) -> str:
    captured = at(entered) - timedelta(hours=1)
    lead_id = svc.app.capture_lead(
        name=f"C{n}", email=f"c{n}@example.org", source="webinar", occurred_at=captured
    )
    svc.app.change_stage(lead_id, to_stage="MQL", occurred_at=at(entered))
    return lead_id


def card(svc: Services, month: str = "2024-07", **filters: str) -> dict:
    with svc.read_engine.connect() as conn:
        return scorecard(conn, month, today=TODAY, now=NOW, **filters)


def computed(months: tuple[str, ...]) -> dict[str, int]:
    return {m: scorecard_cache.computed[m] for m in months}


def recomputed(before: dict[str, int], after: dict[str, int]) -> list[str]:
    return [m for m in MONTHS if after[m] > before[m]]


def figure(result: dict, metric: str) -> object:
    rows = [r for side in ("marketing", "sales") for r in result[side] if r["metric"] == metric]
    return rows[0]["actual"], rows[0]["trend"]


MONTHS = ("2024-04", "2024-05", "2024-06", "2024-07")


def test_a_month_is_recomputed_when_another_process_projects_a_fact_of_it(
    services: Services, second: Services
) -> None:
    may = mql_lead(services, 1, "2024-05-06T09:00")
    mql_lead(services, 2, "2024-06-03T09:00")
    mql_lead(services, 3, "2024-07-01T09:00")
    services.projector.catch_up()
    first = card(services)
    before = computed(MONTHS)
    assert card(services) == first
    after = computed(MONTHS)
    # Months with facts are served from the cache; April has none (no marks): computed again.
    assert recomputed(before, after) == ["2024-04"]

    # Another process records a May MQL: until it is projected, May keeps its figures.
    mql_lead(second, 4, "2024-05-20T09:00")
    assert card(services) == first
    second.projector.catch_up()
    before = computed(MONTHS)
    changed = card(services)
    after = computed(MONTHS)
    assert recomputed(before, after) == ["2024-04", "2024-05"]
    assert figure(first, "mqls_delivered")[1] == [0, 1, 1]
    assert figure(changed, "mqls_delivered")[1] == [0, 2, 1]

    # A July call to the May lead is a July fact, and May's first-contact delay.
    july = at("2024-07-02T09:00")
    second.app.log_contact_attempt(may, channel="phone", outcome="no_answer", occurred_at=july)
    second.projector.catch_up()
    before = computed(MONTHS)
    called = card(services)
    after = computed(MONTHS)
    assert recomputed(before, after) == ["2024-04", "2024-05", "2024-07"]
    assert figure(changed, "follow_up_hours")[1][1] is None  # nobody contacted yet
    assert figure(called, "follow_up_hours")[1][1] == 57 * 24  # May 6 09:00 -> July 2 09:00


def test_cached_figures_equal_live_ones_on_a_random_history(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(11)
    leads: list[str] = []
    for step in range(6):
        for n in range(12):
            entered = datetime(2024, 4, 1, 9, tzinfo=UTC) + timedelta(days=rng.uniform(0, 100))
            lead_id = services.app.capture_lead(
                name=f"R{step}-{n}",
                email=f"r{step}-{n}@example.org",
                source=rng.choice(("webinar", "paid_search")),
                occurred_at=entered - timedelta(hours=2),
            )
            services.app.change_stage(lead_id, to_stage="MQL", occurred_at=entered)
            leads.append(lead_id)
        for lead_id in rng.sample(leads, 8):  # calls, wins and losses landing in any month
            when = datetime(2024, 4, 1, tzinfo=UTC) + timedelta(days=rng.uniform(0, 110))
            services.app.log_contact_attempt(lead_id, channel="phone", outcome="no_answer", occurred_at=when)
        services.projector.catch_up()
        for month, filters in (("2024-07", {}), ("2024-06", {"source": "paid_search"}), ("2024-05", {})):
            monkeypatch.setenv(scorecard_cache.ENV, "1")
            cached = [card(services, month, **filters) for _ in range(2)]
            monkeypatch.setenv(scorecard_cache.ENV, "0")
            assert cached == [card(services, month, **filters)] * 2, (step, month, filters)


def test_a_store_without_the_mark_tables_computes_every_month(services: Services) -> None:
    """A worker on a store that ``flask db init`` has not upgraded yet: figures, no cache."""
    mql_lead(services, 1, "2024-06-03T09:00")
    services.projector.catch_up()
    with services.projector.engine.begin() as conn:
        for table in (sla_fact_months, sfu_months):
            table.drop(conn)
    other = bootstrap(services.settings)  # a fresh engine: the tables are looked for once per engine
    try:
        before = computed(MONTHS)
        first, again = card(other), card(other)
        assert recomputed(before, computed(MONTHS)) == list(MONTHS)
        assert computed(MONTHS)["2024-06"] - before["2024-06"] == 2
        assert first == again
        assert figure(first, "mqls_delivered")[1] == [0, 0, 1]
    finally:
        other.close()


def test_db_init_replays_the_scorecard_of_a_store_made_before_the_mark_tables(services: Services) -> None:
    """Without the replay an upgraded store would mark only months touched after the
    upgrade, and compute every older month on every request."""
    mql_lead(services, 1, "2024-05-06T09:00")
    mql_lead(services, 2, "2024-06-03T09:00")
    services.projector.catch_up()
    positions = services.projector.positions()
    with services.projector.engine.begin() as conn:
        for table in (sla_fact_months, sfu_months):
            table.drop(conn)
    init_schema(services.settings)
    rewound = services.projector.positions()
    assert rewound["scorecard"] == rewound["scorecard_follow_up"] == 0
    assert rewound["funnel"] == positions["funnel"]  # the others keep their rows and position
    upgraded = bootstrap(services.settings)
    try:
        upgraded.projector.catch_up()
        assert upgraded.projector.positions() == positions
        with upgraded.read_engine.connect() as conn:
            for table in (sla_fact_months, sfu_months):
                assert {"2024-05", "2024-06"} <= set(conn.execute(select(table.c.month)).scalars())
        card(upgraded)
        before = computed(MONTHS)
        card(upgraded)
        # May and June are marked, so cached; April and July have no fact to mark them.
        assert recomputed(before, computed(MONTHS)) == ["2024-04", "2024-07"]
    finally:
        upgraded.close()
