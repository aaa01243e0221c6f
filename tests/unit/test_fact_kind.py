"""fact_kind answers by the event's class, found once per class: the same as the
isinstance chain it replaced, for every kind of event a lead has."""

from typing import Any

from domain.lead import Lead
from domain.vocabulary import Stage
from projections.models.scorecard import fact_kind
from tests.unit.lead_builders import capture, full_history

_STAGE_FACT = {"MQL": "mql", "SQL": "sql", "Opportunity": "opportunity", "Disqualified": "disqualified"}


def by_isinstance(event: Any) -> str | None:
    if isinstance(event, Lead.Captured):
        return "captured"
    if isinstance(event, Lead.ContactAttempted):
        return "contact_attempt"
    if isinstance(event, Lead.DealWon):
        return "won"
    if isinstance(event, Lead.DealLost):
        return "lost"
    if isinstance(event, Lead.MQLRejected):
        return "rejected"
    if isinstance(event, Lead.StageChanged):
        return _STAGE_FACT.get(event.to_stage)
    return None


def test_same_kind_as_the_isinstance_chain_for_every_lead_event() -> None:
    lead = full_history(capture(), details="notes", note="")
    lead.erase_personal_data("asked to be forgotten")
    disqualified = capture()
    disqualified.change_stage(Stage.DISQUALIFIED.value, reason="student")
    events = lead.collect_events() + disqualified.collect_events()
    assert len({type(e) for e in events}) == 9  # every Lead event class
    kinds = [fact_kind(e) for e in events]
    assert kinds == [by_isinstance(e) for e in events]
    every_kind = {"captured", "contact_attempt", "mql", "rejected", "sql", "lost", "opportunity", "won"}
    assert every_kind | {"disqualified", None} <= set(kinds)
