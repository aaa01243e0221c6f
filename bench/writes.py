"""Write throughput on SQLite and PostgreSQL, beside each database's raw rate, measured
in interleaved rounds so the disk's moment (and other processes' load) hits both sides.

For each backend, on a fresh scratch store:
  import  rounds of ``capture_many`` (1,000 leads + index entries per save), each
          beside a round of raw INSERTs of as many rows, 1,000 rows per transaction;
  single  rounds of ``--block`` load-decide-save commands (record_interaction) with the
          aggregate cache off, the same with it on (two applications, disjoint working
          sets), and as many raw one-row transactions; the order rotates each round.
          A diagnostic fourth contender inserts the same raw rows into a table with the
          event log's keys, to tell what the schema costs from what the app costs.
Raw rows are the size of an average stored event, inserted through the DB driver into a
plain table. Prints events/s over all rounds, the ratio per round (median and range),
and the client's CPU time per event (PostgreSQL's server CPU is not in it).

    cd bench && ../.venv/bin/python writes.py [--leads 5000] [--commands 3000] [--block 100]
"""

import argparse
import os
import random
import sqlite3
import statistics
import time
from collections.abc import Callable
from typing import Any

from common import machine, scratch_database  # type: ignore[import-not-found]
from generate import bench_leads  # type: ignore[import-not-found]

from smarketing.bootstrap import Services, bootstrap, init_schema
from smarketing.settings import Settings

# Empty, not "0": the library also reads AGGREGATE_CACHE_MAXSIZE from os.environ, and
# takes 0 as an unbounded cache, so "0" measured a second cache-on application.
CACHE_OFF = ""

RAW_INSERT = "INSERT INTO raw_events (originator_id, version, topic, state) VALUES ({p},{p},{p},{p})"
RAW_CREATE = (
    "CREATE TABLE raw_events (id {pk}, originator_id TEXT, version INTEGER, topic TEXT, state {blob})"
)
# A diagnostic, not the target's baseline: the same rows into a table with the event
# log's keys (eventsourcing 9.5.6's DDL), to tell the schema's cost from the app's.
SHAPED_INSERT = (
    "INSERT INTO raw_shaped (originator_id, originator_version, topic, state) VALUES ({p},{p},{p},{p})"
)
SHAPED_CREATE = {
    "sqlite": [
        "CREATE TABLE raw_shaped (originator_id TEXT, originator_version INTEGER, topic TEXT, "
        "state BLOB, PRIMARY KEY (originator_id, originator_version))"
    ],
    "postgres": [
        "CREATE TABLE raw_shaped (originator_id uuid NOT NULL, originator_version bigint NOT NULL, "
        "topic text, state bytea, notification_id bigserial, "
        "PRIMARY KEY (originator_id, originator_version))",
        "CREATE UNIQUE INDEX raw_shaped_notification_id ON raw_shaped (notification_id ASC)",
    ],
}


