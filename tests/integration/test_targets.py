"""SLA targets end to end, on both backends: commands record one event per
change, the targets read model carries values forward, and the scorecard
grades a small, hand-computed history against the targets in force."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

import pytest

from domain.actor import current_actor
from domain.errors import InvalidInput
from domain.money import Money, MoneyFigure
from projections.cached.scorecard_view import scorecard
from projections.models.targets import target_history, targets_for
from smarketing.bootstrap import Services

_N = count()


def at(day: str, hour: float = 10) -> datetime:
    # Mid-day UTC is the same day and month in the team's zone (Europe/Madrid).
    return datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(hours=hour)


def lead(
    svc: Services,
    captured: str,
    mql: datetime | None = None,
    contacts: tuple[datetime, ...] = (),
    won: tuple[datetime, int] | None = None,
    source: str = "webinar",
) -> str:
    app = svc.app
    n = next(_N)
    lead_id = app.capture_lead(
        name=f"Lead {n}", email=f"l{n}@example.org", source=source, occurred_at=at(captured)
    )
    if mql:
        app.change_stage(lead_id, to_stage="MQL", occurred_at=mql)
    for contact in contacts:
        app.log_contact_attempt(lead_id, channel="phone", outcome="no_answer", occurred_at=contact)
    if won:
        app.mark_won(lead_id, amount=won[1], reason="Signed on the first call", occurred_at=won[0])
    return lead_id


def card(svc: Services, month: str, today: date) -> dict[str, Any]:
    svc.projector.catch_up()
    with svc.read_engine.connect() as conn:
        return scorecard(conn, month, today=today)


def plain(value: Any) -> Any:
    """A money target or figure as its number in the base currency (EUR here)."""
    if isinstance(value, Money):
        assert value.currency == "EUR"
        return value.amount
    if isinstance(value, MoneyFigure):
        assert value.base == "EUR" and value.convertible
        return value.value
    return value


def rows(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["metric"]: row for side in ("marketing", "sales") for row in result[side]}


def current(svc: Services, month: str) -> dict[str, Decimal]:
    svc.projector.catch_up()
    with svc.read_engine.connect() as conn:
        return targets_for(conn, month)


def test_setting_and_revising_records_one_event_per_change(services: Services) -> None:
    app = services.app
    token = current_actor.set("ana.director")
    try:
        assert app.set_target("2024-03", "revenue_goal", "150000", occurred_at=at("2024-03-01")) == 2
        assert app.set_target("2024-03", "revenue_goal", "140000", "Slow quarter", at("2024-03-10")) == 3
    finally:
        current_actor.reset(token)
    history = app.agreement_history()
    assert [(h["value"], h["previous_value"], h["reason"], h["actor"]) for h in history] == [
        (Decimal(150000), None, "", "ana.director"),
        (Decimal(140000), Decimal(150000), "Slow quarter", "ana.director"),
    ]
    assert history[1]["occurred_at"] == at("2024-03-10")
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        projected = target_history(conn)
        assert targets_for(conn, "2024-03") == {"revenue_goal": Decimal(140000)}
    assert [(p["month"], p["metric"], p["value"], p["previous_value"], p["actor"]) for p in projected] == [
        ("2024-03", "revenue_goal", Decimal(150000), None, "ana.director"),
        ("2024-03", "revenue_goal", Decimal(140000), Decimal(150000), "ana.director"),
    ]
    assert projected[1]["reason"] == "Slow quarter"
    assert projected[1]["occurred_at"] == at("2024-03-10")


@pytest.mark.parametrize(
    ("month", "metric", "value", "reason"),
    [
        ("2024-13", "revenue_goal", "1", ""),
        ("2024-03", "nope", "1", ""),
        ("2024-03", "sales_conversion", "1.5", ""),
        ("2024-03", "revenue_goal", "-5", ""),
        ("2024-03", "revenue_goal", "NaN", ""),
        ("2024-03", "mqls_delivered", "65", ""),  # a revision without a reason
        ("2024-03", "mqls_delivered", "60", "same value"),
    ],
)
def test_refused_inputs_store_nothing(
    services: Services, month: str, metric: str, value: str, reason: str
) -> None:
    services.app.set_target("2024-03", "mqls_delivered", "60")
    before = services.app.recorder.max_notification_id()
    with pytest.raises(InvalidInput):
        services.app.set_target(month, metric, value, reason)
    assert services.app.recorder.max_notification_id() == before
    assert len(services.app.agreement_history()) == 1
    assert current(services, "2024-03") == {"mqls_delivered": Decimal(60)}


def test_a_refused_first_target_does_not_create_the_agreement(services: Services) -> None:
    with pytest.raises(InvalidInput):
        services.app.set_target("2024-03", "revenue_goal", "lots")
    assert services.app.agreement_history() == []
    assert (services.app.recorder.max_notification_id() or 0) == 0


def test_targets_carry_forward_until_a_month_sets_its_own(services: Services) -> None:
    app = services.app
    app.set_target("2024-01", "mqls_delivered", "65")
    app.set_target("2024-01", "sales_conversion", "0.2")
    app.set_target("2024-04", "mqls_delivered", "70", "Webinar programme")
    assert current(services, "2023-12") == {}
    assert current(services, "2024-01") == {"mqls_delivered": 65, "sales_conversion": Decimal("0.2")}
    assert current(services, "2024-03") == {"mqls_delivered": 65, "sales_conversion": Decimal("0.2")}
    assert current(services, "2024-04") == {"mqls_delivered": 70, "sales_conversion": Decimal("0.2")}
    assert current(services, "2025-02")["mqls_delivered"] == 70
    # Revising January's own value changes January and what it carries, not April.
    app.set_target("2024-01", "mqls_delivered", "60", "Typo in the signed copy")
    assert current(services, "2024-02")["mqls_delivered"] == 60
    assert current(services, "2024-04")["mqls_delivered"] == 70


def may_and_june(svc: Services) -> None:
    """May 2024 (over) and the first half of June 2024 (in progress)."""
    lead(
        svc,
        "2024-05-02",
        mql=at("2024-05-03"),
        contacts=(at("2024-05-03", 12),),
        won=(at("2024-05-20"), 6000),
    )
    lead(svc, "2024-05-02", mql=at("2024-05-04"), contacts=(at("2024-05-05", 6),))  # 20 h
    lead(svc, "2024-05-06", mql=at("2024-05-07"))  # never contacted
    lead(svc, "2024-05-08")
    lead(
        svc,
        "2024-06-03",
        mql=at("2024-06-03"),
        contacts=(at("2024-06-04", 12),),
        won=(at("2024-06-10"), 2000),
    )
    lead(svc, "2024-06-05", mql=at("2024-06-05"), contacts=(at("2024-06-05", 11),))  # 1 h
    app = svc.app
    for metric, value in [
        ("revenue_goal", "4000"),
        ("mqls_delivered", "4"),
        ("avg_deal_per_opportunity", "5000"),
        ("lead_to_customer", "0.3"),
        ("follow_up_hours", "24"),
        ("follow_up_share", "0.9"),
        ("attempts_per_mql", "1"),
        ("sales_conversion", "0.3"),
    ]:
        app.set_target("2024-05", metric, value, occurred_at=at("2024-05-01"))
    app.set_target("2024-05", "revenue_goal", "5000", "Board raised the goal", at("2024-05-15"))
    app.set_target("2024-06", "marketing_revenue", "10000", occurred_at=at("2024-06-01"))
    # Mid-June, sales promises a faster follow-up from June on.
    app.set_target("2024-06", "follow_up_hours", "12", "Faster follow-up from June", at("2024-06-12"))


def test_a_month_that_is_over_is_met_or_missed(services: Services) -> None:
    may_and_june(services)
    result = card(services, "2024-05", date(2024, 6, 15))
    got = {m: (plain(r["target"]), plain(r["actual"]), r["status"]) for m, r in rows(result).items()}
    # 4 leads, 3 MQLs, 1 deal of 6000; first contacts after 2 h and 20 h, one never.
    assert got == {
        "revenue_goal": (Decimal(5000), Decimal(6000), "on_track"),
        "marketing_revenue": (None, Decimal(6000), "no_target"),
        "mqls_delivered": (Decimal(4), 3, "missed"),
        "avg_deal_per_opportunity": (Decimal(5000), Decimal(6000), "on_track"),
        "lead_to_customer": (Decimal("0.3"), 0.25, "missed"),
        "follow_up_hours": (Decimal(24), 11.0, "on_track"),  # median of 2 h and 20 h
        "follow_up_share": (Decimal("0.9"), pytest.approx(2 / 3), "missed"),
        "attempts_per_mql": (Decimal(1), pytest.approx(2 / 3), "missed"),
        "sales_conversion": (Decimal("0.3"), pytest.approx(1 / 3), "on_track"),
    }
    # May is still measured against 24 h, not June's 12 h: only the never-contacted MQL is late.
    assert result["terms"]["follow_up_hours"] == 24
    assert result["breaches"] == 1
    assert [row["unit"] for row in result["marketing"]] == ["eur", "eur", "count", "eur", "ratio"]
    assert [row["unit"] for row in result["sales"]] == ["hours", "ratio", "count", "ratio"]


def test_the_month_in_progress_is_graded_against_its_pace(services: Services) -> None:
    may_and_june(services)
    result = card(services, "2024-06", date(2024, 6, 15))  # 15 of 30 days: pace is half the target
    got = {m: (plain(r["target"]), plain(r["actual"]), r["status"]) for m, r in rows(result).items()}
    # 2 leads, 2 MQLs, 1 deal of 2000; first contacts after 26 h and 1 h.
    assert got == {
        "revenue_goal": (Decimal(5000), Decimal(2000), "at_risk"),  # pace 2500, 75 % is 1875
        "marketing_revenue": (Decimal(10000), Decimal(2000), "missed"),  # pace 5000
        "mqls_delivered": (Decimal(4), 2, "on_track"),  # pace 2
        "avg_deal_per_opportunity": (Decimal(5000), Decimal(2000), "missed"),  # an average: not pro-rated
        "lead_to_customer": (Decimal("0.3"), 0.5, "on_track"),
        "follow_up_hours": (Decimal(12), 13.5, "at_risk"),  # lower is better: 13.5 × 0.75 ≤ 12
        "follow_up_share": (Decimal("0.9"), 0.5, "missed"),  # 0.5 < 0.675
        "attempts_per_mql": (Decimal(1), 1.0, "on_track"),
        "sales_conversion": (Decimal("0.3"), 0.5, "on_track"),
    }
    assert result["breaches"] == 1  # the 26 h one, late against 12 h
    # The same June read at its end: cumulative targets are no longer pro-rated.
    over = rows(card(services, "2024-06", date(2024, 7, 2)))
    assert over["mqls_delivered"]["status"] == "missed"
    assert over["revenue_goal"]["status"] == "missed"
    assert over["follow_up_hours"]["status"] == "missed"
    # Early in the month the pace is small: 2000 ≥ 5000 × 3/30.
    assert rows(card(services, "2024-06", date(2024, 6, 3)))["revenue_goal"]["status"] == "on_track"


def test_trend_runs_over_a_year_boundary(services: Services) -> None:
    lead(services, "2023-11-10", mql=at("2023-11-10"), contacts=(at("2023-11-10", 15),))
    lead(
        services,
        "2023-12-04",
        mql=at("2023-12-05"),
        contacts=(at("2023-12-06"),),
        won=(at("2023-12-20"), 1000),
    )
    lead(services, "2023-12-11", mql=at("2023-12-12"))
    lead(services, "2024-01-09", mql=at("2024-01-09"))
    services.app.set_target("2023-11", "mqls_delivered", "2")
    result = card(services, "2024-01", date(2024, 2, 10))
    assert result["trend_months"] == ["2023-10", "2023-11", "2023-12"]
    got = rows(result)
    assert got["mqls_delivered"]["trend"] == [0, 1, 2]
    assert got["mqls_delivered"]["actual"] == 1
    assert got["mqls_delivered"]["status"] == "missed"  # 2 carried from November
    assert [plain(t) for t in got["revenue_goal"]["trend"]] == [Decimal(0), Decimal(0), Decimal(1000)]
    assert got["revenue_goal"]["status"] == "no_target"
    assert got["follow_up_share"]["trend"] == [None, 1.0, 0.5]  # Dec: 24 h, and one never contacted


def test_no_history_at_all(services: Services) -> None:
    result = card(services, "2024-01", date(2024, 1, 20))
    assert result["breaches"] == 0
    assert {r["status"] for r in rows(result).values()} == {"no_target"}
    assert result["terms"] == {"follow_up_hours": 24, "attempts_window_days": 7}


def test_losing_the_race_to_create_the_agreement_retries_on_fresh_state(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = services.app
    app.set_target("2024-03", "mqls_delivered", "60")  # the racer that won
    real, reads = app._agreement, []

    def read_before_the_racer_saved() -> Any:
        reads.append(1)
        return None if len(reads) == 1 else real()

    monkeypatch.setattr(app, "_agreement", read_before_the_racer_saved)
    assert app.set_target("2024-03", "sales_conversion", "0.2") == 3
    assert len(reads) == 2
    assert [h["metric"] for h in app.agreement_history()] == ["mqls_delivered", "sales_conversion"]
