"""Projection catch-up against the bare read+decode rate of the same log.

Prints, on one store and in one run (so machine load affects both alike):
bare read+decode events/s (``select_notifications`` + ``mapper.to_domain_event``,
keys prefetched per page as the projector does), catch-up from 0 events/s for
the whole projector, each projection's share of the catch-up time, and the ratio.

The catch-up DROPS every read model (and the log chain), recreates them empty
and resets positions first, so run it on a copy or a scratch store, never on a
store in use:

    cp bench/out/smk_1m.sqlite3 bench/out/smk_1m_copy.sqlite3
    .venv/bin/python bench/catchup.py --database-url sqlite:////work/main/bench/out/smk_1m_copy.sqlite3
    .venv/bin/python bench/generate.py --database-url sqlite:////work/main/bench/out/smk_200k.sqlite3 \\
        --leads 16300 --no-project       # ~200k events, for profiling
    .venv/bin/python bench/catchup.py --database-url sqlite:////work/main/bench/out/smk_200k.sqlite3 \\
        --profile bench/out/catchup.prof
"""

import argparse
import cProfile
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine  # noqa: E402

from projections.engine.projector import Projection, Projector  # noqa: E402
from projections.engine.schema import metadata  # noqa: E402
from projections.engine.tracking import lock_position, reset_position  # noqa: E402
from smarketing.bootstrap import Services, bootstrap, build_projections, init_schema  # noqa: E402
from smarketing.settings import Settings  # noqa: E402


def bare_read_decode(services: Services, until: int, page: int) -> tuple[int, float, float]:
    """(events, wall seconds, CPU seconds) to read and decode positions 1..until the way
    the projector does."""
    recorder, mapper = services.app.recorder, services.app.mapper
    prefetch = getattr(mapper, "prefetch", None)
    start, events = 0, 0
    started, cpu = time.perf_counter(), time.process_time()
    while start < until:
        notifications = recorder.select_notifications(
            start=start, limit=page, stop=until, inclusive_of_start=False
        )
        if not notifications:
            break
        if prefetch is not None:
            prefetch({n.originator_id for n in notifications})
        for n in notifications:
            mapper.to_domain_event(n)
        events += len(notifications)
        start = notifications[-1].id
    return events, time.perf_counter() - started, time.process_time() - cpu


def recreate_read_models(settings: Settings) -> None:
    """Drop the read-model tables (their schema may have changed since the store was
    made), then let ``init_schema`` create them and any missing tracking rows."""
    # Where the projector writes them: on SQLite their own file beside the event store.
    url = settings.sqlalchemy_url()
    if not settings.is_postgres:
        url = f"sqlite:///{settings.read_models_path()}"
    engine = create_engine(url)
    try:
        tables = [t for p in build_projections(settings) for t in p.tables]
        metadata.drop_all(engine, tables=tables, checkfirst=True)
    finally:
        engine.dispose()
    init_schema(settings)


def reset_positions(projector: Projector) -> None:
    with projector.engine.begin() as conn:
        for projection in projector.projections:
            lock_position(conn, projection.name)
            reset_position(conn, projection.name)


