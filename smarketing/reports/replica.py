"""The report replica: a private SQLite file holding only the read models the
monthly report reads, kept up to date from the log by the ordinary projector.

Why: the report's figures must come from the log with the current code, never
from the live read models (they may lag, or have been built by older code). A
throw-away replay gives that but re-reads the whole log per report (minutes at
a million events). The replica gives the same figures incrementally: a report
at log position P catches it up to P (only the new events) and reads every
figure in one read transaction that sees all of its projections exactly at P.

It is a cache, never a source of truth, and throws itself away:
- when the code that builds it changes (``code_version``: a hash of the
  sources its projections and the event decoder run, and the time zone);
- when the log it was built from is not the log it is pointed at any more (a
  restored or re-created store): the last event it applied must still be stored,
  byte for byte, at the same position (``ReplicaAnchorProjection``).
A report asked for a position the replica has already passed cannot be read
from it; ``smarketing.reports.replay`` then replays into memory instead.

Several processes may share the file (web workers, ``flask projections run``):
the projector locks each tracking row per batch (``BEGIN IMMEDIATE``), so no
event is applied twice, and a killed catch-up resumes from the committed
positions. On SQLite in WAL mode a read transaction is a snapshot, so figures
are never read half-way through another process's batch.
"""

import hashlib
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)

from projections.engine.projector import Positioned, Projection, Projector
from projections.engine.quarantine import quarantine
from projections.engine.schema import tracking
from projections.engine.tracking import read_position
from projections.models.agreement_docs import AgreementDocsProjection
from projections.models.funnel import FunnelProjection
from projections.models.lead_summary import LeadSummaryProjection, lead_summary, search_text
from projections.models.money_terms import MoneyTermsProjection
from projections.models.scorecard import ScorecardProjection, sla_facts
from projections.models.scorecard_follow_up import ScorecardFollowUpProjection
from projections.models.targets import TargetsProjection
from smarketing.reports.code_version import code_version
from smarketing.reports.errors import refuse_if_stuck
from smarketing.reports.month_digest import MonthDigestProjection, replica_metadata
from smarketing.settings import Settings
from smarketing.store.log_chain import link as chain_link
from smarketing.store.private_files import private_sqlite
from smarketing.store.sqlite_engine import sqlite_engine

T = TypeVar("T")
# Catch-up and read again when another process moved some projections between
# our catch-up and our read; after this many tries the caller replays instead.
ATTEMPTS = 10
# Events per step of a catch-up with a time budget (a few seconds each, well within the budget).
STEP = 20_000

replica_meta = Table(
    "report_replica_meta",
    replica_metadata,
    Column("id", Integer, primary_key=True),
    Column("code_version", String(64), nullable=False),
)

