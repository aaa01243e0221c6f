"""Pull-based catch-up: read notifications after the tracked position, decode
them once, and hand each projection the events it has not seen yet.

Pull, not the library's ``ProjectionRunner``: that needs PostgreSQL
subscriptions, and the same loop must work on SQLite. Notification ids may have
gaps (PostgreSQL after a conflict), so positions are compared, never counted.

An event that cannot be decoded, or that a projection cannot apply, is
quarantined (``projections.engine.quarantine``): that projection stops just before it,
keeps serving its last good state, and the others go on.
"""

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification
from sqlalchemy import Connection, Engine, Table, delete, select

from projections.engine import bulk_indexes
from projections.engine.gc_pause import gc_paused
from projections.engine.quarantine import (
    NOT_THE_EVENTS_FAULT,
    Stuck,
    quarantine,
    release,
    stick,
    stuck_projections,
)
from projections.engine.schema import tracking
from projections.engine.tracking import (
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
        dropped (``projections.engine.bulk_indexes``), if they are all empty at the start."""
        return self.tables


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    position: int
    log_position: int
    stuck: Stuck | None = None

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
        # lead ids are random: 50k events amortise it (less CPU than 20k on SQLite,
        # no worse on PostgreSQL; docs/PERFORMANCE.md, "Projections"). Memory: ~50k
        # decoded events at a time (more peak RSS than 20k); only a long catch-up
        # (a rebuild, a lagging worker) fills it.
        batch_size: int = 50_000,
        read_engine: Engine | None = None,
        # From this many events to replay into empty tables, their secondary indexes
        # are dropped and built once at the end (projections.engine.bulk_indexes); below it
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

    def stuck(self) -> dict[str, Stuck]:
        """The projections held at an event they could not take, by name."""
        with self.read_engine.connect() as conn:
            return stuck_projections(conn)

    def _active(self) -> list[Projection]:
        stuck = self.stuck()
        return [p for p in self.projections if p.name not in stuck]

    def catch_up(self, until: int | None = None) -> int:
        """Process everything recorded so far (or up to ``until``); return events applied.

        Stuck projections are passed by (``projections.engine.quarantine``)."""
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
            active = self._active()
            if not active:
                return applied
            positions = self.positions()
            start = min(positions[p.name] for p in active)
            if until is not None and start >= until:
                return applied
            # A batch's objects all live until its end: see projections.engine.gc_pause.
            with gc_paused():
                done = self._next_batch(start, until, active)
            if done is None:
                return applied
            applied += done

    def _next_batch(self, start: int, until: int | None, active: Sequence[Projection]) -> int | None:
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
        batch, undecodable = self._decode(notifications)
        stored = {n.id: n for n in notifications}
        applied = sum(self._apply(projection, batch, stored) for projection in active) if batch else 0
        if undecodable is not None:
            # Every projection short of it stops there: none can apply what cannot be read.
            for projection in active:
                self._stick_if_short_of(projection, *undecodable)
        return applied

    def _decode(
        self, notifications: Sequence[Notification]
    ) -> tuple[list[Positioned], tuple[int, Exception] | None]:
        """The batch's events up to the first that cannot be decoded, and that one's fault."""
        to_domain_event = self.mapper.to_domain_event
        try:
            return [(n.id, to_domain_event(n)) for n in notifications], None
        except NOT_THE_EVENTS_FAULT:
            raise
        except Exception:  # noqa: BLE001 - any fault of the event's bytes: find which one, below
            pass
        batch: list[Positioned] = []
        for n in notifications:
            try:
                batch.append((n.id, to_domain_event(n)))
            except NOT_THE_EVENTS_FAULT:
                raise
            except Exception as error:  # noqa: BLE001 - quarantined, not fatal
                return batch, (n.id, error)
        return batch, None  # pragma: no cover - it failed once, so it fails again

    def _stick_if_short_of(self, projection: Projection, position: int, error: Exception) -> None:
        with self.engine.begin() as conn:
            if self._lock_unless_stuck(conn, projection) is None:
                return
            if lock_position(conn, projection.name) < position:
                stick(conn, projection.name, position, error, _now())

    @staticmethod
    def _lock_unless_stuck(conn: Connection, projection: Projection) -> int | None:
        """Lock the projection's tracking row; its position, or None when it is stuck."""
        row = conn.execute(
            select(tracking.c.position, quarantine.c.position.label("stuck_at"))
            .outerjoin(quarantine, quarantine.c.projection == tracking.c.projection)
            .where(tracking.c.projection == projection.name)
            .with_for_update(of=tracking)
        ).first()
        if row is None:
            raise LookupError(f"Projection {projection.name!r} has no tracking row: run `flask db init`.")
        return None if row.stuck_at is not None else int(row.position)

    def _apply(
        self, projection: Projection, batch: list[Positioned], stored: Mapping[int, Notification]
    ) -> int:
        try:
            return self._apply_batch(projection, batch, stored)
        except NOT_THE_EVENTS_FAULT:
            raise
        except Exception:  # noqa: BLE001 - rolled back: find the event at fault, one at a time
            return self._apply_until_fault(projection, batch, stored)

    def _todo(self, conn: Connection, projection: Projection, batch: list[Positioned]) -> list[Positioned]:
        position = self._lock_unless_stuck(conn, projection)
        if position is None:
            return []
        # Usually none of the batch is done yet: then hand it over without copying.
        if batch[0][0] > position:
            return batch
        return [item for item in batch if item[0] > position]

    def _process(
        self,
        conn: Connection,
        projection: Projection,
        todo: list[Positioned],
        stored: Mapping[int, Notification],
    ) -> None:
        if projection.uses_stored:
            projection.process_stored(conn, todo, stored)
        else:
            projection.process(conn, todo)

    def _apply_until_fault(
        self, projection: Projection, batch: list[Positioned], stored: Mapping[int, Notification]
    ) -> int:
        """Apply event by event, each in a savepoint, up to the first that fails: the
        ones before it are kept, it is quarantined. Only after a batch failed, so the
        usual path pays no savepoints."""
        with self.engine.begin() as conn:
            done = 0
            for item in self._todo(conn, projection, batch):
                try:
                    with conn.begin_nested():
                        self._process(conn, projection, [item], stored)
                except NOT_THE_EVENTS_FAULT:
                    raise
                except Exception as error:  # noqa: BLE001 - quarantined, not fatal
                    stick(conn, projection.name, item[0], error, _now())
                    break
                advance_position(conn, projection.name, item[0])
                done += 1
        return done

    def _apply_batch(
        self, projection: Projection, batch: list[Positioned], stored: Mapping[int, Notification]
    ) -> int:
        with self.engine.begin() as conn:
            todo = self._todo(conn, projection, batch)
            # Usually none of the batch is done yet: then hand it over without copying.
            if not todo:
                return 0
            self._process(conn, projection, todo, stored)
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
                # From 0 it meets its stuck event again: stuck again if it still fails.
                conn.execute(delete(quarantine).where(quarantine.c.projection == projection.name))

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

    def release(self, name: str, *, skip: bool = False) -> Stuck | None:
        """Let a stuck projection go on: try its event again (after a fix), or ``skip``
        it (its figures then never include that event). What it was stuck on, if anything."""
        if name not in {p.name for p in self.projections}:
            raise ValueError(f"no such projection: {name}")
        with self.engine.begin() as conn:
            lock_position(conn, name)
            stuck = release(conn, name)
            if stuck is not None and skip:
                advance_position(conn, name, stuck.position)
        return stuck

    def status(self) -> list[ProjectionStatus]:
        log_position = self.recorder.max_notification_id() or 0
        stuck = self.stuck()
        return [
            ProjectionStatus(name, position, log_position, stuck.get(name))
            for name, position in self.positions().items()
        ]


def _now() -> datetime:
    return datetime.now(UTC)