class TimedProjector(Projector):
    """The projector, also adding up wall time per projection (lock, process, advance, commit)."""

    def __init__(self, base: Projector) -> None:
        super().__init__(base.recorder, base.mapper, base.engine, base.projections, base.batch_size)
        self.bulk_from = getattr(base, "bulk_from", 0)  # "before" runs: a projector without it
        self.spent: dict[str, float] = defaultdict(float)
        # CPU seconds too: on a shared machine they move far less than wall time.
        self.spent_cpu: dict[str, float] = defaultdict(float)

    def _apply(self, projection: Projection, *args: Any) -> int:
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return super()._apply(projection, *args)
        finally:
            self.spent[projection.name] += time.perf_counter() - started
            self.spent_cpu[projection.name] += time.process_time() - cpu

    def _restore_indexes(self, projections: Sequence[Projection]) -> None:
        started, cpu = time.perf_counter(), time.process_time()
        try:
            super()._restore_indexes(projections)
        finally:
            self.spent["(index builds)"] += time.perf_counter() - started
            self.spent_cpu["(index builds)"] += time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--limit", type=int, default=0, help="only the first N positions (0: all)")
    parser.add_argument("--batch-size", type=int, default=0, help="projector batch (0: its default)")
    parser.add_argument("--profile", help="write a cProfile of the catch-up to this file")
    # Fixed, not the projector's batch: on PostgreSQL 10k-row pages read slower than
    # 2k ones, and the bare figure should be the library's best, not flatter the ratio.
    parser.add_argument("--bare-page", type=int, default=2000, help="page size of the bare read")
    parser.add_argument(
        "--bulk-from", type=int, default=-1, help="projector's bulk_from (-1: its default; 0: always)"
    )
    parser.add_argument("--skip", action="append", default=[], help="leave out this projection (repeatable)")
    args = parser.parse_args()

    settings = Settings(database_url=args.database_url)
    recreate_read_models(settings)
    services = bootstrap(settings)
    try:
        base = services.projector
        base.projections = [p for p in base.projections if p.name not in args.skip]
        if args.batch_size:
            base.batch_size = args.batch_size
        if args.bulk_from >= 0:
            base.bulk_from = args.bulk_from
        log_end = services.app.recorder.max_notification_id() or 0
        until = min(log_end, args.limit) if args.limit else log_end
        print(f"store {args.database_url}: {log_end:,} events, projecting up to {until:,}")
        print(
            f"batch size {base.batch_size}, {len(base.projections)} projections, "
            f"indexes dropped from {getattr(base, 'bulk_from', 0):,} events"
        )

        events, bare_s, bare_cpu = bare_read_decode(services, until, args.bare_page)
        bare_rate = events / bare_s
        print(f"bare read+decode: {events:,} events in {bare_s:.1f}s = {bare_rate:,.0f} events/s")

        projector = TimedProjector(base)
        reset_positions(projector)
        profiler = cProfile.Profile() if args.profile else None
        started, cpu = time.perf_counter(), time.process_time()
        if profiler is not None:
            profiler.enable()
        projector.catch_up(until=until)
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.profile)
        catch_s, catch_cpu = time.perf_counter() - started, time.process_time() - cpu
        rate = events / catch_s
        print(f"catch-up from 0:  {events:,} events in {catch_s:.1f}s = {rate:,.0f} events/s")
        # Again after: on a shared machine the load moves; the ratio uses the mean of both.
        _, bare_after_s, bare_after_cpu = bare_read_decode(services, until, args.bare_page)
        print(f"bare read+decode again: {bare_after_s:.1f}s = {events / bare_after_s:,.0f} events/s")
        bare_rate = 2 * events / (bare_s + bare_after_s)
        # CPU seconds of this process: far less sensitive than wall time to other work on
        # the machine (the catch-up is CPU-bound; its fsyncs are at WAL checkpoints only).
        print(
            f"CPU seconds: bare {bare_cpu:.1f} / {bare_after_cpu:.1f}, catch-up {catch_cpu:.1f}; "
            f"ratio on CPU time: {(bare_cpu + bare_after_cpu) / 2 / catch_cpu:.2f}"
        )
        print(f"ratio catch-up / mean bare: {rate / bare_rate:.2f}  (target >= 0.25)")
        applied, applied_cpu = sum(projector.spent.values()), sum(projector.spent_cpu.values())
        print(
            f"read+decode inside catch-up: {catch_s - applied:.1f}s ({(catch_s - applied) / catch_s:.0%}), "
            f"CPU {catch_cpu - applied_cpu:.1f}s ({(catch_cpu - applied_cpu) / catch_cpu:.0%})"
        )
        print(f"  {'':<20} {'wall':>8}  {'share':>5}  {'CPU':>7}  {'share':>5}")
        for name, spent in sorted(projector.spent.items(), key=lambda kv: -kv[1]):
            spent_cpu = projector.spent_cpu[name]
            print(
                f"  {name:<20} {spent:7.1f}s  {spent / catch_s:5.1%}  "
                f"{spent_cpu:6.1f}s  {spent_cpu / catch_cpu:5.1%}"
            )
    finally:
        services.close()


if __name__ == "__main__":
    main()
