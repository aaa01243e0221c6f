"""The lean SQLite recorder (smarketing.store.sqlite_recorder) keeps every promise of the
library's: same rows and notification ids, same durability, a refused duplicate
leaves nothing behind, and it waits for another process's write lock."""

import sqlite3
import threading
import time
from uuid import uuid4

import pytest
from eventsourcing.persistence import IntegrityError, OperationalError
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from smarketing.bootstrap import Services
from smarketing.store.sqlite_recorder import LeanSQLiteRecorder
from tests.integration.stored_rows import (
    assert_saves_interleave_with_the_library,
    notification_rows,
    stored_events,
)

# The lean recorder is SQLite's: these tests run on that backend alone.
pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture
def lite(services: Services) -> Services:
    assert not services.settings.is_postgres
    return services


def _pragma(datastore: SQLiteDatastore, name: str) -> object:
    with datastore.transaction(commit=False) as cursor:
        cursor.execute(f"PRAGMA {name}")
        return cursor.fetchone()[0]


def test_the_app_saves_through_it(lite: Services) -> None:
    assert type(lite.app.recorder) is LeanSQLiteRecorder


def test_same_rows_and_notification_ids_as_the_library(lite: Services) -> None:
    ours = lite.app.recorder
    assert isinstance(ours, LeanSQLiteRecorder)
    library = SQLiteApplicationRecorder(ours.datastore)
    b = assert_saves_interleave_with_the_library(ours, library)
    assert ours.select_events(b) == library.select_events(b)


def test_a_taken_version_leaves_nothing_and_the_connection_usable(lite: Services) -> None:
    recorder = lite.app.recorder
    a = uuid4()
    recorder.insert_events(stored_events(a, range(1, 2)))
    before = recorder.max_notification_id()
    with pytest.raises(IntegrityError):
        recorder.insert_events([*stored_events(uuid4(), range(1, 3)), *stored_events(a, range(1, 2))])
    assert recorder.max_notification_id() == before  # the whole save rolled back
    pooled = list(recorder.datastore.pool._pool)  # type: ignore[attr-defined]
    assert pooled
    for connection in pooled:
        assert not connection._sqlite_conn.in_transaction
    assert recorder.insert_events(stored_events(a, range(2, 3))) == [before + 1]


def test_one_event_is_a_transaction_of_its_own(lite: Services) -> None:
    """A command's one event goes in without BEGIN/COMMIT: stored at once, and a taken
    version stores nothing and leaves no transaction open."""
    recorder = lite.app.recorder
    a = uuid4()
    [first] = recorder.insert_events(stored_events(a, range(1, 2)))
    other = sqlite3.connect(lite.settings.sqlite_path())
    assert other.execute("SELECT rowid FROM stored_events").fetchall() == [(first,)]  # committed
    with pytest.raises(IntegrityError):
        recorder.insert_events(stored_events(a, range(1, 2)))
    assert other.execute("SELECT COUNT(*) FROM stored_events").fetchone() == (1,)
    other.close()
    for connection in recorder.datastore.pool._pool:  # type: ignore[attr-defined]
        assert not connection._sqlite_conn.in_transaction
    assert recorder.insert_events(stored_events(a, range(2, 3))) == [first + 1]


def test_same_durability_as_the_library(lite: Services) -> None:
    datastore = lite.app.recorder.datastore
    assert str(_pragma(datastore, "journal_mode")).lower() == "wal"
    assert _pragma(datastore, "synchronous") == 2  # FULL: an fsync per commit, as raw


