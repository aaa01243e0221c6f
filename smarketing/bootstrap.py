"""The composition root: one place that wires the event store, the read-model
database and the projector together from the settings."""

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from eventsourcing.utils import get_topic
from sqlalchemy import Engine, create_engine, inspect, text

from projections.engine import lead_search
from projections.engine.projector import Projection, Projector
from projections.engine.schema import metadata
from projections.engine.tracking import ensure_position_row, lock_position, reset_position
from projections.models.agreement_docs import AgreementDocsProjection
from projections.models.data_quality import DataQualityProjection
from projections.models.follow_up import FollowUpProjection
from projections.models.funnel import FunnelProjection
from projections.models.lead_summary import LeadSummaryProjection
from projections.models.meetings import MeetingsProjection
from projections.models.money_terms import MoneyTermsProjection
from projections.models.score_state import ScoreStateProjection
from projections.models.scorecard import ScorecardProjection
from projections.models.scorecard_follow_up import ScorecardFollowUpProjection
from projections.models.scoring import ScoringProjection
from projections.models.targets import TargetsProjection
from projections.models.tasks import TasksProjection
from projections.models.timeline import TimelineProjection
from smarketing.notifications import outbox as notification_outbox
from smarketing.notifications import preferences as notification_preferences
from smarketing.notifications.projection import OutboxProjection
from smarketing.service import away, daily_loop, integrations, users
from smarketing.service.application import SmarketingApplication
from smarketing.settings import Settings
from smarketing.store.chain_migration import chain_existing_events
from smarketing.store.key_store import (
    create_key_store,
    index_secret,
    key_store_engine,
    move_keys_out_of,
    scrub_sqlite,
)
from smarketing.store.personal_data import LeadKeys, PersonalDataMapper
from smarketing.store.pg_recorder import OneTripPostgresRecorder
from smarketing.store.private_files import private_sqlite
from smarketing.store.sqlite_engine import sqlite_engine
from smarketing.store.sqlite_recorder import LeanSQLiteRecorder


def build_projections(settings: Settings) -> list[Projection]:
    """The read models (the log chain is not one: the recorders write it with the events)."""
    return [
        LeadSummaryProjection(settings.tz),
        FunnelProjection(settings.tz),
        ScorecardProjection(settings.tz),
        ScorecardFollowUpProjection(settings.tz),
        TimelineProjection(),
        TargetsProjection(),
        MoneyTermsProjection(),
        AgreementDocsProjection(),
        MeetingsProjection(),
        ScoringProjection(),
        ScoreStateProjection(),
        FollowUpProjection(),
        DataQualityProjection(),
        OutboxProjection(),  # notifications (smarketing/notifications)
        TasksProjection(),
    ]


MMAP_BYTES = 4 << 30  # address space, not memory: the OS pages in what is read


def _sqlite_engine(
    path: Path,
    settings: Settings,
    *,
    immediate: bool,
    derived_only: bool = False,
    attach: dict[str, str] | None = None,
) -> Engine:
    """An SQLite engine on the event store's file or the read models' file. Writers
    take the write lock up front (``immediate``), so two never interleave.
    ``derived_only`` (the projector, which writes only read models derived from the
    log): no fsync per commit, and a 64 MiB page cache, as a batch touches index pages
    all over the big read-model tables. Every connection reads through a memory map:
    random look-ups into those tables (a page's rows joined by lead id) stop re-reading
    the same pages."""
    return sqlite_engine(
        f"sqlite:///{path}",
        busy_seconds=settings.lock_wait,
        journal_mode="WAL",
        begin="BEGIN IMMEDIATE" if immediate else "BEGIN",
        wait_for_wal_switch=True,
        synchronous_normal=derived_only,
        cache_size_kib=65536 if derived_only else None,
        mmap_bytes=MMAP_BYTES,
        attach=attach,
    )


