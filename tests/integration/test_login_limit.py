"""The login limit counts in the app's database: several processes (gunicorn workers,
or plain processes calling the limiter) share one count per address and user name."""

import multiprocessing
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine

from smarketing.bootstrap import Services, build_engines
from smarketing.service import users
from smarketing.service.login_limit import attempt, parse_limit
from smarketing.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from loadclient import Session, serve  # type: ignore[import-not-found]

NOW = datetime(2026, 12, 1, 9, 0, 30, tzinfo=UTC)
PROCESSES = 4
TRIES = 5


def _attempts(database_url: str, key: str) -> list[bool]:
    """One process's tries, at a fixed instant (so no window turns over meanwhile)."""
    engine, _ = build_engines(Settings(database_url=database_url))
    try:
        with time_machine.travel(NOW, tick=False):
            return [attempt(engine, key, parse_limit("5 per minute")) for _ in range(TRIES)]
    finally:
        engine.dispose()


def test_processes_calling_the_limiter_share_one_count(services: Services) -> None:
    url = services.settings.database_url
    context = multiprocessing.get_context("spawn")  # no engine or connection crosses a fork
    with context.Pool(PROCESSES) as pool:
        same_key = pool.starmap(_attempts, [(url, "10.0.0.1|ana")] * PROCESSES)
        own_keys = pool.starmap(_attempts, [(url, f"10.0.0.{n}|bea") for n in range(PROCESSES)])
    assert sum(ok for tries in same_key for ok in tries) == 5  # not 5 per process
    assert all(tries == [True] * 5 for tries in own_keys)  # one address cannot lock out another


def test_a_new_window_starts_a_new_count(services: Services) -> None:
    limit = parse_limit("2 per minute")
    with time_machine.travel(NOW, tick=False) as clock:
        assert [attempt(services.write_engine, "k", limit) for _ in range(3)] == [True, True, False]
        clock.shift(timedelta(seconds=29))  # 09:00:59, same window
        assert not attempt(services.write_engine, "k", limit)
        clock.shift(timedelta(seconds=1))
        assert [attempt(services.write_engine, "k", limit) for _ in range(3)] == [True, True, False]


def test_gunicorn_workers_share_the_login_limit(services: Services) -> None:
    users.create_user(
        services.write_engine, actor="test", username="ana", role="sales", password="ana-password"
    )
    workers, tries = 3, 9
    # The workers read the real clock: a window counted from 1970 that turns over in the 2950s.
    limit = {"SMARKETING_LOGIN_RATE_LIMIT": '"5 per 1000 years"'}
    with serve(services.settings.database_url, workers, extra_env=limit) as port:
        browser = Session(port)
        browser.get("/login")  # the session cookie and its CSRF token
        # Sync workers close every connection, so the tries land on all the workers.
        wrong = {"username": "ANA", "password": "wrong-password", "csrf_token": browser.token}
        statuses = [browser.post("/login", wrong, htmx=False)[0] for _ in range(tries)]
        right = wrong | {"password": "ana-password"}
        statuses.append(browser.post("/login", right, htmx=False)[0])
    assert statuses == [401] * 5 + [429] * (tries - 5 + 1), statuses
