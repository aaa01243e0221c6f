"""The library's PostgreSQL application recorder, with its insert sent in one round trip.

Why: the library's ``insert_events`` (eventsourcing 9.5.6) runs its statements in a
pipeline but syncs five times (after BEGIN, after the INSERT, on leaving the pipeline,
after COMMIT, on leaving the transaction): five round trips to the server per saved
command, against three for a plain BEGIN/INSERT/COMMIT. Here the very same statements,
in the same order and in the same transaction, go out in one round trip: a small save
(a command's few events) as one simple-protocol query with the values bound by psycopg's
client-side cursor (the least client CPU), a batch (an import) pipelined with one sync:

    BEGIN; SET LOCAL lock_timeout; LOCK TABLE … IN EXCLUSIVE MODE; NOTIFY;
    INSERT … RETURNING notification_id; COMMIT

The table lock stays: it makes transactions commit in the order of their notification
ids, which projections rely on to never pass over an event that commits later. The lock
is now also held for a shorter time (no client round trip between INSERT and COMMIT).

The INSERT also writes the events' links of the log chain (``smarketing.store.log_chain``):
it is one statement whose data-modifying CTEs insert the events, read the chain head
and insert the links, hashed by the server (``sha256``, folded in notification id order
by the ``log_chain_fold`` aggregate created with the tables), so a save stays one round
trip and no event commits without its link. The table lock taken before it makes the
head it reads the latest. ``smarketing.store.log_chain.link`` computes the same digests in
Python (``audit verify`` recomputes every one).

The rows go as four parallel arrays in binary (``unnest(ids, versions, topics, states)``)
instead of the library's one array of a composite type, which psycopg adapts in Python
at far more client CPU per event than this way (measured on 10,000 events):
the same columns and values, inserted in the same order.

If a statement fails (a uniqueness violation: another writer took the version), the
server skips the rest of the query or pipeline, COMMIT included, and keeps the transaction open
in the failed state; it is rolled back here before the connection goes back to the pool,
and the error surfaces as the library's ``IntegrityError`` exactly as before.
"""

from collections.abc import Sequence
from typing import Any

import psycopg
from eventsourcing.persistence import InterfaceError, OperationalError, ProgrammingError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg import ClientCursor
from psycopg.pq import TransactionStatus
from psycopg.sql import SQL, Identifier

from smarketing.store.log_chain import GENESIS

# The events' INSERT, its links computed and inserted in the same statement (see above).
# Braces doubled: filled once here, then by psycopg's SQL.format.
_CHAINED = """WITH new AS (
    {insert} RETURNING notification_id, originator_id, originator_version, topic, state
), parts AS (
    SELECT 0::bigint AS position, NULL::text AS originator, NULL::bigint AS originator_version,
        coalesce(
            (SELECT decode(digest, 'hex') FROM {{schema}}.log_chain ORDER BY position DESC LIMIT 1),
            decode('{genesis}', 'hex')
        ) AS part
    UNION ALL
    SELECT notification_id, {originator}, originator_version,
        int8send(notification_id)
        || int8send(octet_length(convert_to({originator}, 'UTF8'))::bigint)
        || convert_to({originator}, 'UTF8')
        || int8send(originator_version)
        || int8send(octet_length(convert_to(topic, 'UTF8'))::bigint) || convert_to(topic, 'UTF8')
        || int8send(octet_length(state)::bigint) || state
    FROM new
), chained AS (
    INSERT INTO {{schema}}.log_chain (position, digest, originator_id, originator_version)
    SELECT position, encode(digest, 'hex'), originator, originator_version
    FROM (
        SELECT position, originator, originator_version,
            {{schema}}.log_chain_fold(part) OVER (ORDER BY position) AS digest
        FROM parts
    ) AS folded
    WHERE position > 0
)
SELECT notification_id FROM new ORDER BY notification_id"""

# smarketing.store.log_chain's table, and the aggregate that folds parts into digests:
# the first part (the head's digest) as it is, then sha256(digest || part).
_CHAIN_DDL = (
    "CREATE TABLE IF NOT EXISTS {schema}.log_chain (position bigint PRIMARY KEY, "
    "digest varchar(64) NOT NULL, originator_id varchar(36) NOT NULL, originator_version bigint NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ix_log_chain_originator "
    "ON {schema}.log_chain (originator_id, originator_version)",
    "CREATE OR REPLACE FUNCTION {schema}.log_chain_step(digest bytea, part bytea) RETURNS bytea "
    "LANGUAGE sql IMMUTABLE "
    "AS $$ SELECT CASE WHEN digest IS NULL THEN part ELSE sha256(digest || part) END $$",
    "CREATE OR REPLACE AGGREGATE {schema}.log_chain_fold(bytea) "
    "(SFUNC = {schema}.log_chain_step, STYPE = bytea)",
)

# Saves of up to this many events (a command saves one to a few) go as one simple query.
SMALL_SAVE = 16


class OneTripPostgresRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        names = {
            "schema": Identifier(datastore.schema),
            "table": Identifier(events_table_name),
            "id_type": Identifier(datastore.originator_id_type),
        }
        insert = "INSERT INTO {schema}.{table} (originator_id, originator_version, topic, state) "
        originator = (
            "replace(originator_id::text, '-', '')"
            if names["id_type"] == Identifier("uuid")
            else ("originator_id")
        )
        unnest = "SELECT * FROM unnest(%b::{id_type}[], %b::bigint[], %b::text[], %b::bytea[])"
        chained = {"originator": originator, "genesis": GENESIS.hex()}
        self.insert_rows_statement = SQL(_CHAINED.format(insert=insert + unnest, **chained)).format(**names)
        self._insert_values = SQL(_CHAINED.format(insert=insert + "VALUES {rows}", **chained))
        self.sql_create_statements.extend(SQL(statement).format(**names) for statement in _CHAIN_DDL)
        self._names = names
        # Rendered once per (rows, client encoding): psycopg would render the composed
        # query to bytes again on every execute (a share of a save's client CPU).
        self._small_saves: dict[tuple[int, str], bytes] = {}

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)  # as the library's
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int] | None:
        if not stored_events:
            # Nothing to lock or insert (an application recorder's _insert_events hook is a no-op).
            return super().insert_events(stored_events, **kwargs)
        if self.datastore.enable_db_functions:
            raise ProgrammingError(
                "POSTGRES_ENABLE_DB_FUNCTIONS would store events without their chain links"
            )
        failure: psycopg.Error | None = None
        notification_ids: Sequence[int] | None = None
        with self.datastore.get_connection() as conn:
            try:
                # The one query has no room for the _insert_events hook: only while it
                # is the application recorder's no-op (the library ignores kwargs then).
                hook_is_noop = type(self)._insert_events is PostgresApplicationRecorder._insert_events
                if len(stored_events) <= SMALL_SAVE and hook_is_noop:
                    notification_ids = self._save_as_one_query(conn, stored_events)
                else:
                    notification_ids = self._save_in_one_pipeline(conn, stored_events, **kwargs)
            except psycopg.Error as error:
                failure = error  # raised below, once the pipeline is closed
            if failure is not None:
                # Open or failed transaction: roll back. A broken connection (UNKNOWN)
                # is the pool's to discard; the library's retry takes another.
                if conn.info.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
                    conn.execute("ROLLBACK")
                # Inside get_connection(): it turns psycopg's errors into the library's.
                raise failure
        return notification_ids

    def _save_in_one_pipeline(
        self, conn: psycopg.Connection[Any], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        """Extended protocol, rows as binary arrays: for batches (an import)."""
        with conn.cursor() as curs, conn.cursor() as insert:
            # Leaving the pipeline sends the one sync and reads every result.
            with conn.pipeline():
                curs.execute("BEGIN")
                self._insert_events(curs, stored_events, **kwargs)
                self._lock_table(curs)
                self._notify_channel(curs)
                # The INSERT … RETURNING has a cursor of its own, to fetch its rows.
                self._insert_rows(insert, stored_events)
                curs.execute("COMMIT")
            return self._fetch_ids_after_insert_events(insert, stored_events, **kwargs)

    def _save_as_one_query(
        self, conn: psycopg.Connection[Any], stored_events: Sequence[StoredEvent]
    ) -> list[int]:
        """The same statements as one simple-protocol query, values bound by psycopg's
        client-side cursor: a third of the client CPU of six pipelined statements
        per one-event save, still one round trip."""
        params = [v for e in stored_events for v in (e.originator_id, e.originator_version, e.topic, e.state)]
        with ClientCursor(conn) as curs:
            curs.execute(self._small_save(conn, len(stored_events)), params)
            # The rows of the statement that inserts (a SELECT from its CTEs).
            while curs.description is None or curs.description[0].name != "notification_id":
                if not curs.nextset():
                    raise ProgrammingError("No INSERT result in the save's results")
            return self._fetch_ids_after_insert_events(curs, stored_events)

    def _fetch_ids_after_insert_events(
        self, curs: psycopg.Cursor[Any], stored_events: Sequence[StoredEvent], **_: Any
    ) -> list[int]:
        # The library's asserts its cursor ran an INSERT; ours ran the SELECT from the
        # chained insert's CTEs (``_CHAINED``), which returns the same ids in the same order.
        notification_ids = [row["notification_id"] for row in curs.fetchall()]
        if len(notification_ids) != len(stored_events):
            got, expected = len(notification_ids), len(stored_events)
            raise ProgrammingError(f"Couldn't get all notification IDs (got {got}, expected {expected})")
        return notification_ids

    def _small_save(self, conn: psycopg.Connection[Any], rows: int) -> bytes:
        key = (rows, conn.info.encoding)
        query = self._small_saves.get(key)
        if query is None:
            values = SQL(", ").join([SQL("(%s, %s, %s, %s)")] * rows)
            statements = [
                SQL("BEGIN"),
                *self.lock_table_statements,
                SQL("NOTIFY {0}").format(Identifier(self.channel_name)),
                self._insert_values.format(rows=values, **self._names),
                SQL("COMMIT"),
            ]
            query = self._small_saves[key] = SQL("; ").join(statements).as_bytes(conn)
        return query

    def _insert_rows(self, curs: psycopg.Cursor[Any], stored_events: Sequence[StoredEvent]) -> None:
        columns = (
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
        )
        curs.execute(self.insert_rows_statement, columns, prepare=True)