replica_anchor = Table(
    "report_replica_anchor",
    replica_metadata,
    Column("id", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("fingerprint", String(64), nullable=False),
)


class ReplicaBehind(RuntimeError):
    """The replica could not reach the position within the time allowed (a cold
    build: minutes at a million events). Progress is kept; ask again later."""

    def __init__(self, done: int, target: int) -> None:
        super().__init__(f"report replica at {done} of {target}")
        self.done, self.target = done, target


def fingerprint(n: Notification) -> str:
    """The stored event's identity and bytes (the log chain's link from an empty digest)."""
    return chain_link(b"", n).hex()


class ReplicaAnchorProjection(Projection):
    """The last event applied, as stored: lets the replica notice another log."""

    name = "report_replica_anchor"
    tables = (replica_anchor,)
    uses_stored = True

    def process(self, conn: Connection, events: list[Positioned]) -> None:
        raise NotImplementedError("the anchor needs the stored events (process_stored)")

    def process_stored(
        self, conn: Connection, events: list[Positioned], stored: Mapping[int, Notification]
    ) -> None:
        last = stored[events[-1][0]]
        conn.execute(delete(replica_anchor))
        conn.execute(insert(replica_anchor).values(id=1, position=last.id, fingerprint=fingerprint(last)))


def report_projections(settings: Settings) -> list[Projection]:
    """The read models the report reads (``smarketing.reports.sections``,
    ``projections.queries.funnel_query``, ``projections.queries.scorecard_query`` and
    ``scorecard_view``), the month digest, and the replica's anchor."""
    tz = settings.tz
    return [
        LeadSummaryProjection(tz),  # names and companies beside won, lost and rejected
        FunnelProjection(tz),
        ScorecardProjection(tz),
        ScorecardFollowUpProjection(tz),
        TargetsProjection(),
        AgreementDocsProjection(),  # merged sources and the follow-up calendar, as of the position
        MoneyTermsProjection(),  # the base currency and rates the money figures use
        MonthDigestProjection(tz),
        ReplicaAnchorProjection(),
    ]


# The code that fills the replica, hashed once as this process loads it: a change
# rebuilds the replica (smarketing.reports.code_version). The decoder is the
# personal-data mapper; the projections are those of ``report_projections``.
CODE_VERSION = code_version(
    {type(p).__module__ for p in report_projections(Settings(database_url="sqlite://"))}
    | {"smarketing.store.key_batch", "smarketing.store.personal_data", __name__}
)


def _tables(projections: list[Projection]) -> list[Table]:
    return [tracking, quarantine, replica_meta, *(table for p in projections for table in p.tables)]


# How long a replica connection waits for another process's lock.
BUSY_SECONDS = 60


def _engine(path: Path, *, immediate: bool) -> Engine:
    """The replica's engine: WAL so readers see snapshots and never wait (switched with
    patience: a web request may open the file while the projector process builds it);
    writers take the lock up front (the projector's per-batch exclusion). A derived
    cache: a commit may be lost on power failure (never on a process crash in WAL mode),
    and then its positions with it, so it is redone; hence no fsync per commit."""
    return sqlite_engine(
        f"sqlite:///{path}",
        busy_seconds=BUSY_SECONDS,
        journal_mode="WAL",
        wait_for_wal_switch=True,
        begin="BEGIN IMMEDIATE" if immediate else "BEGIN",
        synchronous_normal=True,
        cache_size_kib=65536,
    )


class ReportReplica:
    """Open with ``open_replica``; ``read_at`` is the one way figures come out."""

    def __init__(self, settings: Settings, recorder: ApplicationRecorder, mapper: Mapper) -> None:
        self.path = settings.report_replica_path()
        # It holds names and e-mail addresses, like the read models: this user's only.
        private_sqlite(self.path)
        self.recorder = recorder
        self.projections = report_projections(settings)
        # Months are bucketed in the team's zone: another zone is another replica.
        self.version = hashlib.sha256(f"{CODE_VERSION}\n{settings.timezone}".encode()).hexdigest()
        self.write_engine = _engine(self.path, immediate=True)
        self.read_engine = _engine(self.path, immediate=False)
        self.projector = Projector(
            recorder, mapper, self.write_engine, self.projections, read_engine=self.read_engine
        )

    def close(self) -> None:
        self.write_engine.dispose()
        self.read_engine.dispose()

    def prepare(self) -> None:
        """Create the tables, or empty them when built by other code or from another log."""
        if self._usable():
            return
        tables = _tables(self.projections)
        with self.write_engine.begin() as conn:  # BEGIN IMMEDIATE: one process rebuilds
            if self._usable(conn):
                return
            replica_metadata.drop_all(conn, tables=tables)
            replica_metadata.create_all(conn, tables=tables)
            conn.execute(insert(replica_meta).values(id=1, code_version=self.version))
            for projection in self.projections:
                conn.execute(insert(tracking).values(projection=projection.name, position=0))

    def _usable(self, conn: Connection | None = None) -> bool:
        if conn is None:
            with self.read_engine.connect() as reader:
                return self._usable(reader)
        names = set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'table'").scalars())
        if not {t.name for t in _tables(self.projections)} <= names:
            return False
        if conn.execute(select(replica_meta.c.code_version)).scalar() != self.version:
            return False
        anchor = conn.execute(select(replica_anchor)).first()
        if anchor is None:
            return True
        found = self.recorder.select_notifications(start=anchor.position, limit=1, inclusive_of_start=True)
        return bool(found) and found[0].id == anchor.position and fingerprint(found[0]) == anchor.fingerprint

    def catch_up(self, until: int | None = None, budget: float | None = None) -> bool:
        """Apply the log up to ``until`` (default: all of it). With a ``budget`` in
        seconds, stop between steps once it is spent (a web request must answer
        in time; the next call resumes). True when nothing is left to apply."""
        if budget is None:
            self.projector.catch_up(until=until)
            refuse_if_stuck(self.projector)
            return True
        deadline = time.monotonic() + budget
        target = until if until is not None else self.latest()
        while True:
            done = self.position()
            if done >= target or not self._events_between(done, target):
                return True
            if time.monotonic() >= deadline:
                return False
            self.projector.catch_up(until=min(target, done + STEP))
            refuse_if_stuck(self.projector)

    def position(self) -> int:
        """How far every projection of the replica has got (the slowest one)."""
        return min(self.projector.positions().values(), default=0)

    def latest(self) -> int:
        return self.recorder.max_notification_id() or 0

    def read_at(
        self, position: int | None, read: Callable[[Connection, int], T], budget: float | None = None
    ) -> T | None:
        """``read(conn, P)`` in one read transaction in which every projection of
        the replica stands at log position P: ``position``, or the latest when
        None. None when the replica has already passed ``position``. Raises
        ``ReplicaBehind`` when ``budget`` seconds did not suffice to catch up."""
        for _ in range(ATTEMPTS):
            if not self.catch_up(until=position, budget=budget):
                raise ReplicaBehind(self.position(), position if position is not None else self.latest())
            with self.read_engine.connect() as conn, conn.begin():
                # The snapshot starts with this first read: all figures below see it.
                at = {read_position(conn, p.name) for p in self.projections}
                if len(at) != 1:
                    continue  # another process is between two projections of a batch
                reached = at.pop()
                if position is None:
                    return read(conn, reached)
                if reached > position:
                    return None
                if reached == position or not self._events_between(reached, position):
                    return read(conn, position)  # (PostgreSQL ids have gaps: nothing in between)
        return None

    def forget(self, lead_id: str) -> None:
        """Blank a person the moment they are erased (``flask audit erase``), not at
        the next catch-up. Figures do not change, and neither does what a replay
        shows: with the key deleted, a replay decodes the name as "" too."""
        lead = UUID(lead_id).hex
        with self.write_engine.begin() as conn:
            row = conn.execute(select(lead_summary.c.company).where(lead_summary.c.lead_id == lead)).first()
            if row is not None:
                blank = {"name": "", "email": "", "search_text": search_text("", "", row.company)}
                conn.execute(update(lead_summary).where(lead_summary.c.lead_id == lead).values(blank))
            # and the reasons, which may name the person (ScorecardProjection blanks them alike)
            conn.execute(update(sla_facts).where(sla_facts.c.lead_id == lead).values(reason=None))

    def _events_between(self, after: int, until: int) -> bool:
        found = self.recorder.select_notifications(start=after, limit=1, stop=until, inclusive_of_start=False)
        return bool(found)


def open_replica(settings: Settings, recorder: ApplicationRecorder, mapper: Mapper) -> ReportReplica:
    """The host's replica for this store, ready to catch up (the caller closes it)."""
    replica = ReportReplica(settings, recorder, mapper)
    try:
        replica.prepare()
    except BaseException:
        replica.close()
        raise
    return replica
