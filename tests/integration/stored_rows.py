"""Stored events and notification rows for the tests of our recorder subclasses."""

from eventsourcing.persistence import ApplicationRecorder, StoredEvent


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
