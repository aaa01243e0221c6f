"""The composition root: one place that wires the event store, the read-model
database and the projector together from the settings."""

from dataclasses import dataclass

from sqlalchemy import Engine, create_engine, event, text

from projections.funnel import FunnelProjection
from projections.lead_summary import LeadSummaryProjection
from projections.projector import Projection, Projector
from projections.schema import metadata
from projections.scorecard import ScorecardProjection
from projections.timeline import TimelineProjection
from smarketing.application import SmarketingApplication
from smarketing.settings import Settings


def build_projections(settings: Settings) -> list[Projection]:
    return [
        LeadSummaryProjection(settings.tz),
        FunnelProjection(settings.tz),
        ScorecardProjection(settings.tz),
        TimelineProjection(),
    ]


def _sqlite_engine(settings: Settings, *, immediate: bool) -> Engine:
    engine = create_engine(settings.sqlalchemy_url(), connect_args={"timeout": 30})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA busy_timeout = 30000")
        dbapi_connection.execute("PRAGMA journal_mode = WAL")

    @event.listens_for(engine, "begin")
    def _begin(conn):  # type: ignore[no-untyped-def]
        # Projectors take the write lock up front, so two never interleave.
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def build_engines(settings: Settings) -> tuple[Engine, Engine]:
    """(write engine for projectors, read engine for pages and reports)."""
    if settings.is_postgres:
        engine = create_engine(settings.sqlalchemy_url(), pool_pre_ping=True)
        return engine, engine
    return _sqlite_engine(settings, immediate=True), _sqlite_engine(settings, immediate=False)


@dataclass
class Services:
    settings: Settings
    app: SmarketingApplication
    write_engine: Engine
    read_engine: Engine
    projector: Projector

    def close(self) -> None:
        self.app.close()
        self.write_engine.dispose()
        self.read_engine.dispose()


def bootstrap(settings: Settings, *, create_tables: bool = False) -> Services:
    app = SmarketingApplication(env=settings.event_store_env(create_table=create_tables))
    write_engine, read_engine = build_engines(settings)
    projector = Projector(app.recorder, app.mapper, write_engine, build_projections(settings))
    return Services(settings, app, write_engine, read_engine, projector)


def init_schema(settings: Settings) -> None:
    """Create every table once, in a set-up step; workers then start without DDL."""
    services = bootstrap(settings, create_tables=True)
    try:
        metadata.create_all(services.write_engine)
        services.projector.create_tracking_rows()
    finally:
        services.close()


def schema_exists(services: Services) -> bool:
    with services.read_engine.connect() as conn:
        try:
            conn.execute(text("SELECT 1 FROM projection_tracking LIMIT 1"))
        except Exception:  # noqa: BLE001 - any failure here means "not set up"
            return False
    return True
