"""The dashboard's cohort funnel cache (projections.cached.funnel_cache): a cohort is
recomputed exactly when a lead of it changes (in this process or another one),
interactions leave it cached, and cached funnels always equal those computed live."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import DomainError
from projections.cached import funnel_cache
from projections.cached.scorecard_cache import ENV
from projections.models.funnel import funnel_months
from projections.queries.funnel_query import funnel
from smarketing.bootstrap import Services, bootstrap, init_schema

COHORTS = ("2024-05", "2024-06")
SLICES = (("2024-05", {}), ("2024-06", {"source": "paid_search"}), ("2024-06", {"owner": "ana"}))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def captured(svc: Services, n: int, when: str, source: str = "webinar") -> str:
    return svc.app.capture_lead(name=f"F{n}", email=f"f{n}@example.org", source=source, occurred_at=at(when))


def cohort(svc: Services, month: str, **filters: str) -> dict:
    with svc.read_engine.connect() as conn:
        return funnel_cache.cohort_funnel(conn, month, **filters)


def computed() -> dict[str, int]:
    return {m: funnel_cache.computed[m] for m in COHORTS}


def recomputed(before: dict[str, int]) -> list[str]:
    after = computed()
    return [m for m in COHORTS if after[m] > before[m]]


def test_a_cohort_is_recomputed_when_another_process_moves_a_lead_of_it(
    services: Services, second: Services
) -> None:
    may = captured(services, 1, "2024-05-06T09:00")
    captured(services, 2, "2024-06-03T09:00")
    services.projector.catch_up()
    for month in COHORTS:
        cohort(services, month)
    before = computed()
    first = cohort(services, "2024-05"), cohort(services, "2024-06")
    assert recomputed(before) == []  # both marked: served from the cache

    # A call is not a funnel change: both cohorts stay cached.
    call = at("2024-06-10T09:00")
    second.app.log_contact_attempt(may, channel="phone", outcome="no_answer", occurred_at=call)
    second.projector.catch_up()
    before = computed()
    assert (cohort(services, "2024-05"), cohort(services, "2024-06")) == first
    assert recomputed(before) == []

    # The May lead becomes an MQL in June: May's cohort changes, June's does not.
    second.app.change_stage(may, to_stage="MQL", occurred_at=at("2024-06-11T09:00"))
    second.projector.catch_up()
    before = computed()
    moved = cohort(services, "2024-05")
    assert cohort(services, "2024-06") == first[1]
    assert recomputed(before) == ["2024-05"]
    stages = {s["stage"]: s["count"] for s in moved["stages"]}
    assert stages["MQL"] == 1 and {s["stage"]: s["count"] for s in first[0]["stages"]}["MQL"] == 0


def test_a_caller_changing_its_funnel_does_not_change_the_cache(services: Services) -> None:
    captured(services, 1, "2024-05-06T09:00")
    services.projector.catch_up()
    mine = cohort(services, "2024-05")
    mine["stages"].clear()
    assert cohort(services, "2024-05")["stages"]


def test_cached_funnels_equal_live_ones_on_a_random_history(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(5)
    leads: list[str] = []
    for step in range(5):
        for n in range(10):
            when = datetime(2024, 5, 1, 9, tzinfo=UTC) + timedelta(days=rng.uniform(0, 55))
            lead_id = services.app.capture_lead(
                name=f"R{step}-{n}",
                email=f"r{step}-{n}@example.org",
                source=rng.choice(("webinar", "paid_search")),
                occurred_at=when,
            )
            leads.append(lead_id)
        for lead_id in rng.sample(leads, 6):
            when = datetime(2024, 7, 1, tzinfo=UTC) + timedelta(days=step, hours=rng.uniform(0, 20))
            moves = (
                ("change_stage", {"to_stage": rng.choice(("MQL", "SQL"))}),
                ("assign_owner", {"owner": rng.choice(("ana", "bea")), "team": "sales"}),
            )
            for command, fields in moves:
                try:
                    getattr(services.app, command)(lead_id, occurred_at=when, **fields)
                except DomainError:  # a move the lifecycle refuses (or a no-op owner) is just not made
                    pass
        services.projector.catch_up()
        for month, filters in SLICES:
            monkeypatch.setenv(ENV, "1")
            cached = [cohort(services, month, **filters) for _ in range(2)]
            with services.read_engine.connect() as conn:
                live = funnel(conn, month, **filters)
            assert cached == [live, live], (step, month, filters)


def test_db_init_replays_the_funnel_of_a_store_made_before_its_mark_table(services: Services) -> None:
    captured(services, 1, "2024-05-06T09:00")
    services.projector.catch_up()
    positions = services.projector.positions()
    with services.projector.engine.begin() as conn:
        funnel_months.drop(conn)
    unupgraded = bootstrap(services.settings)  # a worker before `flask db init`: no cache, same figures
    try:
        before = computed()
        assert cohort(unupgraded, "2024-05") == cohort(unupgraded, "2024-05")
        assert computed()["2024-05"] - before["2024-05"] == 2
    finally:
        unupgraded.close()
    init_schema(services.settings)
    assert services.projector.positions()["funnel"] == 0
    upgraded = bootstrap(services.settings)
    try:
        upgraded.projector.catch_up()
        assert upgraded.projector.positions() == positions
        cohort(upgraded, "2024-05")
        before = computed()
        cohort(upgraded, "2024-05")
        assert recomputed(before) == []
    finally:
        upgraded.close()
