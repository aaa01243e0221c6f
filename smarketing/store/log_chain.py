"""The log chain: a SHA-256 hash chain over every stored event, written by the
recorders (``smarketing.store.sqlite_recorder``, ``smarketing.store.pg_recorder``) in the
same transaction as the event, so no event is ever in the log without its link.

digest_n = sha256(digest_{n-1} || notification id || originator_id ||
originator_version || topic || state bytes), each variable part length-prefixed
so no two different logs can produce the same input. Positions are notification
ids: gaps in ids (PostgreSQL's sequence) are not gaps in the chain.

What it protects against: any later change to stored rows — an edited field, a
deleted, reordered, inserted or appended event — which
``smarketing.audit.chain.verify`` finds and locates. What it does not: someone
able to rewrite both the log and this table consistently. Anchors (``flask audit
anchor``) and the monthly seals keep the chain's head outside the database for that.

Why a table the recorder writes and not a column of the events table: the
library owns the events table's shape; this one is ours, and its rows are
inserted by the very statements (PostgreSQL) or transaction (SQLite) that insert
the events, after the library's table lock or SQLite's write lock serialised the
writers, so the previous head read there is the real one.
"""

import hashlib
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification
from sqlalchemy import BigInteger, Column, Connection, DateTime, Index, MetaData, String, Table, text

GENESIS = hashlib.sha256(b"smarketing-log-chain-v1").digest()
PAGE = 2000

chain_metadata = MetaData()

# The recorders create this table with the events table (their DDL mirrors it).
log_chain = Table(
    "log_chain",
    chain_metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("digest", String(64), nullable=False),
    Column("originator_id", String(36), nullable=False),
    Column("originator_version", BigInteger, nullable=False),
    Index("ix_log_chain_originator", "originator_id", "originator_version"),
)

# One row once a store's events are chained at write time: events stored before
# (chained then by the old projection, or not at all) were chained once by
# ``smarketing.store.chain_migration``; never again, so a row appended with SQL later
# is never chained by a set-up step.
log_chain_start = Table(
    "log_chain_start",
    chain_metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("position", BigInteger, nullable=False),
    Column("started_at", DateTime, nullable=False),
)

# Monthly seals: the chain's digest at the last event recorded before a month ended,
# printed in the monthly PDF (``smarketing.audit.chain.seal_month``).
audit_seals = Table(
    "audit_seals",
    chain_metadata,
    Column("month", String(7), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("sealed_at", DateTime, nullable=False),
)


def ident(originator_id: UUID | str) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else str(originator_id)


def digest(previous: bytes, position: int, originator: str, version: int, topic: str, state: bytes) -> bytes:
    """The link after ``previous`` for an event stored at ``position`` as given."""
    o, t = originator.encode(), topic.encode()
    # One update of the joined parts hashes the same bytes as one update per part,
    # with fewer calls (run once per event on every save and verify).
    return hashlib.sha256(
        b"".join(
            (
                previous,
                position.to_bytes(8, "big"),
                len(o).to_bytes(8, "big"),
                o,
                version.to_bytes(8, "big", signed=True),
                len(t).to_bytes(8, "big"),
                t,
                len(state).to_bytes(8, "big"),
                state,
            )
        )
    ).digest()


def link(previous: bytes, n: Notification, originator: str | None = None) -> bytes:
    """The next digest: ``previous`` chained with notification ``n`` as stored
    (``originator``: ``ident(n.originator_id)``, if the caller has it already)."""
    if originator is None:
        originator = ident(n.originator_id)
    return digest(previous, n.id, originator, n.originator_version, n.topic, bytes(n.state))


def links(previous: bytes, rows: list["StoredRow"]) -> list[tuple[int, str, str, int]]:
    """``log_chain`` rows (position, digest hex, originator, version) for stored rows
    (notification id, originator, version, topic, state), chained after ``previous``."""
    chained = []
    for position, originator, version, topic, state in rows:
        previous = digest(previous, position, originator, version, topic, state)
        chained.append((position, previous.hex(), originator, version))
    return chained


StoredRow = tuple[int, str, int, str, bytes]


def events_source(recorder: Any, dialect: str) -> tuple[str, str]:
    """(events table, its notification id column) as the library names them."""
    return recorder.events_table_name, "notification_id" if dialect == "postgresql" else "rowid"


def stored_rows(conn: Connection, source: tuple[str, str], after: int = 0) -> Iterator[StoredRow]:
    """The stored events after ``after``, in position order, as stored (read in pages
    through ``conn``, so within its transaction's snapshot): (position, originator,
    version, topic, state)."""
    table, id_column = source
    statement = text(
        f"SELECT {id_column}, originator_id, originator_version, topic, state FROM {table} "
        f"WHERE {id_column} > :after ORDER BY {id_column} LIMIT :page"
    )
    while rows := conn.execute(statement, {"after": after, "page": PAGE}).all():
        for r in rows:
            yield int(r[0]), ident(r[1]), int(r[2]), r[3], bytes(r[4])
        after = int(rows[-1][0])
