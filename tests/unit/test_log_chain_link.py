"""The log chain's link: handing it the originator's text (the recorders and the
migration pass it as stored) must hash exactly what it hashes when it formats the id."""

from uuid import UUID

from eventsourcing.persistence import Notification

from smarketing.store.log_chain import GENESIS, ident, link


def test_same_digest_with_the_originator_given() -> None:
    lead = UUID(int=12345)
    notes = [
        Notification(id=1, originator_id=lead, originator_version=1, topic="a:B.C", state=b"{}"),
        Notification(id=2, originator_id="named", originator_version=1, topic="x:Y", state=b"\x00\x01"),
        Notification(id=3, originator_id=lead, originator_version=2, topic="a:B.D", state=b"[1]"),
    ]
    plain, given = GENESIS, GENESIS
    for n in notes:
        plain = link(plain, n)
        given = link(given, n, ident(n.originator_id))
        assert plain == given
    assert link(GENESIS, notes[0], "not the id") != link(GENESIS, notes[0])
