"""What chaining each event at write time costs a save: the recorders as they are
(event and log chain link in one transaction) beside the same recorders as they were
before (``--baseline``, default 2cda3c0: the chain was a projection then, so a save
wrote the event alone), saving into the same scratch store, in interleaved rounds so
the disk's moment and other processes' load hit both sides.

Three kinds of save, as the app makes them: a command's one event, a new lead's two
(the lead and its e-mail index entry), an import's batch of 1,000. Prints, per
backend and kind, the median over rounds of the wall and client CPU time per save
(per event for the batch) and the ratio now/before. The baseline's modules are read
from git (``git show REV:smarketing/…_recorder.py``): they import nothing of the app.

    cd bench && ../.venv/bin/python chain_writes.py [--rounds 7] [--saves 300] [--backend sqlite]
"""

import argparse
import statistics
import subprocess
import time
import types
from typing import Any
from uuid import uuid4

from common import ROOT, machine, scratch_database  # type: ignore[import-not-found]
from eventsourcing.persistence import StoredEvent

from smarketing.bootstrap import bootstrap, init_schema
from smarketing.settings import Settings

TOPIC = "domain.lead:Lead.InteractionRecorded"
STATE = (
    b'{"kind":"call","occurred_at":"2026-10-01T08:00:00+00:00","actor":"web:bench",'
    + b'"x":"'
    + b"a" * 280
    + b'"}'
)
KINDS = {"command (1 event)": 1, "new lead (2 events)": 2, "import batch (1,000 events)": 1000}


def baseline_recorder(revision: str, postgres: bool) -> type:
    name = "pg_recorder" if postgres else "sqlite_recorder"
    source = subprocess.run(
        ["git", "show", f"{revision}:smarketing/{name}.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    module = types.ModuleType(f"baseline_{name}")
    exec(compile(source, f"{revision}:{name}.py", "exec"), module.__dict__)  # our own file, from git
    return module.OneTripPostgresRecorder if postgres else module.LeanSQLiteRecorder


def events(size: int) -> list[StoredEvent]:
    lead = uuid4()
    return [
        StoredEvent(originator_id=lead, originator_version=v, topic=TOPIC, state=STATE)
        for v in range(1, size + 1)
    ]


def timed_saves(recorder: Any, size: int, saves: int) -> tuple[float, float]:
    """(wall, CPU) µs per save, or per event for a batch."""
    batches = [events(size) for _ in range(saves)]
    wall, cpu = time.perf_counter(), time.process_time()
    for batch in batches:
        recorder.insert_events(batch)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    per = saves * (size if size > 16 else 1)
    return wall / per * 1e6, cpu / per * 1e6


def _medians(values: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(v[0] for v in values), statistics.median(v[1] for v in values)


def bench(backend: str, revision: str, rounds: int, saves: int) -> None:
    with scratch_database(backend) as url:
        settings = Settings(database_url=url)
        init_schema(settings)
        services = bootstrap(settings)
        now = services.app.recorder
        before = baseline_recorder(revision, settings.is_postgres)(
            now.datastore, events_table_name=now.events_table_name
        )
        contenders: dict[str, Any] = {"before": before, "now": now}
        print(f"\n{backend}: {saves} saves a round ({max(1, saves // 100)} of batches), {rounds} rounds")
        header = f"{'before µs':>10} {'now µs':>10} {'ratio':>7}   {'CPU before':>10} {'CPU now':>8}"
        print(f"  {'save':<28} {header}")
        for kind, size in KINDS.items():
            count = saves if size < 1000 else max(1, saves // 100)
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in contenders}
            ratios = []
            for r in range(rounds):
                order: list[str] = list(contenders) if r % 2 == 0 else list(reversed(contenders))
                measured = {name: timed_saves(contenders[name], size, count) for name in order}
                for name, value in measured.items():
                    results[name].append(value)
                ratios.append(measured["now"][0] / measured["before"][0])
            before, now = _medians(results["before"]), _medians(results["now"])
            unit = "per event" if size > 16 else "per save"
            ratio = f"{statistics.median(ratios):>6.2f}x"
            print(
                f"  {kind:<28} {before[0]:>10.0f} {now[0]:>10.0f} {ratio}   {before[1]:>10.0f} {now[1]:>8.0f}"
                f"  ({unit}; ratio range {min(ratios):.2f}-{max(ratios):.2f})"
            )
        services.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", default="2cda3c0", help="git revision of the recorders before")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--saves", type=int, default=300)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    args = parser.parse_args()
    print(machine())
    for backend in ["sqlite", "postgres"] if args.backend == "both" else [args.backend]:
        bench(backend, args.baseline, args.rounds, args.saves)


if __name__ == "__main__":
    main()
