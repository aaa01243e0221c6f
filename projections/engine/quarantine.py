"""Events a read model could not decode or apply, kept aside instead of stopping
every catch-up (and with it every web write) at the same event.

A projection with a row here is *stuck*: it keeps its last good state and its
position (the event before the stuck one), and catch-ups pass it by until an
administrator runs ``flask projections retry`` (after a fix) or ``skip``. Other
projections go on. An event the mapper cannot decode (a sealed field whose seal
no longer opens, bytes changed with SQL) sticks every projection that has not
passed it yet, as none can apply what cannot be read.

Only the event's own faults quarantine it: a locked or unreachable database is
raised as before (``is_store_unavailable``), so it never sticks a projection.
"""

import sqlite3
from dataclasses import dataclass
from datetime import datetime

import psycopg
from eventsourcing import persistence
from sqlalchemy import BigInteger, Column, Connection, DateTime, String, Table, Text, delete, insert, select
from sqlalchemy import exc as sa

from projections.engine.schema import from_db, metadata, to_db

# Long error texts (a traceback's repr) are cut: the row is a pointer, not a log.
ERROR_CHARS = 500

quarantine = Table(
    "projection_quarantine",
    metadata,
    Column("projection", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),  # the event it could not take
    Column("error", Text, nullable=False),
    Column("since", DateTime, nullable=False),  # naive UTC, as every table (projections.engine.schema)
)


@dataclass(frozen=True)
class Stuck:
    projection: str
    position: int
    error: str
    since: datetime


# Faults of the database (locked, read-only, gone, a pool exhausted), in each layer's
# words: SQLite's "database is locked" and "readonly database" are OperationalErrors,
# PostgreSQL's lock and statement timeouts too, its read-only transactions InternalErrors.
UNAVAILABLE: tuple[type[Exception], ...] = (
    persistence.OperationalError,
    persistence.InterfaceError,
    persistence.InternalError,
    sa.OperationalError,
    sa.InterfaceError,
    sa.InternalError,
    sa.TimeoutError,
    sqlite3.OperationalError,
    sqlite3.InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
    psycopg.InternalError,
)
# Raised by the projector's own bookkeeping (two projectors tracking one position),
# never the event's fault.
NOT_THE_EVENTS_FAULT: tuple[type[Exception], ...] = (*UNAVAILABLE, persistence.IntegrityError)


def is_store_unavailable(error: BaseException) -> bool:
    """A fault of the database (locked, read-only, gone), not of the event: retry later."""
    return isinstance(error, UNAVAILABLE)


def describe(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return text[:ERROR_CHARS]


def stick(conn: Connection, projection: str, position: int, error: BaseException, now: datetime) -> None:
    """Record the event the projection cannot take (the caller holds its tracking lock)."""
    conn.execute(delete(quarantine).where(quarantine.c.projection == projection))
    conn.execute(
        insert(quarantine).values(
            projection=projection, position=position, error=describe(error), since=to_db(now)
        )
    )


def stuck_projections(conn: Connection) -> dict[str, Stuck]:
    return {
        row.projection: Stuck(row.projection, int(row.position), row.error, _since(row.since))
        for row in conn.execute(select(quarantine).order_by(quarantine.c.projection))
    }


def _since(value: datetime) -> datetime:
    since = from_db(value)
    assert since is not None  # the column is NOT NULL
    return since


def is_stuck(conn: Connection, projection: str) -> bool:
    row = conn.execute(select(quarantine.c.position).where(quarantine.c.projection == projection)).first()
    return row is not None


def release(conn: Connection, projection: str) -> Stuck | None:
    """Let the projection try its stuck event again; what it was stuck on, if anything."""
    stuck = stuck_projections(conn).get(projection)
    conn.execute(delete(quarantine).where(quarantine.c.projection == projection))
    return stuck
