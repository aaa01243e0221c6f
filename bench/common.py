"""Shared bench plumbing: the two backends, throw-away PostgreSQL databases,
timing statistics and a logged-in test client."""

import os
import statistics
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402

PG_SERVER = os.environ.get("SMARKETING_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
BIG_SQLITE = f"sqlite:///{OUT / 'smk_1m.sqlite3'}"
BIG_POSTGRES = urlunparse(urlparse(PG_SERVER)._replace(path="/smk_bench_1m"))
PASSWORD = "bench-password-1"


def big_databases(argv_urls: list[str] | None) -> list[tuple[str, str]]:
    """(label, url) of the generated 1M-event stores (bench/generate.py), or those given."""
    if argv_urls:
        return [("PostgreSQL" if u.startswith("postgres") else "SQLite", u) for u in argv_urls]
    return [("SQLite", BIG_SQLITE), ("PostgreSQL", BIG_POSTGRES)]


def _admin() -> psycopg.Connection:
    return psycopg.connect(PG_SERVER, autocommit=True)


@contextmanager
def scratch_database(backend: str) -> Iterator[str]:
    """A fresh, empty store URL on ``backend`` ("sqlite" or "postgres"), removed afterwards."""
    name = f"smk_bench_{uuid.uuid4().hex[:10]}"
    if backend == "sqlite":
        OUT.mkdir(parents=True, exist_ok=True)
        path = OUT / f"{name}.sqlite3"
        try:
            yield f"sqlite:///{path}"
        finally:
            for leftover in OUT.glob(f"{name}.*"):  # the store, its read models, keys, ledger
                leftover.unlink()
        return
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunparse(urlparse(PG_SERVER)._replace(path=f"/{name}"))
    finally:
        with _admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def stats_ms(seconds: list[float]) -> tuple[float, float]:
    """(median, p95) in milliseconds."""
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p95 * 1000


def ensure_bench_user(engine: object, username: str = "bench-manager", role: str = "manager") -> str:
    from smarketing.service import users

    if users.get_user(engine, username) is None:  # type: ignore[arg-type]
        users.create_user(engine, actor="bench", username=username, role=role, password=PASSWORD)  # type: ignore[arg-type]
    return username


def machine() -> str:
    import platform

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()} · {cpu} · {os.cpu_count()} cores · Python {platform.python_version()}"
