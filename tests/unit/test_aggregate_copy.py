"""The cheap deep copy the library uses for leads handed out from its cache."""

import copy
from datetime import UTC, datetime

from domain.lead import Lead
from tests.unit.lead_builders import capture


def _lead() -> Lead:
    lead = capture()
    lead.record_interaction("webinar", "web", "first note")
    lead.collect_events()
    return lead


def test_copy_has_the_same_state_and_type() -> None:
    lead = _lead()
    clone = copy.deepcopy(lead)
    assert type(clone) is Lead and clone is not lead
    assert vars(clone) == vars(lead)
    assert clone.as_dict() == lead.as_dict()


def test_mutable_state_is_not_shared() -> None:
    lead = _lead()
    clone = copy.deepcopy(lead)
    assert clone.personal is not lead.personal
    assert clone._pending_events is not lead._pending_events
    clone.personal["name"] = "Changed"
    clone.record_interaction("call", "phone", "a failed command's change")
    assert lead.personal["name"] != "Changed"
    assert lead.collect_events() == []
    assert lead.interactions == 1 and clone.interactions == 2


def test_a_command_on_the_copy_leaves_the_original_unchanged() -> None:
    lead = _lead()
    before = copy.deepcopy(vars(lead))  # plain dicts: the generic deep copy
    clone = copy.deepcopy(lead)
    clone.change_stage("MQL", occurred_at=datetime.now(UTC))
    clone.erase_personal_data("request")
    assert vars(lead) == before


def test_containers_shared_inside_the_object_stay_shared_in_the_copy() -> None:
    lead = _lead()
    lead.also_personal = lead.personal  # type: ignore[attr-defined]
    clone = copy.deepcopy(lead)
    assert clone.also_personal is clone.personal and clone.personal is not lead.personal  # type: ignore[attr-defined]


def test_nested_containers_are_copied_deeply() -> None:
    lead = _lead()
    lead.nested = {"tags": ["a", "b"]}  # type: ignore[attr-defined]
    clone = copy.deepcopy(lead)
    clone.nested["tags"].append("c")  # type: ignore[attr-defined]
    assert lead.nested == {"tags": ["a", "b"]}  # type: ignore[attr-defined]
