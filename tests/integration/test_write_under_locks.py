"""A stored write is never reported as failed (both backends).

- The read models' tracking table locked by another session (PostgreSQL: ACCESS
  EXCLUSIVE, not even readable; SQLite: the write lock of the read models' own
  file): a note on a lead answers within the bounded catch-up wait, confirmed,
  saying the figures are updating; the event is stored once, and the figures follow
  once the lock goes.
- SQLite, another connection holding the event store's write lock: the write cannot
  be stored, so it answers 503 with Retry-After within SMARKETING_LOCK_TIMEOUT and
  a message in the reader's language; sent again after the lock goes, it is stored
  once.

bench/write_under_lock.py holds the lock for the full 40 s with the default wait.
"""

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from flask import Flask

from smarketing.bootstrap import Services
from tests.integration.conftest import htmx

HX = htmx("action-result")  # where the lead page's action forms aim (hx-target)
NOTE = {"kind": "call", "channel": "phone", "details": "Llamada con el cliente"}
ANSWER_WITHIN = 5.0


@contextmanager
def tracking_locked(services: Services) -> Iterator[None]:
    """Another session holds the tracking table's lock until the block ends."""
    if services.settings.is_postgres:
        conn = psycopg.connect(services.settings.database_url)
        conn.execute("LOCK TABLE projection_tracking IN ACCESS EXCLUSIVE MODE")
        with _held(conn):
            yield
        return
    with _sqlite_write_lock(
        services.settings.read_models_path(), "UPDATE projection_tracking SET position = position"
    ):
        yield


@contextmanager
def event_store_locked(services: Services) -> Iterator[None]:
    """SQLite: another connection holds the event store's write lock until the block ends."""
    with _sqlite_write_lock(Path(services.settings.sqlite_path()), "UPDATE users SET role = role"):
        yield


@contextmanager
def _sqlite_write_lock(path: Path, statement: str) -> Iterator[None]:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute(statement)
    with _held(conn):
        yield


@contextmanager
def _held(conn: sqlite3.Connection | psycopg.Connection) -> Iterator[None]:
    try:
        yield
    finally:
        conn.rollback()
        conn.close()


def _notes(services: Services, lead: str) -> int:
    return sum(type(e).__name__ == "InteractionRecorded" for e in services.app.lead_events(lead))


def _wait_for(condition, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_a_note_answers_while_the_read_models_are_locked(services: Services, make_web_app, login) -> None:
    app: Flask = make_web_app(CATCH_UP_WAIT=0.5, LOCK_TIMEOUT=1)
    lead = services.app.capture_lead(name="Ana", email="ana@example.com", source="webinar")
    services.projector.catch_up()
    manager = login(app.test_client(), "manager")

    with tracking_locked(services):
        started = time.perf_counter()
        response = manager.post(f"/leads/{lead}/interaction", data=NOTE, headers=HX)
        seconds = time.perf_counter() - started
        assert seconds < ANSWER_WITHIN, seconds
        assert response.status_code == 200, response.data[:300]
        body = response.get_data(as_text=True)
        assert "Interaction recorded." in body and "The figures are updating" in body
        assert 'hx-trigger="load delay:2s"' in body  # the timeline fetches itself again
        assert _notes(services, lead) == 1
        time.sleep(1.5)  # the write's own catch-up, waiting in the background, gives up (LOCK_TIMEOUT)
    assert _notes(services, lead) == 1
    # The timeline polls itself while behind, and each poll starts a catch-up: the note
    # appears once the lock goes, with no projector process and no further write.
    _wait_for(lambda: "load delay" not in manager.get(f"/leads/{lead}/timeline").get_data(as_text=True))
    assert set(services.projector.positions().values()) == {services.app.recorder.max_notification_id()}
    timeline = manager.get(f"/leads/{lead}/timeline").get_data(as_text=True)
    assert "Llamada con el cliente" in timeline


# SQLite's write lock covers the whole event store: nothing can be saved while another
# connection holds it.
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_busy_store_answers_503_in_spanish(services: Services, make_web_app, login) -> None:
    app = make_web_app(LOCK_TIMEOUT=1)
    lead = services.app.capture_lead(name="Ana", email="ana@example.com", source="webinar")
    spanish = login(app.test_client(), "manager", "es")
    with event_store_locked(services):
        response = spanish.post(f"/leads/{lead}/interaction", data=NOTE)
    assert response.status_code == 503 and response.headers["Retry-After"].isdigit()
    assert "La base de datos está ocupada" in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    # From htmx: swapped (base.html's responseHandling lets a 503 through) above the page's
    # content, not in the form's place, so what was typed stays to send again.
    with event_store_locked(services):
        fragment = spanish.post(f"/leads/{lead}/interaction", data=NOTE, headers={"HX-Request": "true"})
    assert fragment.status_code == 503 and fragment.headers["HX-Retarget"] == "#store-faults"
    assert "La base de datos está ocupada" in fragment.get_data(as_text=True)
    page = spanish.get(f"/leads/{lead}").get_data(as_text=True)
    assert '<div id="store-faults"' in page and '{"code":"503","swap":true,"error":false}' in page


# On PostgreSQL the read models wait for a lock only with SMARKETING_LOCK_TIMEOUT set.
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_cli_command_on_a_busy_store_says_so_and_exits_1(services: Services, make_web_app) -> None:
    services.app.capture_lead(name="Ana", email="ana@example.com", source="webinar")
    runner = make_web_app(LOCK_TIMEOUT=1).test_cli_runner()
    with tracking_locked(services):  # the read models' file, which the catch-up writes
        result = runner.invoke(args=["projections", "catch-up"])
    assert result.exit_code == 1 and "The database is busy" in result.output
    assert "Traceback" not in result.output
