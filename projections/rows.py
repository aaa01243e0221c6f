"""Batch helper for read models keyed by lead: load the rows a batch touches
once, change them in memory, write them back in one statement each way."""

from collections.abc import Callable, Iterable
from datetime import datetime
from operator import attrgetter
from typing import Any

from sqlalchemy import Connection, Dialect, Table, delete, insert, select

from domain.lead import Lead

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
        """Read the stored rows of these leads (pass ``stored_keys(events)``); any
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


# Called for every event by most projections: a C getter, not a Python frame.
lead_key: Any = attrgetter("originator_id.hex")


def stored_keys(events: Iterable[tuple[int, Any]]) -> set[str]:
    """The leads of these events that may have rows stored already.

    A lead's events are logged in version order and every per-lead row comes from
    one of them, so a lead whose first event (version 1) is in the batch has no
    stored rows yet: its look-up can be skipped. In a replay that is almost every
    lead (a lead's history is mostly within one batch), and the look-ups were a
    fifth of the time of the projections keyed by lead.
    """
    seen: set[str] = set()
    new: set[str] = set()
    for _, e in events:
        if isinstance(e, Lead.Event):
            key = lead_key(e)
            seen.add(key)
            if e.originator_version == 1:
                new.add(key)
    return seen - new


_plans: dict[tuple[Table, type[Dialect]], tuple[str, set[str], list[tuple[str, Any]]]] = {}


def insert_rows(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """``conn.execute(insert(table), rows)``, cheaper on SQLite for full rows.

    Why: SQLAlchemy builds and type-processes each row's parameters in Python
    (~5 µs a row), a large share of a catch-up writing 1M+ rows. On SQLite the
    statement is compiled once per table and the same bind processors (e.g.
    DateTime to its string form) are applied here, so stored values are
    identical. Rows missing a column take the general path, so Python-side
    column defaults still apply; PostgreSQL keeps SQLAlchemy's batched
    multi-VALUES inserts, which are already fast there.
    """
    if not rows:
        return
    if conn.dialect.name != "sqlite":
        conn.execute(insert(table), rows)
        return
    plan = _plans.get((table, type(conn.dialect)))
    if plan is None:
        compiled = insert(table).compile(dialect=conn.dialect, column_keys=[c.key for c in table.columns])
        names = list(compiled.positiontup or ())
        binds = [(n, _faster(table.c[n].type._cached_bind_processor(conn.dialect))) for n in names]
        plan = _plans[(table, type(conn.dialect))] = (str(compiled), set(names), binds)
    sql, names, binds = plan
    if rows[0].keys() != names:
        conn.execute(insert(table), rows)
        return
    conn.exec_driver_sql(sql, [tuple([r[n] if p is None else p(r[n]) for n, p in binds]) for r in rows])


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
