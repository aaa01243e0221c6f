"""Write throughput on SQLite and PostgreSQL in one run, beside each database's raw rate.

For each backend, on a fresh scratch store:
  raw     plain INSERTs of rows the size of an average stored event, through the
          DB driver: one transaction per row, and 1,000 rows per transaction;
  import  ``capture_many`` (app.save of 1,000 leads + index entries per call);
  single  load-decide-save commands (record_interaction) on random leads, with the
          aggregate cache off and on (AGGREGATE_CACHE_MAXSIZE).
Prints events/s and the ratios single/raw-single and import/raw-batched.

    .venv/bin/python bench/writes.py [--leads 5000] [--commands 2000]
"""

import argparse
import os
import random
import sqlite3
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from common import machine, scratch_database  # type: ignore[import-not-found]
from generate import bench_leads  # type: ignore[import-not-found]

from smarketing.bootstrap import Services, bootstrap, init_schema
from smarketing.settings import Settings


def raw_rates(url: str, row_bytes: int, single: int, batched: int) -> tuple[float, float]:
    """(rows/s one transaction each, rows/s 1,000 per transaction) for plain inserts."""
    payload = os.urandom(row_bytes)
    create = (
        "CREATE TABLE raw_events (id {pk}, originator_id TEXT, version INTEGER, topic TEXT, state {blob})"
    )
    insert = "INSERT INTO raw_events (originator_id, version, topic, state) VALUES ({p},{p},{p},{p})"
    if url.startswith("sqlite"):
        conn = sqlite3.connect(Settings(url).sqlite_path(), isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")  # as the app's engines
        print(f"  raw connection:       {sqlite_durability(lambda name: _pragma(conn.cursor(), name))}")
        conn.execute(create.format(pk="INTEGER PRIMARY KEY", blob="BLOB"))
        sql, close = insert.format(p="?"), conn.close
        cursor = conn
    else:
        import psycopg

        u = urlparse(url)
        conn = psycopg.connect(url, autocommit=True)  # type: ignore[assignment]
        setting = conn.execute("SHOW synchronous_commit").fetchone()  # type: ignore[union-attr]
        print(f"  raw connection:       synchronous_commit={setting[0]}")  # type: ignore[index]
        conn.execute(create.format(pk="BIGSERIAL PRIMARY KEY", blob="BYTEA"))
        sql, close, cursor = insert.format(p="%s"), conn.close, conn
        del u
    rows = [
        (os.urandom(16).hex(), i, "domain.lead:Lead.InteractionRecorded", payload) for i in range(batched)
    ]
    started = time.perf_counter()
    for row in rows[:single]:
        cursor.execute("BEGIN")
        cursor.execute(sql, row)
        cursor.execute("COMMIT")
    one = single / (time.perf_counter() - started)
    started = time.perf_counter()
    for i in range(0, batched, 1000):
        cursor.execute("BEGIN")
        if hasattr(cursor, "executemany"):
            cursor.executemany(sql, rows[i : i + 1000])
        else:
            with cursor.cursor() as cur:  # type: ignore[attr-defined]
                cur.executemany(sql, rows[i : i + 1000])
        cursor.execute("COMMIT")
    many = batched / (time.perf_counter() - started)
    close()
    return one, many


def sqlite_durability(pragma: Callable[[str], Any]) -> str:
    """journal_mode and synchronous of a SQLite connection (``pragma(name)`` reads one)."""
    synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[pragma("synchronous")]
    return f"journal_mode={pragma('journal_mode')} synchronous={synchronous}"


def _pragma(cursor: Any, name: str) -> Any:
    cursor.execute(f"PRAGMA {name}")
    return cursor.fetchone()[0]


def print_app_durability(svc: Services) -> None:
    """The same settings as the app's own connections: the event log's and the keys'."""
    if svc.settings.is_postgres:
        with svc.app.recorder.datastore.get_connection() as conn:  # type: ignore[attr-defined]
            setting = conn.execute("SHOW synchronous_commit").fetchone()
        print(f"  event log connection: synchronous_commit={next(iter(setting.values()))}")
        return
    with svc.app.recorder.datastore.transaction(commit=False) as cursor:  # type: ignore[attr-defined]
        print(f"  event log connection: {sqlite_durability(lambda name: _pragma(cursor, name))}")
    with svc.write_engine.connect() as conn:
        driver = conn.connection.driver_connection
        print(f"  lead keys connection: {sqlite_durability(lambda name: _pragma(driver.cursor(), name))}")


def run(label: str, backend: str, leads: int, commands: int) -> None:
    with scratch_database(backend) as url:
        settings = Settings(url)
        init_schema(settings)
        os.environ["AGGREGATE_CACHE_MAXSIZE"] = "0"
        svc = bootstrap(settings)
        print(f"\n{label}")
        print_app_durability(svc)
        # The leads' histories are simulated first, untimed: "import" is capture_many
        # (the save), not the bench's random stories (timed apart, printed below).
        started = time.perf_counter()
        built = list(bench_leads(leads, seed=7))
        build_seconds = time.perf_counter() - started
        ids = [str(lead.id) for lead in built]
        started = time.perf_counter()
        for i in range(0, len(built), 1000):
            svc.app.capture_many(built[i : i + 1000])
        import_seconds = time.perf_counter() - started
        del built
        events = svc.app.recorder.max_notification_id() or 0
        sample = svc.app.recorder.select_notifications(start=1, limit=2000)
        row_bytes = sum(len(n.state) for n in sample) // len(sample)
        svc.close()
        single = {}
        for cache in ("0", "2000"):
            os.environ["AGGREGATE_CACHE_MAXSIZE"] = cache
            svc = bootstrap(settings)
            rng = random.Random(1)
            hot = rng.sample(ids, min(len(ids), 500))  # a working set, as a sales team has
            for lead_id in hot:  # warm: the cache (when on) and the keys
                svc.app.get_lead(lead_id)
            before = svc.app.recorder.max_notification_id() or 0
            started = time.perf_counter()
            for _ in range(commands):
                svc.app.record_interaction(rng.choice(hot), kind="note", details="bench")
            seconds = time.perf_counter() - started
            # Events actually written (one per command unless the scoring rule promoted).
            single[cache] = ((svc.app.recorder.max_notification_id() or 0) - before) / seconds
            svc.close()
        raw_one, raw_many = raw_rates(url, row_bytes, single=min(commands, 2000), batched=50_000)
    imported = events / import_seconds
    print(f"  {events} events imported, average stored event {row_bytes} bytes; load {load_average()}")
    print(f"  (simulating the {leads} leads' histories took {build_seconds:.1f}s more, not counted)")
    lines = [
        ("raw insert, 1 row/transaction", raw_one, "rows/s", ""),
        ("raw insert, 1000 rows/transaction", raw_many, "rows/s", ""),
        ("batch import (capture_many)", imported, "events/s", f"= {imported / raw_many:.2f}x raw batched"),
        ("single commands, cache off", single["0"], "events/s", f"= {single['0'] / raw_one:.2f}x raw 1-row"),
        ("single commands, cache on", single["2000"], "events/s", f"= {single['2000'] / raw_one:.2f}x"),
    ]
    for name, rate, unit, ratio in lines:
        print(f"  {name:<34} {rate:>10,.0f} {unit:<9} {ratio}")


def load_average() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=5000)
    parser.add_argument("--commands", type=int, default=2000)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    print(machine(), "· load average", load_average())
    backends = [("SQLite", "sqlite"), ("PostgreSQL", "postgres")]
    for label, backend in backends:
        if args.backend in ("both", backend):
            run(label, backend, args.leads, args.commands)


if __name__ == "__main__":
    main()
