"""Fixtures shared by every layer: a fresh store per test, on SQLite and on
PostgreSQL (a uniquely named database per test, dropped afterwards)."""

import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest

from smarketing.bootstrap import Services, bootstrap, init_schema
from smarketing.settings import Settings

POSTGRES_URL = os.environ.get("SMARKETING_TEST_POSTGRES_URL", "")
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


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres" and not POSTGRES_URL:
        pytest.skip("PostgreSQL tests need SMARKETING_TEST_POSTGRES_URL (set by .ci/run)")
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
