"""LeadBatch.without_interactions: the batch's lead items but interactions, in log order."""

from domain.lead import Lead
from projections.rows import LeadBatch
from tests.unit.lead_builders import capture


def test_items_without_interactions_keep_their_order() -> None:
    lead = capture()
    lead.record_interaction("webinar", "web", "notes")
    lead.attempt_contact("phone", "left_message", "")
    lead.record_interaction("webinar", "web", "")
    lead.change_stage("MQL")
    other = capture()
    other.record_interaction("webinar", "web", "")
    events = list(enumerate(lead.collect_events() + other.collect_events(), start=1))
    batch = LeadBatch(events)
    kept = batch.without_interactions
    assert [position for position, *_ in kept] == [1, 3, 5, 6]
    assert not any(isinstance(e, Lead.InteractionRecorded) for _, _, e, _ in kept)
    assert [item for item in batch.items if item in kept] == kept
    assert batch.without_interactions is kept  # computed once per batch
