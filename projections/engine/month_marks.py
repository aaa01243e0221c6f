"""Per read model and month, the log position of the latest event that changed
the month's rows: the version a cache of that month's figures is keyed by
(``projections.cached.scorecard_cache``).

Why a position and not a counter: the projector hands a projection only
events after its tracked position, in log order, so the mark of a month only
grows; and since every event changing a month's rows marks it with the event's
position, the month's rows are a function of the events up to its mark. The
same mark therefore means the same rows, also after a rebuild (which gives the
same marks, whatever its batches). Each projection keeps its own table, listed
in its ``tables``: emptied and recreated with the rows it versions. A month
without a mark has not been marked since the table was made (or the store
predates it): readers must not cache it.
"""

from sqlalchemy import BigInteger, Column, Connection, String, Table, delete, insert

from projections.engine.schema import metadata


def marks_table(name: str) -> Table:
    return Table(
        name,
        metadata,
        Column("month", String(7), primary_key=True),
        Column("position", BigInteger, nullable=False),
    )


def mark(conn: Connection, table: Table, positions: dict[str, int]) -> None:
    """Record, in the projection's transaction, each month's position: that of the
    latest event of the batch that changed the month's rows. The event's, not the
    batch's last position, so the marks do not depend on how the log was batched
    (a rebuild gives the same rows)."""
    if not positions:
        return
    # Delete + insert: portable (no dialect upsert) and a batch touches few months.
    conn.execute(delete(table).where(table.c.month.in_(sorted(positions))))
    conn.execute(insert(table), [{"month": m, "position": p} for m, p in sorted(positions.items())])