def build_engines(settings: Settings) -> tuple[Engine, Engine]:
    """(write engine for users, sessions, integrations and seals; read engine for pages
    and reports). On SQLite the writer holds the event store's file only, and the
    reader opens the read models' file with the event store's attached, so a page's
    query reads read models and users together."""
    if settings.is_postgres:
        connect_args = {}
        if settings.lock_timeout is not None:
            # Set: a lock held too long (a migration, a stuck session) is a 503, not a hang.
            connect_args["options"] = f"-c lock_timeout={round(settings.lock_timeout * 1000)}"
        engine = create_engine(settings.sqlalchemy_url(), pool_pre_ping=True, connect_args=connect_args)
        return engine, engine
    store = Path(settings.sqlite_path())
    read_models = settings.read_models_path()
    private_sqlite(read_models)
    write_engine = _sqlite_engine(store, settings, immediate=True)
    read_engine = _sqlite_engine(read_models, settings, immediate=False, attach={"log": str(store)})
    return write_engine, read_engine


def build_projector_engine(settings: Settings, write_engine: Engine) -> Engine:
    """The projector's engine: the read models and their tracking. On SQLite their own
    file, which it may write without fsync per commit (see ``derived_only``)."""
    if settings.is_postgres:
        return write_engine
    return _sqlite_engine(settings.read_models_path(), settings, immediate=True, derived_only=True)


@dataclass
class Services:
    settings: Settings
    app: SmarketingApplication
    write_engine: Engine
    read_engine: Engine
    projector: Projector
    key_engine: Engine  # the key store, apart from the event database (smarketing.store.key_store)

    def close(self) -> None:
        self.app.close()
        self.key_engine.dispose()
        self.write_engine.dispose()
        self.read_engine.dispose()
        self.projector.engine.dispose()


def event_store_env(settings: Settings, *, create_tables: bool = False) -> dict[str, str]:
    """The settings' event store, with the library's recorder subclassed to save with less
    overhead: one round trip on PostgreSQL, no wrappers around the driver on SQLite."""
    env = settings.event_store_env(create_table=create_tables)
    recorder = OneTripPostgresRecorder if settings.is_postgres else LeanSQLiteRecorder
    env["APPLICATION_RECORDER_TOPIC"] = get_topic(recorder)
    return env


def bootstrap(settings: Settings, *, create_tables: bool = False) -> Services:
    if not settings.is_postgres:
        private_sqlite(Path(settings.sqlite_path()))  # before SQLite creates it world-readable
    app = SmarketingApplication(env=event_store_env(settings, create_tables=create_tables))
    write_engine, read_engine = build_engines(settings)
    assert isinstance(app.mapper, PersonalDataMapper)
    if create_tables:
        create_key_store(settings.key_store_url())
    key_engine = key_store_engine(settings.key_store_url(), settings.lock_wait)
    app.mapper.use_keys(LeadKeys(key_engine, key_engine))
    app.use_index_secret(lambda: index_secret(key_engine))
    projector_engine = build_projector_engine(settings, write_engine)
    projections = build_projections(settings)
    for projection in projections:
        if isinstance(projection, OutboxProjection):
            projection.use_users(read_engine)  # who is in marketing, for rejected MQLs
    projector = Projector(app.recorder, app.mapper, projector_engine, projections, read_engine=read_engine)
    services = Services(settings, app, write_engine, read_engine, projector, key_engine)
    # The daily loop after every lead command, whoever ran it (issue #22).
    app.use_after_lead_change(partial(daily_loop.after_lead_action, services))
    return services


