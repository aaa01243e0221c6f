"""Stored events and notification rows for the tests of our recorder subclasses, and
stored read-model rows counted."""

from uuid import UUID, uuid4

from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from sqlalchemy import Connection, func, select

from projections.models.lead_summary import lead_summary


def stored_events(originator: object, versions: range) -> list[StoredEvent]:
    return [
        StoredEvent(originator_id=originator, originator_version=v, topic="t:T", state=b'{"v":%d}' % v)
        for v in versions
    ]


def notification_rows(recorder: ApplicationRecorder) -> list[tuple]:
    return [
        (n.id, n.originator_id, n.originator_version, n.topic, n.state)
        for n in recorder.select_notifications(start=1, limit=1000)
    ]


def assert_saves_interleave_with_the_library(ours: ApplicationRecorder, library: ApplicationRecorder) -> UUID:
    """Saves through our recorder and the library's, interleaved on one table: the same
    rows and consecutive notification ids. Returns the aggregate saved by both."""
    a, b = uuid4(), uuid4()
    assert ours.insert_events(stored_events(a, range(1, 4))) == [1, 2, 3]
    assert library.insert_events(stored_events(b, range(1, 3))) == [4, 5]
    assert ours.insert_events(stored_events(b, range(3, 4))) == [6]
    assert notification_rows(ours) == [
        (1, a, 1, "t:T", b'{"v":1}'),
        (2, a, 2, "t:T", b'{"v":2}'),
        (3, a, 3, "t:T", b'{"v":3}'),
        (4, b, 1, "t:T", b'{"v":1}'),
        (5, b, 2, "t:T", b'{"v":2}'),
        (6, b, 3, "t:T", b'{"v":3}'),
    ]
    return b


def count_leads(conn: Connection) -> int:
    """Leads in the lead_summary read model (the app itself never needs the total)."""
    return int(conn.execute(select(func.count()).select_from(lead_summary)).scalar_one())
