"""Full rebuilds without secondary-index upkeep: drop a projection's secondary
indexes before replaying a long log into its empty tables, create them after.

Why: a rebuild inserts every row of every read model; each secondary index is
then updated row by row in random key order (lead ids are random), most of the
write time of a large rebuild. One sorted build per index at the end is cheaper.

Only non-unique indexes are dropped, so no constraint is ever missing: without
them queries are slower, never different. While they are dropped, a marker row
``indexes_dropped:<projection>`` sits in ``projection_tracking``; whoever sees
it restores them (the run that dropped them when it ends, any later catch-up if
that run was interrupted, ``init_schema`` in any case). Dropping and restoring
happen under the projection's tracking-row lock, so two projectors never race
on the same indexes.
"""

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Index, Table, delete, insert, select

from projections.engine.schema import tracking

MARKER = "indexes_dropped:"


def marker(name: str) -> str:
    return MARKER + name


def secondary_indexes(tables: Iterable[Table]) -> list[Index]:
    return [index for table in tables for index in sorted(table.indexes, key=str) if not index.unique]


def is_empty(conn: Connection, tables: Sequence[Table]) -> bool:
    return all(conn.execute(select(1).select_from(table).limit(1)).first() is None for table in tables)


def drop(conn: Connection, name: str, tables: Sequence[Table]) -> None:
    """Drop the secondary indexes and leave the marker (inside the caller's transaction)."""
    conn.execute(delete(tracking).where(tracking.c.projection == marker(name)))
    conn.execute(insert(tracking).values(projection=marker(name), position=0))
    for index in secondary_indexes(tables):
        index.drop(conn, checkfirst=True)


def restore(conn: Connection, name: str, tables: Sequence[Table]) -> None:
    """Create whichever secondary indexes are missing and clear the marker."""
    for index in secondary_indexes(tables):
        index.create(conn, checkfirst=True)
    conn.execute(delete(tracking).where(tracking.c.projection == marker(name)))
