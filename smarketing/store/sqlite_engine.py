"""The one way Smarketing opens an SQLite file through SQLAlchemy: the event store and
read models (``smarketing.bootstrap``), the report replica (``smarketing.reports.replica``)
and the key store (``smarketing.store.key_store``).

Why one function: each engine sets the same connection up (busy timeout, journal mode,
secure deletion, who begins transactions) and differs only in a few choices, which are
its parameters here, so a pragma added for one file is a decision about all of them.
"""

import sqlite3
import time
from typing import Literal

from sqlalchemy import Engine, create_engine, event


def sqlite_engine(
    url: str,
    *,
    busy_seconds: float,
    journal_mode: Literal["WAL", "DELETE"],
    begin: Literal["BEGIN", "BEGIN IMMEDIATE"] | None,
    wait_for_wal_switch: bool = False,
    synchronous_normal: bool = False,
    cache_size_kib: int | None = None,
    mmap_bytes: int | None = None,
    attach: dict[str, str] | None = None,
) -> Engine:
    """An SQLite engine whose every new connection is set up the same way.

    ``busy_seconds``: how long a connection waits for another's lock (the driver's
    timeout and ``PRAGMA busy_timeout``).
    ``journal_mode``: WAL where readers must see snapshots while a writer works;
    DELETE for a small file that must not keep old pages in a side file (the keys).
    ``begin``: the statement SQLAlchemy's ``begin()`` sends, the driver's own
    transaction handling being switched off (``BEGIN IMMEDIATE`` takes the write lock
    up front, so two writers never interleave); None keeps the driver's handling.
    ``wait_for_wal_switch``: a new file may be switched to WAL by another connection at
    the same moment, and SQLite answers that "database is locked" without its busy
    handler: ask again for as long as ``busy_seconds``.
    ``synchronous_normal``: no fsync per commit, only at checkpoints; in WAL mode a
    commit still survives a crash of any process, only an OS crash or power loss can
    roll back the latest commits. Only for files derived from the log, which the
    projector redoes; never for keys, users or the log.
    ``cache_size_kib``: the page cache (SQLite's default is 2 MiB), for files whose
    index pages a batch touches all over.
    ``mmap_bytes``: read through a memory map, so the pages live once in the OS cache
    for every connection and process.
    ``attach``: other files by schema name, so one query reads tables of both (pages
    join read models with users). Only for readers: ``BEGIN IMMEDIATE`` would take
    the write lock of every attached file.

    Always ``secure_delete``: every file holds personal data or keys, and what an
    erasure blanks (names, reasons, a lead's key) is overwritten instead of left in the
    page's free space (Debian's SQLite does so by default, others not).
    """
    engine = create_engine(url, connect_args={"timeout": busy_seconds})
    busy_ms = round(busy_seconds * 1000)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        if begin is not None:
            # Let SQLAlchemy, not the driver, decide when transactions begin.
            dbapi_connection.isolation_level = None
        dbapi_connection.execute(f"PRAGMA busy_timeout = {busy_ms}")
        if wait_for_wal_switch and journal_mode == "WAL":
            _use_wal(dbapi_connection, busy_seconds)
        else:
            dbapi_connection.execute(f"PRAGMA journal_mode = {journal_mode}")
        dbapi_connection.execute("PRAGMA secure_delete = ON")
        if mmap_bytes is not None:
            dbapi_connection.execute(f"PRAGMA mmap_size = {mmap_bytes}")
        if synchronous_normal:
            dbapi_connection.execute("PRAGMA synchronous = NORMAL")
        if cache_size_kib is not None:
            dbapi_connection.execute(f"PRAGMA cache_size = {-cache_size_kib}")
        for schema, path in (attach or {}).items():
            dbapi_connection.execute(f"ATTACH DATABASE ? AS {schema}", (path,))
            if mmap_bytes is not None:
                dbapi_connection.execute(f"PRAGMA {schema}.mmap_size = {mmap_bytes}")

    if begin is not None:

        @event.listens_for(engine, "begin")
        def _begin(conn):  # type: ignore[no-untyped-def]
            conn.exec_driver_sql(begin)

    return engine


def _use_wal(dbapi_connection: sqlite3.Connection, patience_seconds: float) -> None:
    """Switch a new file to WAL. Switching needs the file to itself, and SQLite
    answers "database is locked" at once, without its busy handler, to a connection
    that asks while another is creating the file or switching it (a web request
    opening the report replica while the projector process builds it): ask again for
    as long as ``patience_seconds``. A file already in WAL needs no switch, so no lock."""
    deadline = time.monotonic() + patience_seconds
    while True:
        try:
            if dbapi_connection.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                dbapi_connection.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(0.05)