def test_waits_for_another_process_write_lock(lite: Services) -> None:
    """Another connection (as another process would) holds the write lock for a while:
    the save waits for it (busy timeout) instead of failing, then lands after it."""
    recorder = lite.app.recorder
    other = sqlite3.connect(lite.settings.sqlite_path(), isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO stored_events VALUES (?,?,?,?)", (uuid4().hex, 1, "t:T", b'{"v":1}'))
    locked = threading.Event()

    def release_later() -> None:
        locked.set()
        time.sleep(0.3)
        other.execute("COMMIT")

    holder = threading.Thread(target=release_later)
    holder.start()
    locked.wait()
    started = time.monotonic()
    ids = recorder.insert_events(stored_events(uuid4(), range(1, 2)))
    waited = time.monotonic() - started
    holder.join()
    other.close()
    assert waited >= 0.2
    assert ids == [recorder.max_notification_id()]  # after the other process's row
    assert len(notification_rows(recorder)) == 2


def test_stream_reads_match_the_library(lite: Services) -> None:
    ours = lite.app.recorder
    library = SQLiteApplicationRecorder(ours.datastore)
    a, b = uuid4(), uuid4()
    ours.insert_events([*stored_events(a, range(1, 8)), *stored_events(b, range(1, 3))])
    for options in [
        {},
        {"gt": 3},
        {"lte": 5},
        {"gt": 2, "lte": 6},
        {"desc": True},
        {"desc": True, "limit": 1},
        {"limit": 2},
        {"gt": 2, "lte": 6, "desc": True, "limit": 3},
        {"gt": 7},
    ]:
        assert ours.select_events(a, **options) == library.select_events(a, **options), options
    assert ours.select_events(uuid4()) == []


def test_a_read_error_is_the_library_class(lite: Services) -> None:
    recorder = LeanSQLiteRecorder(lite.app.recorder.datastore, events_table_name="no_such_table")
    with pytest.raises(OperationalError):
        recorder.select_events(uuid4())


def test_a_stream_read_is_one_statement(lite: Services) -> None:
    """No BEGIN and ROLLBACK around it (the library's read sends three statements)."""
    recorder = lite.app.recorder
    recorder.select_events(uuid4())  # a pooled connection to trace
    sent: list[str] = []
    pooled = list(recorder.datastore.pool._pool)  # type: ignore[attr-defined]
    for connection in pooled:
        connection._sqlite_conn.set_trace_callback(sent.append)
    try:
        recorder.select_events(uuid4(), gt=1)
    finally:
        for connection in pooled:
            connection._sqlite_conn.set_trace_callback(None)
    assert len(sent) == 1 and sent[0].startswith("SELECT")


def _ids_by_key(recorder: LeanSQLiteRecorder) -> dict[tuple[object, int], int]:
    return {(row[1], row[2]): row[0] for row in notification_rows(recorder)}


def _another_process_stores_a_row_at(lite: Services, rowid: int) -> None:
    other = sqlite3.connect(lite.settings.sqlite_path(), isolation_level=None)
    other.execute(
        "INSERT INTO stored_events (rowid, originator_id, originator_version, topic, state) "
        "VALUES (?, ?, 1, 't:T', x'')",
        (rowid, uuid4().hex),
    )
    other.close()


def test_a_batch_gets_the_rowids_its_rows_were_stored_with(lite: Services) -> None:
    """One executemany per batch: the ids it returns are its rows' own, after a gap too."""
    recorder = lite.app.recorder
    assert isinstance(recorder, LeanSQLiteRecorder)
    _another_process_stores_a_row_at(lite, 100)
    a, b = uuid4(), uuid4()
    ids = recorder.insert_events([*stored_events(a, range(1, 4)), *stored_events(b, range(1, 3))])
    assert ids == [101, 102, 103, 104, 105]
    stored = _ids_by_key(recorder)
    assert ids == [stored[(a, 1)], stored[(a, 2)], stored[(a, 3)], stored[(b, 1)], stored[(b, 2)]]


def test_a_batch_past_the_largest_rowid_reads_each_rowid(lite: Services) -> None:
    """Once the largest rowid is taken SQLite picks free rowids at random: not consecutive,
    so the batch's ids are read back row by row (the library's per-row ids, still)."""
    recorder = lite.app.recorder
    assert isinstance(recorder, LeanSQLiteRecorder)
    _another_process_stores_a_row_at(lite, 2**63 - 1)
    a = uuid4()
    ids = recorder.insert_events(stored_events(a, range(1, 6)))
    stored = _ids_by_key(recorder)
    assert ids == [stored[(a, v)] for v in range(1, 6)]
    assert ids != list(range(ids[0], ids[0] + 5))  # random: consecutive by a 2**-250 chance
