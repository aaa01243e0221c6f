"""The library's SQLite application recorder, with its insert and its stream reads run on
the driver directly.

Why: the library's ``insert_events`` (eventsourcing 9.5.6) wraps one BEGIN, an INSERT
per event and a COMMIT in four context managers (datastore, pool, connection,
transaction) and a cursor wrapper per statement; for a command's one-event save that
Python costs about as much as the INSERT itself. Here the same statements run on the
same pooled connection, so with the same durability (its ``journal_mode`` and
``synchronous``, WAL and FULL by default) and busy timeout, plus the events' links of
the log chain (``smarketing.store.log_chain``) in the same transaction:

    BEGIN IMMEDIATE; INSERT INTO stored_events VALUES (?,?,?,?) (one executemany for a
    batch, whose consecutive rowids are derived from the last, see ``_insert_rows``);
    SELECT the chain head; INSERT INTO log_chain (one executemany); COMMIT

A failure rolls the transaction back, events and links together, and surfaces as the
library's error class (``IntegrityError`` when another writer took the version), as
the library's ``SQLiteTransaction`` does.

A stream read (``select_events``: every load of a lead, the scoring rule's terms read)
is the library's one SELECT without the BEGIN and ROLLBACK around it: a single
statement reads one snapshot of the database on its own, so the rows are the same.
"""

import sqlite3
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing import persistence
from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor, SQLiteDatastore

from smarketing.store.log_chain import GENESIS, links

# log_chain (smarketing.store.log_chain), created with the events table.
CHAIN_TABLE = (
    "CREATE TABLE IF NOT EXISTS log_chain (position BIGINT NOT NULL PRIMARY KEY, "
    "digest VARCHAR(64) NOT NULL, originator_id VARCHAR(36) NOT NULL, originator_version BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_log_chain_originator ON log_chain (originator_id, originator_version)",
)
_HEAD = "SELECT digest FROM log_chain ORDER BY position DESC LIMIT 1"
_INSERT_LINK = "INSERT INTO log_chain (position, digest, originator_id, originator_version) VALUES (?,?,?,?)"

# sqlite3's errors as the library maps them (eventsourcing.sqlite.SQLiteTransaction),
# most specific first.
_ERRORS: tuple[tuple[type[sqlite3.Error], type[Exception]], ...] = (
    (sqlite3.InterfaceError, persistence.InterfaceError),
    (sqlite3.DataError, persistence.DataError),
    (sqlite3.OperationalError, persistence.OperationalError),
    (sqlite3.IntegrityError, persistence.IntegrityError),
    (sqlite3.InternalError, persistence.InternalError),
    (sqlite3.ProgrammingError, persistence.ProgrammingError),
    (sqlite3.NotSupportedError, persistence.NotSupportedError),
    (sqlite3.DatabaseError, persistence.DatabaseError),
    (sqlite3.Error, persistence.PersistenceError),
)


def library_error(error: sqlite3.Error) -> Exception:
    for driver_class, library_class in _ERRORS:
        if isinstance(error, driver_class):
            return library_class(error)
    raise AssertionError("unreachable: sqlite3.Error is the last entry")


class LeanSQLiteRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *CHAIN_TABLE]

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if type(self)._insert_events is not LeanSQLiteRecorder._insert_events:
            return super().insert_events(stored_events, **kwargs)  # a subclass's hook needs its path
        rows = _rows(stored_events)
        pool = self.datastore.pool
        connection = pool.get_connection(is_writer=True)
        try:
            conn: sqlite3.Connection = connection._sqlite_conn  # the driver's, in autocommit mode
            try:
                # IMMEDIATE: the write lock first (waiting out other writers), so the
                # chain head read below is the latest and stays so until COMMIT.
                conn.execute("BEGIN IMMEDIATE")
                if len(rows) == 1:
                    notification_ids = [_rowid(conn.execute(self.insert_events_statement, rows[0]))]
                else:
                    notification_ids = self._insert_rows(conn, rows)
                _chain(conn.cursor(), notification_ids, rows)
                conn.commit()
            except sqlite3.Error as error:
                try:
                    conn.rollback()
                except sqlite3.Error as rollback_error:
                    raise library_error(rollback_error) from rollback_error
                raise library_error(error) from error
        finally:
            pool.put_connection(connection)
        return notification_ids

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """The library's path (taken when a subclass hooks in here): its insert, then the links."""
        notification_ids = super()._insert_events(c, stored_events, **kwargs)
        _chain(c.sqlite_cursor, notification_ids or [], _rows(stored_events))
        return notification_ids

    def _insert_rows(self, conn: sqlite3.Connection, rows: list[tuple[str, int, str, bytes]]) -> list[int]:
        """Insert the rows in the open transaction; their rowids (notification ids) in order."""
        # A batch: one executemany (cheaper a row than execute, measured on the app's table).
        # Its rowids are consecutive: the table has no AUTOINCREMENT, so each new row gets
        # the largest rowid + 1, and this transaction holds the write lock from its first
        # INSERT, so no other row comes between. SQLite picks a random free rowid only
        # once the largest possible one is taken; then the last row is not the largest.
        if not rows:
            return []
        table = self.events_table_name
        conn.executemany(self.insert_events_statement, rows)
        last, largest = conn.execute(f"SELECT last_insert_rowid(), MAX(rowid) FROM {table}").fetchone()
        if last == largest:
            return list(range(last - len(rows) + 1, last + 1))
        by_key = f"SELECT rowid FROM {table} WHERE originator_id=? AND originator_version=?"
        return [conn.execute(by_key, row[:2]).fetchone()[0] for row in rows]

    def select_events(
        self,
        originator_id: UUID | str,
        *,
        gt: int | None = None,
        lte: int | None = None,
        desc: bool = False,
        limit: int | None = None,
    ) -> Sequence[StoredEvent]:
        # The library's statement (eventsourcing 9.5.6 SQLiteAggregateRecorder.select_events).
        statement = self.select_events_statement
        params: list[Any] = [originator_id.hex if isinstance(originator_id, UUID) else originator_id]
        if gt is not None:
            statement += "AND originator_version>? "
            params.append(gt)
        if lte is not None:
            statement += "AND originator_version<=? "
            params.append(lte)
        statement += "ORDER BY originator_version " + ("DESC " if desc else "ASC ")
        if limit is not None:
            statement += "LIMIT ? "
            params.append(limit)
        rows = _read(self.datastore, statement, params)
        convert = self.convert_originator_id
        return [
            StoredEvent(
                originator_id=convert(row["originator_id"]),
                originator_version=row["originator_version"],
                topic=row["topic"],
                state=row["state"],
            )
            for row in rows
        ]


def _rowid(cursor: sqlite3.Cursor) -> int:
    """The rowid an INSERT just gave its row (the driver types it optional: not for an INSERT)."""
    if cursor.lastrowid is None:
        raise AssertionError("an INSERT into a rowid table sets lastrowid")
    return cursor.lastrowid


def _chain(
    cursor: sqlite3.Cursor, notification_ids: Sequence[int], rows: list[tuple[str, int, str, bytes]]
) -> None:
    """Write the rows' links, chained after the current head, in the open transaction."""
    head = cursor.execute(_HEAD).fetchone()
    previous = GENESIS if head is None else bytes.fromhex(head[0])
    stored = [(i, *row) for i, row in zip(notification_ids, rows, strict=True)]
    cursor.executemany(_INSERT_LINK, links(previous, stored))


def _rows(stored_events: Sequence[StoredEvent]) -> list[tuple[str, int, str, bytes]]:
    return [
        (
            e.originator_id.hex if isinstance(e.originator_id, UUID) else e.originator_id,
            e.originator_version,
            e.topic,
            e.state,
        )
        for e in stored_events
    ]


def _read(datastore: SQLiteDatastore, statement: str, params: list[Any]) -> list[sqlite3.Row]:
    pool = datastore.pool
    connection = pool.get_connection(is_writer=False)
    try:
        try:
            return connection._sqlite_conn.execute(statement, params).fetchall()
        except sqlite3.Error as error:
            raise library_error(error) from error
    finally:
        pool.put_connection(connection)
