"""The SLA agreement aggregate: what each target change records, which inputs
are refused (recording nothing), and that replaying the log rebuilds it."""

from datetime import UTC, datetime
from decimal import Decimal
from uuid import NAMESPACE_URL, uuid5

import pytest

from domain.actor import SYSTEM_ACTOR, current_actor
from domain.agreement import METRICS, SLAAgreement, add_months, agreement_id, target_change
from domain.errors import InvalidInput

AT = datetime(2024, 3, 1, 9, tzinfo=UTC)


def agreement() -> SLAAgreement:
    return SLAAgreement.start(AT)


def changes(agg: SLAAgreement) -> list[SLAAgreement.TargetSet]:
    return [e for e in agg.collect_events() if isinstance(e, SLAAgreement.TargetSet)]


def test_one_agreement_per_company() -> None:
    assert agreement_id() == uuid5(NAMESPACE_URL, "smarketing:agreement")
    assert agreement().id == agreement_id()


def test_metrics_declare_side_and_direction() -> None:
    assert {m.side for m in METRICS.values()} == {"marketing", "sales"}
    assert not METRICS["follow_up_hours"].higher_is_better
    assert METRICS["revenue_goal"].higher_is_better
    assert METRICS["sales_conversion"].unit == "ratio"


def test_each_change_is_an_event_with_who_when_old_new_and_why() -> None:
    agg = agreement()
    token = current_actor.set("ana.director")
    try:
        agg.set_target("2024-03", "revenue_goal", "150000", occurred_at=AT)
        agg.set_target("2024-03", "revenue_goal", 160000, "New product line", occurred_at=AT)
    finally:
        current_actor.reset(token)
    first, second = changes(agg)
    assert (first.month, first.metric, first.value, first.previous_value) == (
        "2024-03",
        "revenue_goal",
        Decimal("150000.00"),
        None,
    )
    assert (second.value, second.previous_value, second.reason) == (
        Decimal("160000.00"),
        Decimal("150000.00"),
        "New product line",
    )
    assert first.actor == second.actor == "ana.director"
    assert first.occurred_at == AT
    assert agg.target("2024-03", "revenue_goal") == Decimal(160000)
    assert target_change(second)["previous_value"] == Decimal(150000)


def test_actor_defaults_to_system_and_occurred_at_to_now() -> None:
    agg = agreement()
    agg.set_target("2024-03", "follow_up_hours", "24")
    (change,) = changes(agg)
    assert change.actor == SYSTEM_ACTOR
    assert (datetime.now(UTC) - change.occurred_at).total_seconds() < 60


def test_a_new_month_needs_no_reason_and_has_no_previous_value() -> None:
    agg = agreement()
    agg.set_target("2024-03", "mqls_delivered", "65")
    agg.set_target("2024-04", "mqls_delivered", "70")
    assert changes(agg)[-1].previous_value is None


def test_revising_needs_a_reason() -> None:
    agg = agreement()
    agg.set_target("2024-03", "mqls_delivered", "65")
    agg.collect_events()
    with pytest.raises(InvalidInput) as error:
        agg.set_target("2024-03", "mqls_delivered", "70", "  ")
    assert error.value.field == "reason"
    assert agg.collect_events() == []
    assert agg.target("2024-03", "mqls_delivered") == 65


@pytest.mark.parametrize("same", ["0.1", "0.10", 0.1, Decimal("0.1000")])
def test_an_unchanged_value_is_refused(same: object) -> None:
    agg = agreement()
    agg.set_target("2024-03", "lead_to_customer", "0.10")
    agg.collect_events()
    with pytest.raises(InvalidInput) as error:
        agg.set_target("2024-03", "lead_to_customer", same, "no change really")
    assert error.value.field == "value"
    assert agg.collect_events() == []


@pytest.mark.parametrize(
    ("month", "metric", "value", "field"),
    [
        ("2024-13", "revenue_goal", "1", "month"),
        ("2024-00", "revenue_goal", "1", "month"),
        ("2024-3", "revenue_goal", "1", "month"),
        ("03-2024", "revenue_goal", "1", "month"),
        ("", "revenue_goal", "1", "month"),
        (None, "revenue_goal", "1", "month"),
        ("1890-01", "revenue_goal", "1", "month"),
        ("2999-01", "revenue_goal", "1", "month"),
        ("2024-03", "happiness", "1", "metric"),
        ("2024-03", "", "1", "metric"),
        ("2024-03", "revenue_goal", "lots", "value"),
        ("2024-03", "revenue_goal", "", "value"),
        ("2024-03", "revenue_goal", None, "value"),
        ("2024-03", "revenue_goal", True, "value"),
        ("2024-03", "revenue_goal", "NaN", "value"),
        ("2024-03", "revenue_goal", "Infinity", "value"),
        ("2024-03", "revenue_goal", float("inf"), "value"),
        ("2024-03", "revenue_goal", "-1", "value"),
        ("2024-03", "revenue_goal", "1e12", "value"),
        ("2024-03", "revenue_goal", "10.001", "value"),
        ("2024-03", "lead_to_customer", "1.2", "value"),
        ("2024-03", "follow_up_share", "0.12345", "value"),
        ("2024-03", "mqls_delivered", "2.5", "value"),
        ("2024-03", "follow_up_hours", "0", "value"),
        ("2024-03", "follow_up_hours", "10000", "value"),
        ("2024-03", "attempts_window_days", "0", "value"),
    ],
)
def test_bad_inputs_are_refused_and_nothing_is_recorded(
    month: object, metric: object, value: object, field: str
) -> None:
    agg = agreement()
    agg.collect_events()
    with pytest.raises(InvalidInput) as error:
        agg.set_target(month, metric, value)
    assert error.value.field == field
    assert agg.collect_events() == []
    assert agg.targets == {}


def test_reason_and_occurred_at_are_checked() -> None:
    agg = agreement()
    agg.collect_events()
    with pytest.raises(InvalidInput):
        agg.set_target("2024-03", "revenue_goal", "1", "x" * 5000)
    with pytest.raises(InvalidInput):
        agg.set_target("2024-03", "revenue_goal", "1", occurred_at=datetime(2024, 3, 1))  # naive
    with pytest.raises(InvalidInput):
        agg.set_target("2024-03", "revenue_goal", "1", occurred_at=datetime(2999, 1, 1, tzinfo=UTC))
    assert agg.collect_events() == []


def test_zero_is_a_valid_target_where_it_makes_sense() -> None:
    agg = agreement()
    agg.set_target("2024-03", "marketing_revenue", "0")
    assert agg.target("2024-03", "marketing_revenue") == 0


def test_replaying_the_log_rebuilds_the_agreement() -> None:
    agg = agreement()
    agg.set_target("2024-03", "revenue_goal", "150000")
    agg.set_target("2024-03", "revenue_goal", "140000", "Market slowdown")
    agg.set_target("2024-04", "sales_conversion", "0.2")
    replayed = None
    for e in agg.collect_events():
        replayed = e.mutate(replayed)
    assert replayed is not None
    assert replayed.targets == agg.targets
    assert replayed.version == agg.version == 4


@pytest.mark.parametrize(
    ("month", "count", "expected"),
    [
        ("2024-01", -1, "2023-12"),
        ("2024-03", -3, "2023-12"),
        ("2023-11", 2, "2024-01"),
        ("2024-12", 1, "2025-01"),
        ("2024-05", -17, "2022-12"),
        ("2024-05", 0, "2024-05"),
    ],
)
def test_add_months_across_years(month: str, count: int, expected: str) -> None:
    assert add_months(month, count) == expected
