"""The one rule of "reaching a stage" (docs/FIGURES.md): a move reaches its target and
the stages it skipped, at once; the scorecard's facts follow it like the funnel does."""

import pytest

from domain.lifecycle import stages_reached
from projections.models.scorecard import fact_kind, implied_kinds
from tests.unit.lead_builders import capture


@pytest.mark.parametrize(
    ("from_stage", "to_stage", "skipped", "reached"),
    [
        ("Lead", "MQL", [], ["MQL"]),
        ("MQL", "SQL", [], ["SQL"]),
        ("Lead", "SQL", ["MQL"], ["MQL", "SQL"]),
        ("MQL", "Customer", ["SQL", "Opportunity"], ["SQL", "Opportunity", "Customer"]),
        ("Lead", "Customer", ["MQL", "SQL", "Opportunity"], ["MQL", "SQL", "Opportunity", "Customer"]),
        ("Opportunity", "Customer", [], ["Customer"]),
        # An event that states no skip still reaches what it jumped over.
        ("MQL", "Customer", [], ["SQL", "Opportunity", "Customer"]),
        ("MQL", "Lead", [], []),
        ("SQL", "Disqualified", [], []),
        ("Disqualified", "Recycled", [], []),
        ("Recycled", "Lead", [], []),
    ],
)
def test_a_move_reaches_its_target_and_the_stages_it_skipped(from_stage, to_stage, skipped, reached) -> None:
    assert stages_reached(from_stage, to_stage, skipped) == reached


def test_a_deal_won_from_mql_is_an_sql_and_an_opportunity_too() -> None:
    lead = capture()
    lead.change_stage("MQL")
    lead.win_deal("1200", reason="Imported closed deal")
    mql, won = lead.collect_events()[-2:]
    assert (fact_kind(mql), implied_kinds(mql)) == ("mql", [])
    assert (fact_kind(won), implied_kinds(won)) == ("won", ["sql", "opportunity"])


def test_a_skip_from_lead_to_sql_implies_the_mql() -> None:
    lead = capture()
    lead.change_stage("SQL", reason="Asked for a quote at once")
    lead.change_stage("Opportunity")
    skip, step = lead.collect_events()[-2:]
    assert (fact_kind(skip), implied_kinds(skip)) == ("sql", ["mql"])
    assert (fact_kind(step), implied_kinds(step)) == ("opportunity", [])


def test_leaving_the_funnel_implies_nothing() -> None:
    lead = capture()
    lead.change_stage("MQL")
    lead.reject_mql("no budget")
    lead.change_stage("Disqualified", reason="student")
    assert [implied_kinds(e) for e in lead.collect_events()] == [[], [], [], []]
