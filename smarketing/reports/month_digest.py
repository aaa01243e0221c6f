"""The month digest printed on the monthly report: a hash chain over the month's
events, kept per month as a projection so a report never re-reads the whole log.

Definition (version 2), for month M (``YYYY-MM`` of the event's business time
``occurred_at`` in the team's time zone), over the stored events in log order:

    d_0 = sha256(b"smarketing-monthly-v2\\n" || M)
    d_k = sha256(d_{k-1} || id as 8 bytes big-endian
                 || len(topic) as 4 bytes || topic (UTF-8)
                 || len(state) as 8 bytes || state (the stored bytes))

The digest is hex(d_n) for the n events of M at or before the log position.
Events without a business time (the e-mail index entries) belong to no month.
Version 1 hashed the same parts in one SHA-256 stream; a stream cannot be
stored and resumed, a chain can, hence version 2.

Anyone holding the log can recompute it with ``recompute``: walk the stored
events in id order, decode each one only for its ``occurred_at``, and chain
those of the month. ``tests/integration/test_report_replica.py`` checks that the
projection and ``recompute`` agree.
"""

import hashlib
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification
from sqlalchemy import BigInteger, Column, Connection, MetaData, String, Table, insert, select, update

from projections.engine.projector import Positioned, Projection
from projections.engine.schema import month_of

PREFIX = b"smarketing-monthly-v2\n"

# The replica's own tables: never created in the main database (``flask db init``
# creates ``projections.engine.schema.metadata``, not this).
replica_metadata = MetaData()

month_digests = Table(
    "report_month_digests",
    replica_metadata,
    Column("month", String(7), primary_key=True),
    Column("digest", String(64), nullable=False),
    Column("events", BigInteger, nullable=False),
)


def seed(month: str) -> bytes:
    return hashlib.sha256(PREFIX + month.encode()).digest()


def link(previous: bytes, n: Notification) -> bytes:
    topic, state = n.topic.encode(), bytes(n.state)
    return hashlib.sha256(
        b"".join(
            (
                previous,
                n.id.to_bytes(8, "big"),
                len(topic).to_bytes(4, "big"),
                topic,
                len(state).to_bytes(8, "big"),
                state,
            )
        )
    ).digest()


def business_month(event: Any, tz: ZoneInfo) -> str | None:
    occurred_at = getattr(event, "occurred_at", None)
    return None if occurred_at is None else month_of(occurred_at, tz)


class MonthDigestProjection(Projection):
    """One row per month: the chain's latest link and how many events it holds."""

    name = "report_month_digest"
    tables = (month_digests,)
    uses_stored = True  # hashes the stored bytes, which the projector already read

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz

    def process(self, conn: Connection, events: list[Positioned]) -> None:
        raise NotImplementedError("the month digest needs the stored events (process_stored)")

    def process_stored(
        self, conn: Connection, events: list[Positioned], stored: Mapping[int, Notification]
    ) -> None:
        by_month: dict[str, list[Notification]] = {}
        for position, event in events:
            month = business_month(event, self.tz)
            if month is not None:
                by_month.setdefault(month, []).append(stored[position])
        if not by_month:
            return
        found = {
            row.month: row
            for row in conn.execute(select(month_digests).where(month_digests.c.month.in_(sorted(by_month))))
        }
        for month, notifications in by_month.items():
            row = found.get(month)
            digest = bytes.fromhex(row.digest) if row else seed(month)
            for n in notifications:
                digest = link(digest, n)
            values = {"digest": digest.hex(), "events": (row.events if row else 0) + len(notifications)}
            if row:
                conn.execute(update(month_digests).where(month_digests.c.month == month).values(values))
            else:
                conn.execute(insert(month_digests).values(month=month, **values))


def read(conn: Connection, month: str) -> tuple[str, int]:
    """(hex digest, event count) of ``month`` as the projection stands in ``conn``."""
    row = conn.execute(select(month_digests).where(month_digests.c.month == month)).first()
    return (row.digest, int(row.events)) if row else (seed(month).hex(), 0)


def recompute(
    recorder: ApplicationRecorder, mapper: Mapper, tz: ZoneInfo, month: str, until: int
) -> tuple[str, int]:
    """The same digest from the log alone, decoding every event up to ``until`` (slow)."""
    digest, count, after = seed(month), 0, 0
    while after < until:
        page = recorder.select_notifications(start=after, limit=1000, stop=until, inclusive_of_start=False)
        if not page:
            break
        prefetch = getattr(mapper, "prefetch", None)  # the page's lead keys in one query
        if prefetch is not None:
            prefetch({n.originator_id for n in page})
        for n in page:
            if business_month(mapper.to_domain_event(n), tz) == month:
                digest, count = link(digest, n), count + 1
        after = page[-1].id
    return digest.hex(), count