class Raw:
    """Plain INSERTs through the driver, in explicit transactions, on its own connection."""

    def __init__(self, url: str, row_bytes: int, *, shaped: bool = False) -> None:
        """``shaped``: into a table with the event log's keys instead of a plain one."""
        self.payload, self.version = os.urandom(row_bytes), 0
        backend = "sqlite" if url.startswith("sqlite") else "postgres"
        if backend == "sqlite":
            self.conn: Any = sqlite3.connect(Settings(url).sqlite_path(), isolation_level=None)
            self.conn.execute("PRAGMA journal_mode = WAL")  # as the app's engines
            self.label = sqlite_durability(lambda name: _pragma(self.conn.cursor(), name))
            create = [RAW_CREATE.format(pk="INTEGER PRIMARY KEY", blob="BLOB")]
            placeholder = "?"
        else:
            import psycopg

            self.conn = psycopg.connect(url, autocommit=True)
            setting = self.conn.execute("SHOW synchronous_commit").fetchone()
            self.label = f"synchronous_commit={setting[0]}"
            create = [RAW_CREATE.format(pk="BIGSERIAL PRIMARY KEY", blob="BYTEA")]
            placeholder = "%s"
        for statement in SHAPED_CREATE[backend] if shaped else create:
            self.conn.execute(statement)
        self.sql = (SHAPED_INSERT if shaped else RAW_INSERT).format(p=placeholder)
        self.cursor = self.conn.cursor()

    def _rows(self, n: int) -> list[tuple[str, int, str, bytes]]:
        self.version += n
        topic = "domain.lead:Lead.InteractionRecorded"
        return [(os.urandom(16).hex(), self.version - i, topic, self.payload) for i in range(n)]

    def one_row_transactions(self, n: int) -> int:
        for row in self._rows(n):
            self.cursor.execute("BEGIN")
            self.cursor.execute(self.sql, row)
            self.cursor.execute("COMMIT")
        return n

    def batched(self, n: int, per_transaction: int = 1000) -> int:
        rows = self._rows(n)
        for i in range(0, n, per_transaction):
            self.cursor.execute("BEGIN")
            self.cursor.executemany(self.sql, rows[i : i + per_transaction])
            self.cursor.execute("COMMIT")
        return n

    def close(self) -> None:
        self.conn.close()


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


class Side:
    """One contender's totals over the rounds: items, wall and CPU seconds, rate per round."""

    def __init__(self) -> None:
        self.items, self.wall, self.cpu, self.rates = 0, 0.0, 0.0, []  # type: ignore[var-annotated]

    def time(self, work: Callable[[], int]) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        items = work()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        self.items, self.wall, self.cpu = self.items + items, self.wall + wall, self.cpu + cpu
        self.rates.append(items / wall)

    @property
    def rate(self) -> float:
        return self.items / self.wall

    def cpu_us(self) -> float:
        return self.cpu / self.items * 1e6


def ratio_line(name: str, side: Side, raw: Side, unit: str) -> str:
    per_round = [a / b for a, b in zip(side.rates, raw.rates, strict=True)]
    spread = f"{min(per_round):.2f}–{max(per_round):.2f}"
    return (
        f"  {name:<34} {side.rate:>9,.0f} {unit:<8} = {side.rate / raw.rate:.2f}x {'':3}"
        f"per round median {statistics.median(per_round):.2f}x ({spread}, {len(per_round)} rounds)"
        f"  cpu {side.cpu_us():,.0f} µs/event"
    )


def save_leads(svc: Services, batch: list[Any], events: int) -> int:
    svc.app.capture_many(batch)
    return events


