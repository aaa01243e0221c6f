"""Where a single command's time goes: each stage of ``record_interaction`` timed inside
the loop, beside raw one-row transactions on the same backend (directory or server).

On SQLite, run it on a disk directory (the bench's) and on a tmpfs (``/dev/shm``): on
tmpfs fsync costs nothing, so what is left is the CPU each side spends per row. On
PostgreSQL (``--backend postgres``) both sides go to a scratch database on the server.
The aggregate cache on, as served.

    cd bench && ../.venv/bin/python command_profile.py [--dir /dev/shm] [--commands 3000]
    cd bench && ../.venv/bin/python command_profile.py --backend postgres
"""

import argparse
import os
import random
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import OUT, machine, scratch_database  # type: ignore[import-not-found]
from generate import bench_leads  # type: ignore[import-not-found]
from writes import Raw  # type: ignore[import-not-found]

from domain.lead import Lead
from smarketing.bootstrap import bootstrap, init_schema
from smarketing.settings import Settings

# (object, method, label): what each stage of a cached command is.
STAGES: list[tuple[Callable[[Any], Any], str, str]] = [
    (lambda app: app, "_last_seen", "taking the lead out of the cache"),
    (lambda app: Lead, "record_interaction", "decision (rules + library event)"),
    (lambda app: app.mapper, "prepare_keys", "key check"),
    (lambda app: app.mapper, "to_stored_event", "sealing + JSON encoding"),
    (lambda app: app.recorder, "insert_events", "recorder insert (the save's one statement/query)"),
    (lambda app: app, "_keep_in_cache", "lead kept in the cache"),
    (lambda app: app, "promote_if_scored", "scoring rule (terms known)"),
]


def timed(spent: Counter[str], label: str, method: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return method(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - start

    return wrapper


def raw_rows(url: str, count: int, row_bytes: int) -> tuple[float, float]:
    """Wall and CPU µs per plain one-row transaction: bench/writes.py's raw side."""
    raw = Raw(url, row_bytes)
    wall, cpu = time.perf_counter(), time.process_time()
    raw.one_row_transactions(count)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    raw.close()
    return wall / count * 1e6, cpu / count * 1e6


def profile(url: str, commands: int) -> tuple[float, float, Counter[str]]:
    """Wall and CPU seconds of ``commands`` cached commands on the store at ``url``, and
    the seconds each stage took."""
    settings = Settings(url)
    init_schema(settings)
    os.environ["AGGREGATE_CACHE_MAXSIZE"] = "2000"
    services = bootstrap(settings)
    try:
        app = services.app
        leads = list(bench_leads(2000, seed=7))
        app.capture_many(leads)
        rng = random.Random(1)
        hot = rng.sample([str(lead.id) for lead in leads], 500)
        for lead_id in hot:  # warm: every hot lead in the cache, as bench/writes.py does
            app.get_lead(lead_id)
        for _ in range(500):  # and the keys, the terms
            app.record_interaction(rng.choice(hot), kind="note", details="bench")
        spent: Counter[str] = Counter()
        for owner, name, label in STAGES:
            target = owner(app)
            setattr(target, name, timed(spent, label, getattr(target, name)))
        wall, cpu = time.perf_counter(), time.process_time()
        for _ in range(commands):
            app.record_interaction(rng.choice(hot), kind="note", details="bench")
        return time.perf_counter() - wall, time.process_time() - cpu, spent
    finally:
        services.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--dir", type=Path, default=OUT, help="SQLite: where the stores go")
    parser.add_argument("--commands", type=int, default=3000)
    args = parser.parse_args()
    if args.backend == "postgres":
        where = "PostgreSQL scratch database"
        with scratch_database("postgres") as url:
            wall, cpu, spent = profile(url, args.commands)
            raw_wall, raw_cpu = raw_rows(url, args.commands, 291)
    else:
        where = f"directory {args.dir}"
        args.dir.mkdir(parents=True, exist_ok=True)
        store = args.dir / f"command_profile_{os.getpid()}.sqlite3"
        wall, cpu, spent = profile(f"sqlite:///{store}", args.commands)
        raw_wall, raw_cpu = raw_rows(f"sqlite:///{args.dir / 'raw_profile.sqlite3'}", args.commands, 291)
        for leftover in [*args.dir.glob(f"{store.name}*"), *args.dir.glob("raw_profile.sqlite3*")]:
            leftover.unlink()
    per = 1e6 / args.commands
    print(machine(), "· load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"{where}, {args.commands} cached record_interaction commands")
    print(f"  command:  {wall * per:7.0f} µs wall  {cpu * per:5.0f} µs CPU")
    ratio = raw_wall / (wall * per)
    print(f"  raw row:  {raw_wall:7.0f} µs wall  {raw_cpu:5.0f} µs CPU  -> ratio {ratio:.2f}x")
    staged = 0.0
    for _, _, label in STAGES:
        staged += spent[label]
        print(f"    {label:<40} {spent[label] * per:7.1f} µs")
    print(f"    {'the rest (service layer, library save)':<40} {(wall - staged) * per:7.1f} µs")


if __name__ == "__main__":
    main()
