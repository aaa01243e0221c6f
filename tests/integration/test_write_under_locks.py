"""A stored write is never reported as failed (both backends).

- PostgreSQL, the read models' tracking table locked by another session (ACCESS
  EXCLUSIVE: not even readable): a note on a lead answers within the bounded
  catch-up wait, confirmed, saying the figures are updating; the event is stored
  once, and the figures follow once the lock goes.
- SQLite, another connection holding the database's write lock: the write cannot
  be stored, so it answers 503 with Retry-After within SMARKETING_LOCK_TIMEOUT and
  a message in the reader's language; sent again after the lock goes, it is stored
  once.

bench/write_under_lock.py holds the lock for the full 40 s with the default wait.
"""

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

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
    """Another session holds the lock until the block ends."""
    if services.settings.is_postgres:
        conn = psycopg.connect(services.settings.database_url)
        conn.execute("LOCK TABLE projection_tracking IN ACCESS EXCLUSIVE MODE")
    else:
        conn = sqlite3.connect(services.settings.sqlite_path(), isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE projection_tracking SET position = position")
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
        if services.settings.is_postgres:
            assert response.status_code == 200, response.data[:300]
            body = response.get_data(as_text=True)
            assert "Interaction recorded." in body and "The figures are updating" in body
            assert 'hx-trigger="load delay:2s"' in body  # the timeline fetches itself again
            assert _notes(services, lead) == 1
        else:
            assert response.status_code == 503 and response.headers["Retry-After"].isdigit()
            assert "The database is busy" in response.get_data(as_text=True)
            assert _notes(services, lead) == 0
    if not services.settings.is_postgres:
        # The lock is gone: sent again, it is stored, once.
        assert manager.post(f"/leads/{lead}/interaction", data=NOTE, headers=HX).status_code == 200
    assert _notes(services, lead) == 1
    # The catch-up left waiting in the background finishes once the lock goes.
    _wait_for(
        lambda: set(services.projector.positions().values()) == {services.app.recorder.max_notification_id()}
    )
    timeline = manager.get(f"/leads/{lead}/timeline").get_data(as_text=True)
    assert "Llamada con el cliente" in timeline and "load delay" not in timeline


# SQLite's write lock covers the whole store; PostgreSQL's lock test is above.
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_busy_store_answers_503_in_spanish(services: Services, make_web_app, login) -> None:
    app = make_web_app(LOCK_TIMEOUT=1)
    lead = services.app.capture_lead(name="Ana", email="ana@example.com", source="webinar")
    spanish = login(app.test_client(), "manager", "es")
    with tracking_locked(services):
        response = spanish.post(f"/leads/{lead}/interaction", data=NOTE)
    assert response.status_code == 503 and response.headers["Retry-After"].isdigit()
    assert "La base de datos está ocupada" in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    # From htmx: swapped (base.html's responseHandling lets a 503 through) above the page's
    # content, not in the form's place, so what was typed stays to send again.
    with tracking_locked(services):
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
    with tracking_locked(services):
        result = runner.invoke(args=["projections", "catch-up"])
    assert result.exit_code == 1 and "The database is busy" in result.output
    assert "Traceback" not in result.output
