"""Fixtures shared by every layer: a fresh store per test, on SQLite and on
PostgreSQL (a uniquely named database per test, dropped afterwards).

PostgreSQL: SMARKETING_TEST_POSTGRES_URL names a server (``.ci/run`` gives the local
one); without it the session starts a throwaway server of its own
(``tests/throwaway_postgres.py``) when the machine has PostgreSQL's programs.

SMARKETING_TEST_NOW (an ISO time with its offset, e.g. ``2026-12-01T00:30+01:00``)
starts the whole session's clock there, ticking on: ``.ci/run`` runs the suite at the
hours where a test that reads the wall clock or the machine's zone would fail.
"""

import itertools
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest
import time_machine

from smarketing.bootstrap import Services, bootstrap, init_schema
from smarketing.settings import Settings
from tests import throwaway_postgres

POSTGRES_URL = os.environ.get("SMARKETING_TEST_POSTGRES_URL", "")
POSTGRES_MISSING = (
    "PostgreSQL tests need a server: install Debian's 'postgresql' package "
    "or set SMARKETING_TEST_POSTGRES_URL"
)
_SESSION_ENDS: list[Callable[[], object]] = []


def pytest_configure(config: pytest.Config) -> None:
    global POSTGRES_URL
    if "SMARKETING_MAILBOX_DIR" not in os.environ:
        # Apps the tests make write the demo's and the notifications' e-mails here, not
        # into the repository's instance/mailbox that `make run` shows on "Correo enviado".
        mailbox = tempfile.mkdtemp(prefix="smarketing-test-mailbox-")
        os.environ["SMARKETING_MAILBOX_DIR"] = mailbox
        _SESSION_ENDS.append(lambda: shutil.rmtree(mailbox, ignore_errors=True))
    now = os.environ.get("SMARKETING_TEST_NOW")
    if now:
        traveller = time_machine.travel(datetime.fromisoformat(now), tick=True)
        traveller.start()
        _SESSION_ENDS.append(traveller.stop)
    if not POSTGRES_URL and throwaway_postgres.server_binaries() is not None:
        POSTGRES_URL, stop = throwaway_postgres.start()
        # Modules that read the variable themselves (the library's contract tests) see it too.
        os.environ["SMARKETING_TEST_POSTGRES_URL"] = POSTGRES_URL
        _SESSION_ENDS.append(stop)


def pytest_unconfigure(config: pytest.Config) -> None:
    while _SESSION_ENDS:
        _SESSION_ENDS.pop()()


BACKENDS = ["sqlite", "postgres"]
_RUN = uuid.uuid4().hex[:8]
_COUNTER = itertools.count()


def _admin_connect() -> psycopg.Connection:
    return psycopg.connect(POSTGRES_URL, autocommit=True)


def postgres_database() -> str:
    """Create a database only this test will see; return its URL."""
    name = f"smk_{_RUN}_{os.getpid()}_{next(_COUNTER)}"
    with _admin_connect() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunparse(urlparse(POSTGRES_URL)._replace(path=f"/{name}"))


def drop_postgres_database(url: str) -> None:
    name = urlparse(url).path.lstrip("/")
    with _admin_connect() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        # and its key store (smarketing.store.key_store: a database of its own by default)
        conn.execute(f'DROP DATABASE IF EXISTS "{name}_keys" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres" and not POSTGRES_URL:
        pytest.skip(POSTGRES_MISSING)
    return request.param


@pytest.fixture
def settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    if backend == "sqlite":
        yield Settings(database_url=f"sqlite:///{tmp_path / 'smarketing.sqlite3'}")
        return
    url = postgres_database()
    try:
        # The report replica of a PostgreSQL store is a local file: keep it with the test.
        yield Settings(database_url=url, report_replica=str(tmp_path / "report-replica.sqlite3"))
    finally:
        drop_postgres_database(url)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    init_schema(settings)
    services = bootstrap(settings)
    try:
        yield services
    finally:
        services.close()
