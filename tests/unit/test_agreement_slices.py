"""Targets per slice (one source's or one owner's figures): recorded on the TargetSet
event (v2), revised per slice, refused when the slice is incomplete; v1 events, which
were all company-wide, are upcast to the whole company's slice."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from domain.agreement import WHOLE_COMPANY, SLAAgreement, target_change
from domain.errors import InvalidInput

AT = datetime(2024, 3, 1, 9, tzinfo=UTC)


def test_a_target_may_bind_a_source_or_an_owner() -> None:
    agg = SLAAgreement.start(AT)
    agg.set_target("2024-03", "revenue_goal", "100000", occurred_at=AT)
    agg.set_target(
        "2024-03", "revenue_goal", "20000", occurred_at=AT, slice_by="source", slice_value="Webinar"
    )
    agg.set_target("2024-03", "mqls_delivered", "12", occurred_at=AT, slice_by="owner", slice_value="lucia")
    events = [e for e in agg.collect_events() if isinstance(e, SLAAgreement.TargetSet)]
    assert [(e.slice_by, e.slice_value, e.previous_value) for e in events] == [
        ("", "", None),
        ("source", "webinar", None),  # as sources are stored: lower-case
        ("owner", "lucia", None),
    ]
    assert type(events[0]).class_version == 2
    assert agg.target("2024-03", "revenue_goal") == Decimal("100000.00")
    assert agg.target("2024-03", "revenue_goal", ("source", "webinar")) == Decimal("20000.00")
    assert agg.target("2024-03", "revenue_goal", ("owner", "lucia")) is None
    assert target_change(events[1])["slice_by"] == "source"


def test_revising_a_slice_target_needs_a_reason_and_leaves_the_company_alone() -> None:
    agg = SLAAgreement.start(AT)
    agg.set_target("2024-03", "revenue_goal", "100000", occurred_at=AT)
    agg.set_target(
        "2024-03", "revenue_goal", "20000", occurred_at=AT, slice_by="source", slice_value="webinar"
    )
    with pytest.raises(InvalidInput) as refused:
        agg.set_target("2024-03", "revenue_goal", "25000", slice_by="source", slice_value="webinar")
    assert refused.value.field == "reason"
    agg.set_target(
        "2024-03", "revenue_goal", "25000", "more budget", slice_by="source", slice_value="webinar"
    )
    revised = agg.collect_events()[-1]
    assert (revised.previous_value, revised.value) == (Decimal("20000.00"), Decimal("25000.00"))
    assert agg.target("2024-03", "revenue_goal") == Decimal("100000.00")


@pytest.mark.parametrize(
    ("metric", "slice_by", "slice_value", "field"),
    [
        ("revenue_goal", "campaign", "spring", "slice_by"),  # only sources and owners
        ("revenue_goal", "source", "  ", "slice_value"),
        ("revenue_goal", "", "webinar", "slice_by"),
        ("attempts_window_days", "owner", "lucia", "metric"),  # a term, company-wide
    ],
)
def test_an_incomplete_or_unknown_slice_is_refused_recording_nothing(
    metric, slice_by, slice_value, field
) -> None:
    agg = SLAAgreement.start(AT)
    agg.collect_events()
    with pytest.raises(InvalidInput) as refused:
        agg.set_target("2024-03", metric, "5", slice_by=slice_by, slice_value=slice_value)
    assert refused.value.field == field
    assert agg.collect_events() == []


def test_a_v1_target_is_upcast_to_the_whole_company() -> None:
    state = {"month": "2024-03", "metric": "revenue_goal", "value": Decimal(1), "reason": ""}
    SLAAgreement.TargetSet.upcast_v1_v2(state)
    assert (state["slice_by"], state["slice_value"]) == WHOLE_COMPANY
