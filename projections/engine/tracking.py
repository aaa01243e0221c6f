"""Atomic tracking of each projection's log position, in the read-model database.

A projection's rows and its position are written in one transaction, and the
position row is locked first (``SELECT ... FOR UPDATE`` on PostgreSQL, ``BEGIN
IMMEDIATE`` on SQLite), so two projectors never process the same event: the
second waits, then sees the advanced position and skips what was done.

``SQLAlchemyTrackingRecorder`` exposes the same table through the library's
``TrackingRecorder`` interface so the library's own contract tests run on it.
"""

from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError as SAIntegrityError

from projections.engine.schema import tracking


def ensure_position_row(conn: Connection, name: str) -> None:
    exists = conn.execute(select(tracking.c.position).where(tracking.c.projection == name)).first()
    if exists is None:
        conn.execute(insert(tracking).values(projection=name, position=0))


def lock_position(conn: Connection, name: str) -> int:
    row = conn.execute(
        select(tracking.c.position).where(tracking.c.projection == name).with_for_update()
    ).first()
    if row is None:
        raise LookupError(f"Projection {name!r} has no tracking row: run `flask db init`.")
    return int(row.position)


def read_position(conn: Connection, name: str) -> int:
    row = conn.execute(select(tracking.c.position).where(tracking.c.projection == name)).first()
    return 0 if row is None else int(row.position)


def reset_position(conn: Connection, name: str) -> None:
    conn.execute(update(tracking).where(tracking.c.projection == name).values(position=0))


def advance_position(conn: Connection, name: str, position: int) -> None:
    """Move the position forward; refuse to stand still or go back."""
    result = conn.execute(
        update(tracking)
        .where(tracking.c.projection == name, tracking.c.position < position)
        .values(position=position)
    )
    if result.rowcount == 1:
        return
    try:
        with conn.begin_nested():
            conn.execute(insert(tracking).values(projection=name, position=position))
    except SAIntegrityError:
        raise IntegrityError(f"Position {position} of {name!r} was already tracked") from None


class SQLAlchemyTrackingRecorder(TrackingRecorder):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def insert_tracking(self, tracking: Tracking) -> None:
        with self.engine.begin() as conn:
            advance_position(conn, tracking.application_name, tracking.notification_id)

    def max_tracking_id(self, application_name: str) -> int | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(tracking.c.position).where(tracking.c.projection == application_name)
            ).first()
        return None if row is None else int(row.position)
