"""Pull-based catch-up: read notifications after the tracked position, decode
them once, and hand each projection the events it has not seen yet.

Pull, not the library's ``ProjectionRunner``: that needs PostgreSQL
subscriptions, and the same loop must work on SQLite. Notification ids may have
gaps (PostgreSQL after a conflict), so positions are compared, never counted.
"""

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification
from sqlalchemy import Connection, Engine, Table, delete, select

from projections import bulk_indexes
from projections.gc_pause import gc_paused
from projections.schema import tracking
from projections.tracking import (
    advance_position,
    ensure_position_row,
    lock_position,
    reset_position,
)

Positioned = tuple[int, Any]  # (notification id, domain event)


class Projection(ABC):
    """A read model: its tables, and how a batch of events changes them."""

    name: str
    tables: Sequence[Table]

    # True for projections of the stored bytes themselves (the log chain): the
    # projector then calls ``process_stored`` with the notifications it has already
    # read, so they are not selected a second time per batch.
    uses_stored = False

    @abstractmethod
    def process(self, conn: Connection, events: list[Positioned]) -> None:
        """Apply the events (in log order) inside the caller's transaction."""

    def process_stored(
        self, conn: Connection, events: list[Positioned], stored: Mapping[int, Notification]
    ) -> None:
        """Like ``process``, given also the batch's notifications by id (``uses_stored``)."""
        self.process(conn, events)

    def bulk_tables(self) -> Sequence[Table]:
        """The tables a long replay from 0 fills while their secondary indexes are
        dropped (``projections.bulk_indexes``), if they are all empty at the start."""
        return self.tables


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    position: int
    log_position: int

    @property
    def lag(self) -> int:
        return max(self.log_position - self.position, 0)


