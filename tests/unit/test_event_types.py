"""Every lead event class has its wording, label and icon in the one registry
(smarketing.present.event_types): a new event without them fails here, not on a page."""

import inspect

from eventsourcing.domain import Aggregate

from domain.lead import Lead
from smarketing.present.event_types import EVENT_TYPES, by_name, event_label
from smarketing.present.timeline_text import describe

# Lead.Event is the base class; Lead.Created is the library's default, never stored
# (a lead is created by Captured).
NOT_STORED = {Lead.Event, Lead.Created}


def lead_event_classes() -> set[type]:
    return {
        value
        for value in vars(Lead).values()
        if inspect.isclass(value) and issubclass(value, Aggregate.Event) and value not in NOT_STORED
    }


def test_every_lead_event_class_is_registered() -> None:
    assert set(EVENT_TYPES) == lead_event_classes()


def test_every_registered_event_has_a_label_an_icon_and_both_lines() -> None:
    for cls, kind in EVENT_TYPES.items():
        assert by_name(cls.__name__) is kind
        assert kind.icon and kind.label._args[0]  # a catalog string (lazy), not a literal
        assert callable(kind.headline) and callable(kind.line)


def test_the_audit_replay_names_events_from_the_registry() -> None:
    for cls, kind in EVENT_TYPES.items():
        assert event_label(cls.__name__) == str(kind.label)
    assert event_label("Unheard") == "Unheard"  # a stored name this version does not know


def test_the_terminal_line_as_before() -> None:
    data = {"from_stage": "lead", "to_stage": "mql", "personal": {"reason": "fits"}}
    assert describe("StageChanged", data) == "Stage lead → mql — fits"
    assert describe("DealWon", {"amount": None, "currency": "EUR"}) == "Deal won: amount unknown"
    assert describe("Unheard", {}) == "Unheard"
