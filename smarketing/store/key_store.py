"""The key store: the per-lead keys (smarketing.store.personal_data) and the installation's
index secret, kept apart from the event database.

Why apart: erasing a person is deleting one key, so the key must not outlive its
deletion in the event database's files, WAL or backups, which are kept long and
copied widely. Here it has its own file or database, its own (short) backup
retention, and deletion that leaves nothing behind:

- SQLite: its own file (``…keys.sqlite3`` beside the store), mode 0600,
  ``secure_delete=ON`` (deleted rows are overwritten with zeros in the file) and a
  rollback journal instead of a WAL (no log of old pages left after a commit).
- PostgreSQL: its own database (``<database>_keys`` on the same server by default).
  A ``DELETE`` only marks the row dead; its bytes stay in the heap file until the
  page is rewritten. So every deletion is followed by ``VACUUM FULL lead_keys``,
  which writes the table's live rows to a new file and unlinks the old one.
  What remains is the server's WAL (until its segments are recycled, normally
  after the next checkpoints, see docs/SECURITY.md) and any backup of this database.
"""

import os
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from sqlalchemy import (
    Column,
    Engine,
    LargeBinary,
    MetaData,
    String,
    Table,
    create_engine,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite

from smarketing.store.sqlite_engine import sqlite_engine

keys_metadata = MetaData()

lead_keys = Table(
    "lead_keys",
    keys_metadata,
    Column("lead_id", String(32), primary_key=True),
    Column("key", LargeBinary, nullable=False),
)

# Installation secrets, created once (``index_secret``).
installation_secrets = Table(
    "installation_secrets",
    keys_metadata,
    Column("name", String(40), primary_key=True),
    Column("secret", LargeBinary, nullable=False),
)

INDEX_SECRET = "email-index-hmac"
_CHUNK = 500


def key_store_engine(url: str, lock_timeout: float = 30.0) -> Engine:
    """The key store's engine: SQLite with secure deletion, or PostgreSQL.
    ``lock_timeout``: SQLite's busy timeout in seconds (SMARKETING_LOCK_TIMEOUT)."""
    if not url.startswith("sqlite"):
        return create_engine(_psycopg(url), pool_pre_ping=True, pool_size=1)
    path = Path(url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)  # keys: readable by the app's user only
    # A rollback journal, not WAL: a deleted key leaves no copy in a side file. The
    # driver's own transaction handling is kept.
    return sqlite_engine(url, busy_seconds=lock_timeout, journal_mode="DELETE", begin=None)


def _psycopg(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


def create_key_database(url: str) -> None:
    """Create the key store's PostgreSQL database, empty, when it does not exist yet: the
    installation names it (``<database>_keys``), so nobody else is expected to create it."""
    name = urlparse(url).path.lstrip("/")
    server = create_engine(_psycopg(urlunparse(urlparse(url)._replace(path="/postgres"))))
    try:
        with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if exists is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        server.dispose()


def create_key_store(url: str) -> None:
    """Create the key store's database (PostgreSQL) and tables, once; idempotent."""
    if not url.startswith("sqlite"):
        create_key_database(url)
    engine = key_store_engine(url)
    try:
        keys_metadata.create_all(engine)
        _insert_missing(engine, installation_secrets, [{"name": INDEX_SECRET, "secret": os.urandom(32)}])
    finally:
        engine.dispose()


def index_secret(engine: Engine) -> bytes:
    """The installation's secret for keyed hashes of e-mail addresses (domain.email_index)."""
    with engine.connect() as conn:
        secret = conn.execute(
            select(installation_secrets.c.secret).where(installation_secrets.c.name == INDEX_SECRET)
        ).scalar()
    if secret is None:
        raise RuntimeError("The key store has no index secret: run `flask db init`.")
    return bytes(secret)


def _insert_missing(engine: Engine, table: Table, rows: list[dict[str, object]]) -> None:
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    with engine.begin() as conn:
        for i in range(0, len(rows), _CHUNK):
            conn.execute(dialect.insert(table).on_conflict_do_nothing(), rows[i : i + _CHUNK])


def forget_deleted(engine: Engine) -> None:
    """After keys were deleted: leave no copy of them in the store's files (module docstring)."""
    if engine.dialect.name != "postgresql":
        return  # secure_delete already zeroed them, and a rollback journal keeps no old pages
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM FULL lead_keys"))


def move_keys_out_of(event_engine: Engine, key_engine: Engine) -> int:
    """Move the keys an older version kept in the event database's ``lead_keys`` here;
    then drop that table so no key stays in the event database. The number moved."""
    if not inspect(event_engine).has_table("lead_keys"):
        return 0
    with event_engine.connect() as conn:
        rows = [
            {"lead_id": i, "key": bytes(k)}
            for i, k in conn.execute(text("SELECT lead_id, key FROM lead_keys"))
        ]
    _insert_missing(key_engine, lead_keys, rows)
    with event_engine.begin() as conn:
        if event_engine.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA secure_delete = ON")  # zero the rows, not only unlink them
            conn.execute(text("DELETE FROM lead_keys"))
        conn.execute(text("DROP TABLE lead_keys"))
    scrub_sqlite(event_engine)
    return len(rows)


def scrub_sqlite(engine: Engine) -> None:
    """Empty an SQLite database's WAL: its frames still hold pages as they were before
    the latest changes (a person's data before an erasure, keys before a move)."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()  # outside any transaction: the checkpoint needs it
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()
