"""Batch helper for read models keyed by lead: load the rows a batch touches
once, change them in memory, write them back in one statement each way."""

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from functools import cached_property
from operator import attrgetter, itemgetter
from typing import Any

from sqlalchemy import Connection, Dialect, Table, delete, insert, select

from domain.lead import Lead
from projections.engine.schema import to_db

_CHUNK = 500  # stays under every backend's bound-parameter limit


def chunks(items: list[Any], size: int = _CHUNK) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class RowsByLead:
    def __init__(self, conn: Connection, table: Table) -> None:
        self.conn = conn
        self.table = table
        self.rows: dict[str, dict[str, Any]] = {}
        self.changed: set[str] = set()
        self.asked: set[str] = set()  # leads that may have a stored row (flush deletes it)

    def load(self, lead_ids: Iterable[str]) -> None:
        """Read the stored rows of these leads (pass ``lead_batch(events).stored``); any
        other lead put here is taken as new, and flush only inserts its row."""
        wanted = sorted(set(lead_ids) - self.asked)
        self.asked.update(wanted)
        for chunk in chunks(wanted):
            for row in self.conn.execute(select(self.table).where(self.table.c.lead_id.in_(chunk))):
                self.rows[row.lead_id] = dict(row._mapping)

    def get(self, lead_id: str) -> dict[str, Any] | None:
        return self.rows.get(lead_id)

    def put(self, row: dict[str, Any]) -> None:
        self.rows[row["lead_id"]] = row
        self.changed.add(row["lead_id"])

    def flush(self) -> None:
        changed = sorted(self.changed)
        for chunk in chunks(sorted(self.changed & self.asked)):
            self.conn.execute(delete(self.table).where(self.table.c.lead_id.in_(chunk)))
        if changed:
            insert_rows(self.conn, self.table, [self.rows[k] for k in changed])
        self.asked.update(changed)  # stored now: a later flush replaces them
        self.changed.clear()


# The number inside a lead id: a slot read, where ``.hex`` is a Python property
# formatting it anew once per event of a rebuild.
_id_number: Any = attrgetter("originator_id.int")


LeadItem = tuple[int, str, Any, datetime]  # (position, lead key, event, occurred_at as stored)


class LeadBatch:
    """A batch's lead events with what every lead-keyed projection derives from them."""

    def __init__(self, events: list[tuple[int, Any]]) -> None:
        items: list[LeadItem] = []
        new: set[str] = set()
        keys: dict[int, str] = {}  # a lead's id as a number -> its key (~10 events a lead)
        for position, e in events:
            if isinstance(e, Lead.Event):
                number = _id_number(e)
                key = keys.get(number)
                if key is None:
                    key = keys[number] = e.originator_id.hex
                occurred = e.occurred_at
                # Decoded event times are UTC: to_db's first case, without its call.
                at = occurred.replace(tzinfo=None) if occurred.tzinfo is UTC else to_db(occurred)
                items.append((position, key, e, at))
                if e.originator_version == 1:
                    new.add(key)
        self.items = items
        self.keys = set(keys.values())
        # A lead's rows all come from its events, logged in version order: one first
        # seen in this batch (version 1) has none stored yet, so its look-up is skipped
        # (in a replay almost every lead; the look-ups were a fifth of the time).
        self.stored = self.keys - new

    @cached_property
    def without_interactions(self) -> list[LeadItem]:
        """The items but interactions, in the same order, for the projections that
        ignore them: interactions are most of a log (59 % of the bench's events)
        and each cost those projections a row look-up and a few type checks."""
        return [item for item in self.items if type(item[2]) is not Lead.InteractionRecorded]


_last: tuple[list[tuple[int, Any]], LeadBatch] | None = None


def lead_batch(events: list[tuple[int, Any]]) -> LeadBatch:
    """``LeadBatch(events)``, computed once for the list the projector hands to
    every projection in turn (the per-event key, type check and time conversion
    were repeated by each of them). Keyed by identity: the lists are never
    changed once built, and the reference held here keeps the id from reuse."""
    global _last
    last = _last
    if last is not None and last[0] is events:
        return last[1]
    batch = LeadBatch(events)
    _last = (events, batch)
    return batch


# Per table and dialect: (SQL, column names, row -> values in bind order, (index, bind processor)).
_Plan = tuple[str, list[str], Callable[[dict[str, Any]], Any], list[tuple[int, "Processor"]]]
_plans: dict[tuple[Table, type[Dialect]], _Plan] = {}


