"""Once per store, on ``flask db init``: chain the events stored before the
recorders wrote each event's link themselves.

A store made before then has its events chained by the old tracked projection up
to some position (the same table and the same digests), and maybe newer events
the projection had not reached. Those are chained here, once, after the head,
and ``log_chain_start`` records that it happened and up to where; from then on
only the recorders write links. A row appended with SQL after the upgrade is
therefore never chained by a set-up step: ``audit verify`` names it.
"""

from datetime import UTC, datetime

from eventsourcing.persistence import ApplicationRecorder
from sqlalchemy import Connection, Engine, func, insert, select, text

from smarketing.store.log_chain import (
    GENESIS,
    PAGE,
    StoredRow,
    chain_metadata,
    events_source,
    links,
    log_chain,
    log_chain_start,
    stored_rows,
)


def chain_existing_events(engine: Engine, recorder: ApplicationRecorder) -> int:
    """Chain the events past the chain head unless this store did it before; how many."""
    chain_metadata.create_all(engine)
    source = events_source(recorder, engine.dialect.name)
    with engine.begin() as conn:  # SQLite: BEGIN IMMEDIATE, the write lock (bootstrap)
        if engine.dialect.name == "postgresql":
            # The recorders' own lock: no save runs while the tail is chained.
            conn.execute(text(f"LOCK TABLE {source[0]} IN EXCLUSIVE MODE"))
        if conn.execute(select(log_chain_start.c.id)).first() is not None:
            return 0
        chained = _chain_tail(conn, source)
        head = conn.execute(select(func.max(log_chain.c.position))).scalar() or 0
        started_at = datetime.now(UTC).replace(tzinfo=None)
        conn.execute(insert(log_chain_start).values(id=1, position=head, started_at=started_at))
    return chained


def _chain_tail(conn: Connection, source: tuple[str, str]) -> int:
    row = conn.execute(
        select(log_chain.c.position, log_chain.c.digest).order_by(log_chain.c.position.desc()).limit(1)
    ).first()
    after, previous = (0, GENESIS) if row is None else (int(row.position), bytes.fromhex(row.digest))
    chained, page = 0, []
    columns = ("position", "digest", "originator_id", "originator_version")
    for stored in stored_rows(conn, source, after):
        page.append(stored)
        if len(page) == PAGE:
            previous, done = _insert_links(conn, previous, page, columns)
            chained, page = chained + done, []
    if page:
        chained += _insert_links(conn, previous, page, columns)[1]
    return chained


def _insert_links(
    conn: Connection, previous: bytes, page: list[StoredRow], columns: tuple[str, ...]
) -> tuple[bytes, int]:
    new = links(previous, page)
    conn.execute(insert(log_chain), [dict(zip(columns, row, strict=True)) for row in new])
    return bytes.fromhex(new[-1][1]), len(new)
