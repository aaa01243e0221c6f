"""SQLite: the read models live in their own file beside the event store, so a lock on
them never blocks saving an event (tests/integration/test_write_under_locks.py), and
a store made before that moves them there on ``flask db init``."""

import sqlite3
from pathlib import Path
from uuid import UUID

import pytest
from sqlalchemy import select

from projections.engine.schema import metadata
from smarketing.bootstrap import bootstrap, init_schema
from smarketing.settings import Settings

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
NAME = "Zelda Quimbyworth"


def _tables(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def test_events_and_read_models_are_apart(settings: Settings) -> None:
    init_schema(settings)
    events, read_models = _tables(Path(settings.sqlite_path())), _tables(settings.read_models_path())
    assert {"stored_events", "log_chain", "users", "integration_tokens", "api_idempotency"} <= events
    assert {"projection_tracking", "lead_summary", "lead_timeline", "lead_search"} <= read_models
    assert not events & set(metadata.tables), "no read model beside the log"
    assert not read_models & {"stored_events", "log_chain", "users"}


def test_a_store_with_its_read_models_inside_moves_them_out(settings: Settings) -> None:
    init_schema(settings)
    services = bootstrap(settings)
    try:
        lead = services.app.capture_lead(name=NAME, email="zelda@example.com", source="webinar")
        services.projector.catch_up()
    finally:
        services.close()
    # The layout of before: the read models (with the lead's name) in the event store's file.
    store = Path(settings.sqlite_path())
    read_models = settings.read_models_path()
    older = sqlite3.connect(store)
    older.execute(f"ATTACH DATABASE '{read_models}' AS moved")
    moved = older.execute("SELECT name, sql FROM moved.sqlite_master WHERE type = 'table'").fetchall()
    for name, sql in moved:
        if name in metadata.tables:
            older.execute(sql)
            older.execute(f'INSERT INTO main."{name}" SELECT * FROM moved."{name}"')
    older.commit()
    older.execute("DETACH DATABASE moved")
    older.close()
    for suffix in ("", "-wal", "-shm"):
        read_models.with_name(read_models.name + suffix).unlink(missing_ok=True)
    assert "lead_summary" in _tables(store) and NAME.encode() in store.read_bytes()

    init_schema(settings)

    assert not _tables(store) & set(metadata.tables)
    services = bootstrap(settings)
    try:
        services.projector.catch_up()  # rebuilt from the log in their own file
        with services.read_engine.connect() as conn:
            lead_summary = metadata.tables["lead_summary"]
            names = conn.execute(
                select(lead_summary.c.name).where(lead_summary.c.lead_id == UUID(lead).hex)
            ).scalars()
            assert list(names) == [NAME]
    finally:
        services.close()
    assert NAME.encode() not in store.read_bytes()  # secure_delete blanked the dropped pages