def run(label: str, backend: str, leads: int, commands: int, block: int) -> None:
    with scratch_database(backend) as url:
        settings = Settings(url)
        init_schema(settings)
        os.environ["AGGREGATE_CACHE_MAXSIZE"] = CACHE_OFF
        svc = bootstrap(settings)
        print(f"\n{label}")
        print_app_durability(svc)
        # The leads' histories are simulated first, untimed: "import" is capture_many
        # (the save), not the bench's random stories.
        built = list(bench_leads(leads, seed=7))
        ids = [str(lead.id) for lead in built]
        # A first save, untimed, to learn the average stored event's size for raw rows.
        svc.app.capture_many(built[:1000])
        sample = svc.app.recorder.select_notifications(start=1, limit=2000)
        row_bytes = sum(len(n.state) for n in sample) // len(sample)
        raw = Raw(url, row_bytes)
        print(f"  raw connection:       {raw.label}")
        shaped = Raw(url, row_bytes, shaped=True)
        imported, raw_batched, shaped_batched = Side(), Side(), Side()
        for n, i in enumerate(range(1000, len(built), 1000)):
            before = svc.app.recorder.max_notification_id() or 0
            batch = built[i : i + 1000]
            events = sum(len(lead.pending_events) for lead in batch) + len(batch)  # + index entries
            trio = [
                (imported, lambda b=batch, e=events: save_leads(svc, b, e)),
                (raw_batched, lambda e=events: raw.batched(e)),
                (shaped_batched, lambda e=events: shaped.batched(e)),
            ]
            for side, work in trio[n % 3 :] + trio[: n % 3]:
                side.time(work)
            assert (svc.app.recorder.max_notification_id() or 0) - before == events
        del built
        svc.close()

        apps = {}
        rng = random.Random(1)
        hot = rng.sample(ids, min(len(ids), 1000))  # two working sets, as a sales team has
        for n, cache in enumerate((CACHE_OFF, "2000")):
            os.environ["AGGREGATE_CACHE_MAXSIZE"] = cache
            apps[cache] = (bootstrap(settings), hot[n::2])
            for lead_id in apps[cache][1]:  # warm: the cache (when on) and the keys
                apps[cache][0].app.get_lead(lead_id)
        one_row, shaped_row, off, on = Side(), Side(), Side(), Side()

        def commands_on(cache: str) -> int:
            app, working_set = apps[cache][0].app, apps[cache][1]
            before = app.recorder.max_notification_id() or 0
            for _ in range(block):
                app.record_interaction(rng.choice(working_set), kind="note", details="bench")
            # Events actually written (one per command unless the scoring rule promoted).
            return (app.recorder.max_notification_id() or 0) - before

        contenders = [
            (one_row, lambda: raw.one_row_transactions(block)),
            (off, lambda: commands_on(CACHE_OFF)),
            (on, lambda: commands_on("2000")),
            (shaped_row, lambda: shaped.one_row_transactions(block)),
        ]
        for n in range(max(1, commands // block)):
            k = n % len(contenders)
            for side, work in contenders[k:] + contenders[:k]:
                side.time(work)
        for svc, _ in apps.values():
            svc.close()
        raw.close()
        shaped.close()
    print(f"  {leads} leads, average stored event {row_bytes} bytes; load {load_average()}")
    print(
        f"  {'raw insert, 1 row/transaction':<34} {one_row.rate:>9,.0f} rows/s   "
        f"cpu {one_row.cpu_us():,.0f} µs/row"
    )
    print(
        f"  {'raw insert, 1000 rows/transaction':<34} {raw_batched.rate:>9,.0f} rows/s   "
        f"cpu {raw_batched.cpu_us():,.1f} µs/row"
    )
    print(ratio_line("batch import (capture_many)", imported, raw_batched, "events/s"))
    print(ratio_line("single commands, cache off", off, one_row, "events/s"))
    print(ratio_line("single commands, cache on", on, one_row, "events/s"))
    print("  diagnostic: the same rows into a table with the event log's keys (not the target's baseline)")
    print(
        f"  {'raw insert, log-shaped, 1 row/tx':<34} {shaped_row.rate:>9,.0f} rows/s   "
        f"cpu {shaped_row.cpu_us():,.0f} µs/row = {shaped_row.rate / one_row.rate:.2f}x the plain row"
    )
    print(
        f"  {'raw insert, log-shaped, 1000 rows/tx':<34} {shaped_batched.rate:>9,.0f} rows/s   "
        f"cpu {shaped_batched.cpu_us():,.1f} µs/row = "
        f"{shaped_batched.rate / raw_batched.rate:.2f}x the plain rows"
    )
    print(ratio_line("batch import (capture_many)", imported, shaped_batched, "events/s"))
    print(ratio_line("single commands, cache on", on, shaped_row, "events/s"))


def load_average() -> str:
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=5000)
    parser.add_argument("--commands", type=int, default=3000, help="per contender, in rounds of --block")
    parser.add_argument("--block", type=int, default=100)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    print(machine(), "· load average", load_average())
    backends = [("SQLite", "sqlite"), ("PostgreSQL", "postgres")]
    for label, backend in backends:
        if args.backend in ("both", backend):
            run(label, backend, args.leads, args.commands, args.block)


if __name__ == "__main__":
    main()
