"""The log chain: a SHA-256 hash chain over every stored event, kept as a
tracked projection, plus the monthly seals taken from it.

digest_n = sha256(digest_{n-1} || notification id || originator_id ||
originator_version || topic || state bytes), each variable part length-prefixed
so no two different logs can produce the same input.

Why a tracked projection and not a column written inside the event transaction:
the events are written by the eventsourcing library's own recorder, which we do
not wrap or fork (its SQL, locking and notification ids stay the library's).
The chain is instead written in the same read-model transaction as its tracking
position, so it can never be half-written or skip an event, and it lags the log
by at most one catch-up.

What it protects against: any later change to stored rows — an edited field, a
deleted, reordered or inserted event — which ``smarketing.audit.chain.verify``
finds and locates. What it does not: someone able to rewrite both the log and
this table consistently. The monthly seals (``audit_seals``, printed in the
monthly PDF and exported) anchor the chain outside the database for that case.

The chain hashes the *stored bytes*, never decoded events: the notifications
the projector read through the library recorder's ``select_notifications`` (and
decoded for the other projections) are handed over as read (``process_stored``),
so a catch-up selects each row once; ``process`` alone re-reads them.
A rebuild never launders tampering: positions already chained are recomputed and
compared, and a mismatch stops the projector with an error.
"""

import hashlib
from collections.abc import Iterator, Mapping, Sequence
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Notification
from sqlalchemy import BigInteger, Column, Connection, DateTime, Index, String, Table, select

from projections.projector import Positioned, Projection
from projections.rows import insert_tuples
from projections.schema import metadata

GENESIS = hashlib.sha256(b"smarketing-log-chain-v1").digest()
PAGE = 2000

log_chain = Table(
    "log_chain",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("digest", String(64), nullable=False),
    Column("originator_id", String(36), nullable=False),
    Column("originator_version", BigInteger, nullable=False),
    Index("ix_log_chain_originator", "originator_id", "originator_version"),
)

audit_seals = Table(
    "audit_seals",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("sealed_at", DateTime, nullable=False),
)


class ChainError(RuntimeError):
    """The stored log disagrees with the chain already recorded for it."""


def ident(originator_id: UUID | str) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else str(originator_id)


def _part(value: bytes) -> bytes:
    return len(value).to_bytes(8, "big") + value


def link(previous: bytes, n: Notification, originator: str | None = None) -> bytes:
    """The next digest: ``previous`` chained with notification ``n`` as stored
    (``originator``: ``ident(n.originator_id)``, if the caller has it already)."""
    if originator is None:
        originator = ident(n.originator_id)
    # One update of the joined parts hashes the same bytes as one update per part,
    # with fewer calls (run once per event on every catch-up and verify).
    return hashlib.sha256(
        b"".join(
            (
                previous,
                n.id.to_bytes(8, "big"),
                _part(originator.encode()),
                n.originator_version.to_bytes(8, "big", signed=True),
                _part(n.topic.encode()),
                _part(bytes(n.state)),
            )
        )
    ).digest()


def raw_notifications(
    recorder: ApplicationRecorder, after: int = 0, until: int | None = None, page: int = PAGE
) -> Iterator[Notification]:
    """Stored rows in id order, ``after`` < id <= ``until``, paged."""
    while until is None or after < until:
        batch = recorder.select_notifications(start=after, limit=page, stop=until, inclusive_of_start=False)
        if not batch:
            return
        yield from batch
        after = batch[-1].id


def digest_before(conn: Connection, position: int) -> bytes:
    row = conn.execute(
        select(log_chain.c.digest)
        .where(log_chain.c.position < position)
        .order_by(log_chain.c.position.desc())
        .limit(1)
    ).first()
    return GENESIS if row is None else bytes.fromhex(row.digest)


class LogChainProjection(Projection):
    name = "log_chain"
    # Empty on purpose: ``rebuild`` must not delete the chain, only re-check it.
    tables = ()
    uses_stored = True

    def __init__(self, recorder: ApplicationRecorder) -> None:
        self.recorder = recorder

    def bulk_tables(self) -> Sequence[Table]:
        # A rebuild keeps the chain, so only a first build finds it empty.
        return (log_chain,)

    def process(self, conn: Connection, events: list[Positioned]) -> None:
        first, last = events[0][0], events[-1][0]
        raw = {n.id: n for n in raw_notifications(self.recorder, first - 1, last)}
        self.process_stored(conn, events, raw)

    def process_stored(
        self, conn: Connection, events: list[Positioned], raw: Mapping[int, Notification]
    ) -> None:
        positions = [position for position, _ in events]
        first, last = positions[0], positions[-1]
        existing = {
            row.position: row.digest
            for row in conn.execute(
                select(log_chain.c.position, log_chain.c.digest).where(
                    log_chain.c.position.between(first, last)
                )
            )
        }
        previous = digest_before(conn, first)
        rows = []
        # An aggregate's id as text, by the id's number (a slot read): formatting it
        # (uuid.hex, a Python property) twice per event was a tenth of this projection.
        originators: dict[int, str] = {}
        for position in positions:
            n = raw.get(position)
            if n is None:
                raise ChainError(f"Event at position {position} vanished before it was chained.")
            oid = n.originator_id
            if type(oid) is UUID:
                originator = originators.get(oid.int)
                if originator is None:
                    originator = originators[oid.int] = oid.hex
            else:
                originator = ident(oid)
            digest = link(previous, n, originator)
            if position in existing:
                if existing[position] != digest.hex():
                    raise ChainError(
                        f"Stored event at position {position} no longer matches the log chain: "
                        "run `flask audit verify`."
                    )
            else:  # log_chain's columns, in order (insert_tuples)
                rows.append((position, digest.hex(), originator, n.originator_version))
            previous = digest
        insert_tuples(conn, log_chain, rows)