def init_schema(settings: Settings) -> None:
    """Create every table once, in a set-up step; workers then start without DDL.

    The read models go where the projector writes (SQLite: their own file); users,
    sessions and integrations stay with the event store."""
    services = bootstrap(settings, create_tables=True)
    read_models = services.projector.engine
    try:
        changed = _changed_projections(services)
        metadata.create_all(read_models)
        _replay(services, changed)
        # create_all skips tables that exist: add indexes introduced since (idempotent).
        for table in metadata.sorted_tables:
            for index in table.indexes:
                index.create(read_models, checkfirst=True)
        _create_search_index(read_models)
        services.projector.create_tracking_rows()
        integrations.metadata.create_all(services.write_engine)
        integrations.upgrade_schema(services.write_engine)  # token scopes and expiry, added since
        move_keys_out_of(services.write_engine, services.key_engine)  # from before the key store
        # Kept apart: rebuilds never touch users, their sessions or login attempts.
        users.metadata.create_all(services.write_engine)
        notification_preferences.create(services.write_engine)  # beside users; users.language
        notification_outbox.create(read_models)  # kept by rebuilds: its own MetaData
        away.upgrade_schema(services.write_engine)  # the out-of-office column, added since
        chain_existing_events(services.write_engine, services.app.recorder)
        if read_models is not services.write_engine:
            drop_read_models_beside_the_log(services.write_engine)
    finally:
        services.close()


def drop_read_models_beside_the_log(write_engine: Engine) -> None:
    """SQLite stores made before the read models had their own file kept them in the
    event store's: they are derived (rebuilt in their own file from the log), and they
    hold names and e-mails an erasure must not leave behind, so they go
    (``secure_delete`` blanks their pages)."""
    derived = [table.name for table in metadata.sorted_tables] + [lead_search.lead_search.name]
    with write_engine.begin() as conn:
        present = set(inspect(conn).get_table_names())
        for name in derived:
            if name in present:
                conn.execute(text(f'DROP TABLE "{name}"'))
    scrub_sqlite(write_engine)


def _changed_projections(services: Services) -> list[Projection]:
    """Projections whose stored tables are not the ones they now have: a table lacks a
    column, or some of their tables exist and another does not (a table added since).

    ``create_all`` never alters a table and fills a new one with nothing, so such a
    read model would fail, or stay incomplete, on an older store. A store with none
    of a projection's tables needs nothing: the next catch-up builds it from the log.
    """
    inspector = inspect(services.projector.engine)
    changed = []
    for projection in services.projector.projections:
        stored = [table for table in projection.tables if inspector.has_table(table.name)]
        if not stored:
            continue
        lacking_column = any(
            set(table.c.keys()) - {column["name"] for column in inspector.get_columns(table.name)}
            for table in stored
        )
        if lacking_column or len(stored) < len(projection.tables):
            changed.append(projection)
    return changed


def _replay(services: Services, projections: list[Projection]) -> None:
    """Empty and rewind each projection: read models are derived from the log, so
    recreating the tables and resetting the position makes the next catch-up
    rebuild just these."""
    for projection in projections:
        with services.projector.engine.begin() as conn:
            ensure_position_row(conn, projection.name)
            lock_position(conn, projection.name)
            for table in projection.tables:
                table.drop(conn, checkfirst=True)
                table.create(conn)
            reset_position(conn, projection.name)


def _create_search_index(engine: Engine) -> None:
    """A trigram index so live search over every lead uses an index instead of
    scanning: on SQLite an FTS5 trigram table kept by the lead_summary projection
    (``projections.engine.lead_search``), on PostgreSQL a GIN index serving LIKE '%q%'."""
    if engine.dialect.name == "sqlite":
        lead_search.create(engine)
        return
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        conn.execute(
            text(
                "CREATE INDEX IF NOT EXISTS ix_lead_summary_search_trgm "
                "ON lead_summary USING gin (search_text gin_trgm_ops)"
            )
        )


def schema_exists(services: Services) -> bool:
    with services.read_engine.connect() as conn:
        try:
            conn.execute(text("SELECT 1 FROM projection_tracking LIMIT 1"))
        except Exception:  # noqa: BLE001 - any failure here means "not set up"
            return False
    return True