def _plan(conn: Connection, table: Table) -> _Plan:
    """SQLite: the table's INSERT compiled once, with its columns' bind processors."""
    plan = _plans.get((table, type(conn.dialect)))
    if plan is None:
        compiled = insert(table).compile(dialect=conn.dialect, column_keys=[c.key for c in table.columns])
        names = list(compiled.positiontup or ())
        processors = [_faster(table.c[n].type._cached_bind_processor(conn.dialect)) for n in names]
        # A C getter takes the values out of each row; only the few typed columns
        # (datetimes on SQLite) go through a Python call.
        get = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
        processed = [(i, p) for i, p in enumerate(processors) if p is not None]
        plan = _plans[(table, type(conn.dialect))] = (str(compiled), names, get, processed)
    return plan


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """``conn.execute(insert(table), rows)``, cheaper on SQLite for full rows.

    Why: SQLAlchemy builds and type-processes each row's parameters in Python,
    a large share of a catch-up writing 1M+ rows. On SQLite the
    statement is compiled once per table and the same bind processors (e.g.
    DateTime to its string form) are applied here, so stored values are
    identical. Rows missing a column take the general path, so Python-side
    column defaults still apply. On PostgreSQL (psycopg) full rows go through
    ``COPY``: see ``_copy_rows``.
    """
    if not rows:
        return
    if conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg":
        _copy_rows(conn, table, rows)
        return
    if conn.dialect.name != "sqlite":
        conn.execute(insert(table), rows)
        return
    sql, names, get, processed = _plan(conn, table)
    if rows[0].keys() != set(names):
        conn.execute(insert(table), rows)
        return
    _execute(conn, sql, [get(r) for r in rows], processed)


def insert_tuples(conn: Connection, table: Table, rows: list[tuple[Any, ...]]) -> None:
    """``insert_rows`` for rows given as tuples of every column's value, in the
    table's column order.

    Why: the timeline and the log chain write a row per event (~400k per 200k
    events); a dict per row, built only to be taken apart again by column name,
    was a fifth of their time. Same statements, processors and stored values.
    """
    if not rows:
        return
    keys = [c.key for c in table.columns]
    if conn.dialect.name == "sqlite":
        sql, names, _, processed = _plan(conn, table)
        if names == keys:
            _execute(conn, sql, rows, processed)
            return
    elif conn.dialect.name == "postgresql" and conn.dialect.driver == "psycopg" and _copyable(conn, table):
        _copy(conn, table, rows)
        return
    insert_rows(conn, table, [dict(zip(keys, row, strict=True)) for row in rows])


def _execute(conn: Connection, sql: str, values: list[Any], processed: list[tuple[int, "Processor"]]) -> None:
    """Run the compiled INSERT for rows of values in bind order, typed columns processed."""
    if not processed:
        conn.exec_driver_sql(sql, values)
        return
    params = []
    for row in values:
        row = list(row)
        for i, p in processed:
            row[i] = p(row[i])
        params.append(tuple(row))
    conn.exec_driver_sql(sql, params)


def _copyable(conn: Connection, table: Table) -> bool:
    """No column needs SQLAlchemy's help: psycopg adapts the very values it would pass."""
    return all(
        column.key == column.name and column.type._cached_bind_processor(conn.dialect) is None
        for column in table.columns
    )


def _copy_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: ``COPY table FROM STDIN`` on the connection's own transaction.

    Why: SQLAlchemy's multi-VALUES inserts render and process every row in
    Python, and were most of a PostgreSQL rebuild's time (the log chain's rows
    above all). None of the read-model column types has a bind processor on
    PostgreSQL, so psycopg adapts the very values SQLAlchemy would pass it.
    """
    names = [column.name for column in table.columns]
    if not _copyable(conn, table) or rows[0].keys() != set(names):  # defaults or conversions
        conn.execute(insert(table), rows)
        return
    get = itemgetter(*names) if len(names) > 1 else (lambda row: (row[names[0]],))
    _copy(conn, table, map(get, rows))


def _copy(conn: Connection, table: Table, rows: Iterable[tuple[Any, ...]]) -> None:
    """COPY rows of every column's value, in the table's column order."""
    quote = conn.dialect.identifier_preparer
    columns = ", ".join(quote.quote(column.name) for column in table.columns)
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    with cursor.copy(f"COPY {quote.format_table(table)} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


_PROBES = (datetime(2026, 1, 2, 3, 4, 5, 6), datetime(987, 11, 12, 13, 14, 15))
Processor = Callable[[Any], Any]


def _faster(processor: Processor | None) -> Processor | None:
    """SQLite's DateTime processor formats each value through a %-template (a
    third of the insert time of the timeline); ``isoformat`` gives the same text
    for naive datetimes. Used only if it gives the same text on the probes here,
    and only for naive datetimes (anything else goes to SQLAlchemy's)."""
    if processor is None:
        return None
    try:
        same = all(processor(p) == p.isoformat(" ", "microseconds") for p in _PROBES)
    except (TypeError, ValueError, AttributeError):  # not a datetime column
        return processor
    if not same:
        return processor

    def process(value: Any) -> Any:
        if type(value) is datetime and value.tzinfo is None:
            return value.isoformat(" ", "microseconds")
        return processor(value)

    return process
