"""LeadBatch.without_interactions: the batch's lead items but interactions, in log order."""

from datetime import datetime, timedelta, timezone

from domain.lead import Lead
from projections.engine.rows import LeadBatch
from projections.engine.schema import to_db
from tests.unit.lead_builders import capture

CEST = timezone(timedelta(hours=2))


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


def test_keys_times_and_stored_leads() -> None:
    lead = capture()
    lead.collect_events()  # its creation, left out of the batch
    lead.record_interaction("webinar", "web", "", occurred_at=datetime(2026, 5, 6, 12, 0, tzinfo=CEST))
    lead.change_stage("MQL")
    later = lead.collect_events()  # this batch lacks the lead's first event
    other = capture()
    events = later + other.collect_events()
    batch = LeadBatch(list(enumerate(events, start=1)))
    assert [key for _, key, _, _ in batch.items] == [lead.id.hex, lead.id.hex, other.id.hex]
    assert [at for *_, at in batch.items] == [to_db(e.occurred_at) for e in events]
    assert batch.items[0][3] == datetime(2026, 5, 6, 10, 0)  # naive UTC
    assert batch.keys == {lead.id.hex, other.id.hex}
    assert batch.stored == {lead.id.hex}  # other's creation is in the batch: nothing stored
