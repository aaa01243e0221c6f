"""The PostgreSQL recorder that saves in one round trip (smarketing.store.pg_recorder) keeps
every promise of the library's: same rows, the table lock, a refused duplicate
leaves nothing behind and the connection usable."""

import dataclasses
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from uuid import uuid4

import psycopg
import pytest
from eventsourcing.persistence import IntegrityError, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.pq import Trace

from smarketing.bootstrap import Services
from smarketing.store.pg_recorder import SMALL_SAVE, OneTripPostgresRecorder
from tests.integration.stored_rows import (
    assert_saves_interleave_with_the_library,
    notification_rows,
    stored_events,
)

# The one-round-trip recorder is PostgreSQL's: these tests run on that backend alone.
pytestmark = pytest.mark.parametrize("backend", ["postgres"], indirect=True)


@pytest.fixture
def pg(services: Services) -> Services:
    assert services.settings.is_postgres
    return services


def test_the_app_saves_through_it(pg: Services) -> None:
    assert type(pg.app.recorder) is OneTripPostgresRecorder


def test_same_rows_and_notification_ids_as_the_library(pg: Services) -> None:
    ours = pg.app.recorder
    library = _library_twin(ours)
    assert_saves_interleave_with_the_library(ours, library)


def test_a_large_batch_keeps_its_order_and_bytes(pg: Services) -> None:
    """Rows go as parallel arrays, not the library's composite array: same values, same order."""
    ours = pg.app.recorder
    library = _library_twin(ours)
    originators = [uuid4() for _ in range(300)]
    batch = [
        StoredEvent(originator_id=o, originator_version=v, topic=f"t:T{v}", state=bytes(range(256)) * v)
        for o in originators
        for v in (1, 2)
    ]
    ids = ours.insert_events(batch)
    assert ids == list(range(ids[0], ids[0] + len(batch)))
    stored = ours.select_notifications(start=ids[0], limit=len(batch))
    assert [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in stored] == [
        (i, e.originator_id, e.originator_version, e.topic, e.state) for i, e in zip(ids, batch, strict=True)
    ]
    again = [dataclasses.replace(e, originator_id=uuid4()) for e in batch]  # the same rows, library path
    library_ids = library.insert_events(again)
    read_back = library.select_notifications(start=library_ids[0], limit=len(again))
    assert [(n.originator_version, n.topic, n.state) for n in read_back] == [
        (n.originator_version, n.topic, n.state) for n in stored
    ]


@pytest.mark.parametrize("size", [3, SMALL_SAVE + 2], ids=["one query", "pipeline"])
def test_a_taken_version_records_nothing_and_the_connection_stays_usable(pg: Services, size: int) -> None:
    recorder = pg.app.recorder
    lead = uuid4()
    recorder.insert_events(stored_events(lead, range(1, 3)))
    before = notification_rows(recorder)
    with pytest.raises(IntegrityError):
        recorder.insert_events(stored_events(lead, range(2, 2 + size)))  # version 2 is taken: none is saved
    assert notification_rows(recorder) == before
    with recorder.datastore.get_connection() as conn:
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    ids = recorder.insert_events(stored_events(lead, range(3, 3 + size)))
    assert [r[2] for r in notification_rows(recorder)] == list(range(1, 3 + size)) and len(ids) == size


def test_one_round_trip_per_save(pg: Services) -> None:
    """The library's insert syncs five times (a round trip to the server each); ours
    waits for the server once, whether as one query (a command) or one pipeline (a batch)."""
    recorder = pg.app.recorder
    for under_test, size, trips in (
        (recorder, 1, [1]),
        (recorder, SMALL_SAVE, [1]),
        (recorder, SMALL_SAVE + 1, [1]),
        (_library_twin(recorder), 2, [5]),
    ):
        with _round_trips_per_connection(recorder) as counted:
            under_test.insert_events(stored_events(uuid4(), range(1, 1 + size)))
        assert counted == trips, (under_test, size)


def test_it_still_takes_the_exclusive_table_lock(pg: Services) -> None:
    """A plain INSERT would go past another inserter's ROW EXCLUSIVE lock; the
    library's LOCK TABLE … IN EXCLUSIVE MODE waits, so ids commit in order."""
    recorder = pg.app.recorder
    done = threading.Event()
    with psycopg.connect(pg.settings.database_url) as other:
        other.execute(f"LOCK TABLE {recorder.events_table_name} IN ROW EXCLUSIVE MODE")
        saver = threading.Thread(
            target=lambda: (recorder.insert_events(stored_events(uuid4(), range(1, 2))), done.set())
        )
        saver.start()
        time.sleep(0.5)
        assert not done.is_set(), "the save did not wait for the table lock"
        other.commit()
    saver.join(10)
    assert done.is_set()


def test_one_connection_at_rest_more_while_threads_wait(pg: Services) -> None:
    """The pool keeps one connection (a process saving one command at a time reuses
    the same warm server backends, not five in turn) and opens more when saves run at
    the same time. Two at rest at most: the library opens the pool without waiting,
    so its very first request queues, and the pool grows by one for it."""
    pool = pg.app.recorder.datastore.pool
    assert (pool.min_size, pool.max_size) == (1, 11)
    for _ in range(3):
        pg.app.capture_lead(name="Ana", email=f"{uuid4().hex}@example.com", source="web")
    assert pool.get_stats()["pool_size"] <= 2
    held = [pool.getconn(), pool.getconn()]  # two threads in the middle of a save
    try:
        pg.app.capture_lead(name="Bea", email=f"{uuid4().hex}@example.com", source="web")
        assert pool.get_stats()["pool_size"] >= 3
    finally:
        for conn in held:
            pool.putconn(conn)


def test_the_pool_size_can_be_set_in_the_environment(pg: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POSTGRES_POOL_SIZE", "4")
    assert pg.settings.event_store_env()["POSTGRES_POOL_SIZE"] == "4"


def _library_twin(recorder: OneTripPostgresRecorder) -> PostgresApplicationRecorder:
    return PostgresApplicationRecorder(recorder.datastore, events_table_name=recorder.events_table_name)


@contextmanager
def _round_trips_per_connection(recorder: PostgresApplicationRecorder) -> Iterator[list[int]]:
    """Messages that wait for the server (Sync, simple Query) sent on each connection
    taken from the pool, from libpq's protocol trace."""
    datastore, counted = recorder.datastore, []
    original = datastore.get_connection

    @contextmanager
    def traced() -> Iterator[psycopg.Connection]:
        with original() as conn, tempfile.TemporaryFile("w+") as trace:
            conn.pgconn.trace(trace.fileno())
            conn.pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS | Trace.REGRESS_MODE)
            try:
                yield conn
            finally:
                conn.pgconn.untrace()
                trace.seek(0)
                sent = [line.split("\t") for line in trace.read().splitlines()]
                counted.append(sum(1 for line in sent if line[0] == "F" and line[2][:5] in ("Sync", "Query")))

    datastore.get_connection = traced  # type: ignore[method-assign]
    try:
        yield counted
    finally:
        del datastore.get_connection
