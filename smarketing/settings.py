"""Settings from the environment: where the log lives and the team's time zone.

SQLite file under ``instance/`` by default; PostgreSQL when DATABASE_URL says so.
"""

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse, urlunparse
from zoneinfo import ZoneInfo

DEFAULT_TIMEZONE = "Europe/Madrid"
# Seconds a statement waits for a lock held by another connection before the store
# is reported busy (web: 503 with Retry-After; CLI: a message and exit 1). SQLite's
# default is its writers' queue: long enough for a projector's batch commit.
DEFAULT_LOCK_TIMEOUT = {"sqlite": 30.0, "postgres": 10.0}


@dataclass(frozen=True)
class Settings:
    database_url: str
    timezone: str = DEFAULT_TIMEZONE
    # The monthly report's private read models (smarketing.reports.replica), a
    # rebuildable cache; empty: see ``report_replica_path``.
    report_replica: str = ""
    # The key store (smarketing.store.key_store); empty: see ``key_store_url``.
    key_store: str = ""
    # The erasure ledger (smarketing.audit.erasure); empty: see ``erasure_ledger_path``.
    erasure_ledger: str = ""
    # SMARKETING_LOCK_TIMEOUT; None: DEFAULT_LOCK_TIMEOUT of the backend. On PostgreSQL
    # the read models' connections wait without a bound unless it is set.
    lock_timeout: float | None = None

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def lock_wait(self) -> float:
        """The lock timeout in seconds (SMARKETING_LOCK_TIMEOUT, else the backend's default)."""
        if self.lock_timeout is not None:
            return self.lock_timeout
        return DEFAULT_LOCK_TIMEOUT["postgres" if self.is_postgres else "sqlite"]

    def sqlite_path(self) -> str:
        return self.database_url.removeprefix("sqlite:///")

    def event_store_env(self, *, create_table: bool = False) -> dict[str, str]:
        env = {"CREATE_TABLE": "y" if create_table else "n"}
        # Leads are kept in an in-process LRU. Gets fast-forward them from the log;
        # commands decide on them as last seen and decide again if the log refuses the
        # save (smarketing/store/last_seen.py), so writes by other processes are never lost
        # or missed. 0 turns it off (the library itself reads 0 as "unbounded").
        cache_size = os.environ.get("AGGREGATE_CACHE_MAXSIZE", "2000")
        if cache_size not in ("", "0"):
            env["AGGREGATE_CACHE_MAXSIZE"] = cache_size
        if not self.is_postgres:
            return env | {
                "PERSISTENCE_MODULE": "eventsourcing.sqlite",
                "SQLITE_DBNAME": self.sqlite_path(),
                # The library takes whole seconds (and reads 0 as its default of 5).
                "SQLITE_LOCK_TIMEOUT": str(max(1, round(self.lock_wait))),
            }
        url = urlparse(self.database_url)
        return env | {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": url.path.lstrip("/"),
            "POSTGRES_HOST": url.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(url.port or 5432),
            "POSTGRES_USER": unquote(url.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(url.password or ""),
            "POSTGRES_LOCK_TIMEOUT": str(max(1, round(self.lock_wait))),
            # One connection kept open (two once the pool's very first request waited
            # for it to open), more while threads wait for one (up to 1 + the library's
            # overflow of 10), closed again after 10 idle minutes. Why not the
            # library's 5: its pool hands connections out in turn, so a process saving
            # one command at a time used each of five server backends every fifth time,
            # each gone cold, which made every command slower, as
            # bench/command_profile.py --backend postgres measures.
            "POSTGRES_POOL_SIZE": os.environ.get("POSTGRES_POOL_SIZE", "1"),
        }

    def read_models_path(self) -> Path:
        """SQLite: the read models' own file beside the event store. Apart, a projector
        holding its write lock (a long batch, a rebuild, a stuck session) never blocks
        saving an event: SQLite locks a whole file, and a stored write must not wait on
        figures derived from it. Not backed up: rebuilt from the log."""
        store = Path(self.sqlite_path())
        return store.with_name(store.stem + ".read-models.sqlite3")

    def report_replica_path(self) -> Path:
        """SMARKETING_REPORT_REPLICA, else beside the SQLite store, else (PostgreSQL)
        a file per database in the temp directory: one per host, which is enough
        for a cache that rebuilds itself from the log."""
        if self.report_replica:
            return Path(self.report_replica)
        if not self.is_postgres:
            store = Path(self.sqlite_path())
            return store.with_name(store.stem + ".report-replica.sqlite3")
        name = hashlib.sha256(self.database_url.encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"smarketing-report-replica-{name}.sqlite3"

    def backed_up_sqlite_files(self) -> dict[str, Path]:
        """Every SQLite file whose data is not rebuilt from the log, by name, in the order
        a backup copies them: the event store (with its users and integrations) first, then
        the key store when it is a SQLite file. A file added here is backed up and restored
        by ``smarketing.cli.backup``; the read models and the report replica are not, they are
        rebuilt from the log, nor is the erasure ledger, which a restore must never roll back."""
        files = {"events": Path(self.sqlite_path())}
        keys = urlparse(self.key_store_url())
        if keys.scheme.startswith("sqlite"):
            files["keys"] = Path(keys.path[1:])
        return files

    def backed_up_postgres_databases(self) -> dict[str, str]:
        """Every PostgreSQL database to dump, by name, in the order a backup dumps them."""
        databases = {"events": self.database_url}
        if self.key_store_url().startswith("postgres"):
            databases["keys"] = self.key_store_url()
        return databases

    def erasure_ledger_path(self) -> Path:
        """SMARKETING_ERASURE_LEDGER, else beside the SQLite store, else (PostgreSQL,
        settings built without ``load_settings``: tests, benchmarks) a file per
        database in the temp directory. ``load_settings`` puts it under instance/."""
        if self.erasure_ledger:
            return Path(self.erasure_ledger)
        if not self.is_postgres:
            store = Path(self.sqlite_path())
            return store.with_name(store.stem + ".erasures.jsonl")
        name = hashlib.sha256(self.database_url.encode()).hexdigest()[:16]
        return Path(tempfile.gettempdir()) / f"smarketing-erasures-{name}.jsonl"

    def key_store_url(self) -> str:
        """SMARKETING_KEY_STORE_URL, else beside the SQLite store, else (PostgreSQL) a
        database of its own on the same server: ``<database>_keys``."""
        if self.key_store:
            return self.key_store
        if not self.is_postgres:
            store = Path(self.sqlite_path())
            return f"sqlite:///{store.with_name(store.stem + '.keys.sqlite3')}"
        url = urlparse(self.database_url)
        return urlunparse(url._replace(path=url.path + "_keys"))

    def sqlalchemy_url(self) -> str:
        if self.is_postgres:
            return "postgresql+psycopg://" + self.database_url.split("://", 1)[1]
        return self.database_url


def load_settings(instance_path: str | Path, **overrides: str) -> Settings:
    database_url = overrides.get("database_url") or os.environ.get("DATABASE_URL", "")
    if not database_url:
        Path(instance_path).mkdir(parents=True, exist_ok=True, mode=0o700)
        database_url = f"sqlite:///{Path(instance_path) / 'smarketing.sqlite3'}"
    timezone = overrides.get("timezone") or os.environ.get("SMARKETING_TIMEZONE", DEFAULT_TIMEZONE)
    ZoneInfo(timezone)  # fail at start-up, not at the first report
    report_replica = overrides.get("report_replica") or os.environ.get("SMARKETING_REPORT_REPLICA", "")
    key_store = overrides.get("key_store") or os.environ.get("SMARKETING_KEY_STORE_URL", "")
    ledger = overrides.get("erasure_ledger") or os.environ.get("SMARKETING_ERASURE_LEDGER", "")
    lock_timeout = overrides.get("lock_timeout") or os.environ.get("SMARKETING_LOCK_TIMEOUT", "")
    if not ledger and database_url.startswith(("postgres://", "postgresql://")):
        ledger = str(Path(instance_path) / "erasure-ledger.jsonl")
    return Settings(
        database_url=database_url,
        timezone=timezone,
        report_replica=report_replica,
        key_store=key_store,
        erasure_ledger=ledger,
        lock_timeout=float(lock_timeout) if lock_timeout else None,  # not a number: fail at start
    )