class Projector:
    def __init__(
        self,
        recorder: ApplicationRecorder,
        mapper: Mapper,
        engine: Engine,
        projections: Sequence[Projection],
        # Per batch the cost is fixed (one transaction and commit per projection, a
        # lookup of each touched lead's rows), and a commit writes every page the
        # batch dirtied — on SQLite most of every lead-keyed primary-key index, as
        # lead ids are random: 50k events amortise it (4-6 % less CPU than 20k at
        # 200k events on SQLite, no worse on PostgreSQL; docs/PERFORMANCE.md,
        # "Projections"). Memory: ~50k decoded events at a time (+20 MB peak RSS
        # against 20k); only a long catch-up (a rebuild, a lagging worker) fills it.
        batch_size: int = 50_000,
        read_engine: Engine | None = None,
        # From this many events to replay into empty tables, their secondary indexes
        # are dropped and built once at the end (projections.bulk_indexes); below it
        # the drop and the sorted build cost more than the upkeep they save.
        bulk_from: int = 50_000,
    ) -> None:
        self.recorder = recorder
        self.mapper = mapper
        self.engine = engine
        # Positions are read without the write lock: a reader that queues for it
        # (SQLite's BEGIN IMMEDIATE) can starve behind a busy projector. Reading
        # them unlocked is safe: _apply re-reads each position under its lock.
        self.read_engine = read_engine or engine
        self.projections = list(projections)
        self.batch_size = batch_size
        self.bulk_from = bulk_from

    def create_tracking_rows(self) -> None:
        with self.engine.begin() as conn:
            for projection in self.projections:
                ensure_position_row(conn, projection.name)

    def positions(self) -> dict[str, int]:
        rows = self._tracking_rows()
        return {p.name: rows.get(p.name, 0) for p in self.projections}

    def _tracking_rows(self) -> dict[str, int]:
        # One query for every position (and any index marker), not one per projection:
        # catch_up runs after every write in the web app.
        with self.read_engine.connect() as conn:
            return {name: int(position) for name, position in conn.execute(select(tracking))}

    def catch_up(self, until: int | None = None) -> int:
        """Process everything recorded so far (or up to ``until``); return events applied."""
        rows = self._tracking_rows()
        # Indexes an interrupted replay left dropped come back first.
        self._restore_indexes([p for p in self.projections if bulk_indexes.marker(p.name) in rows])
        bulk = self._drop_indexes_for_replay(rows, until)
        try:
            return self._catch_up(until)
        finally:
            self._restore_indexes(bulk)

    def _drop_indexes_for_replay(self, rows: Mapping[str, int], until: int | None) -> list[Projection]:
        fresh = [p for p in self.projections if rows.get(p.name, 0) == 0 and p.bulk_tables()]
        if not fresh:
            return []
        end = self.recorder.max_notification_id() or 0
        if until is not None:
            end = min(end, until)
        if end < self.bulk_from:
            return []
        dropped = []
        for projection in fresh:
            tables = projection.bulk_tables()
            if not bulk_indexes.secondary_indexes(tables):
                continue
            with self.engine.begin() as conn:
                # Under the position lock: another projector may have started meanwhile.
                if lock_position(conn, projection.name) == 0 and bulk_indexes.is_empty(conn, tables):
                    bulk_indexes.drop(conn, projection.name, tables)
                    dropped.append(projection)
        return dropped

    def _restore_indexes(self, projections: Sequence[Projection]) -> None:
        for projection in projections:
            with self.engine.begin() as conn:
                lock_position(conn, projection.name)
                bulk_indexes.restore(conn, projection.name, projection.bulk_tables())

    def _catch_up(self, until: int | None) -> int:
        applied = 0
        while True:
            start = min(self.positions().values(), default=0)
            if until is not None and start >= until:
                return applied
            # A batch's objects all live until its end: see projections.gc_pause.
            with gc_paused():
                done = self._next_batch(start, until)
            if done is None:
                return applied
            applied += done

    def _next_batch(self, start: int, until: int | None) -> int | None:
        """Read, decode and apply the batch after ``start``; None when there is none."""
        notifications = self.recorder.select_notifications(
            start=start, limit=self.batch_size, stop=until, inclusive_of_start=False
        )
        if not notifications:
            return None
        # Mappers that need per-originator lookups (the lead keys) get them in one query.
        prefetch = getattr(self.mapper, "prefetch", None)
        if prefetch is not None:
            prefetch({n.originator_id for n in notifications})
        to_domain_event = self.mapper.to_domain_event
        batch = [(n.id, to_domain_event(n)) for n in notifications]
        stored = {n.id: n for n in notifications}
        return sum(self._apply(projection, batch, stored) for projection in self.projections)

    def _apply(
        self, projection: Projection, batch: list[Positioned], stored: Mapping[int, Notification]
    ) -> int:
        with self.engine.begin() as conn:
            position = lock_position(conn, projection.name)
            # Usually none of the batch is done yet: then hand it over without copying.
            if batch[0][0] > position:
                todo = batch
            else:
                todo = [item for item in batch if item[0] > position]
            if not todo:
                return 0
            if projection.uses_stored:
                projection.process_stored(conn, todo, stored)
            else:
                projection.process(conn, todo)
            advance_position(conn, projection.name, todo[-1][0])
        return len(todo)

    def rebuild(self) -> int:
        """Empty every read model, reset positions, and replay the whole log."""
        self.reset()
        return self.catch_up()

    def reset(self) -> None:
        """Empty every read model and set its position back to 0, in one transaction."""
        with self.engine.begin() as conn:
            for projection in self.projections:
                lock_position(conn, projection.name)
                for table in projection.tables:
                    conn.execute(delete(table))
                reset_position(conn, projection.name)

    def only(self, names: Sequence[str]) -> "Projector":
        """The same projector for the named projections alone (one share of a parallel rebuild)."""
        unknown = set(names) - {p.name for p in self.projections}
        if unknown:
            raise ValueError(f"no such projections: {', '.join(sorted(unknown))}")
        return Projector(
            self.recorder,
            self.mapper,
            self.engine,
            [p for p in self.projections if p.name in names],
            batch_size=self.batch_size,
            read_engine=self.read_engine,
            bulk_from=self.bulk_from,
        )

    def status(self) -> list[ProjectionStatus]:
        log_position = self.recorder.max_notification_id() or 0
        return [ProjectionStatus(name, position, log_position) for name, position in self.positions().items()]
