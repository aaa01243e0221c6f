"""A full rebuild shared between processes: the read models are emptied once, then
each process replays the whole log into its share of them.

Why: a rebuild is one core reading, decoding and applying 1M+ events (minutes on
the 2-core bench machine), and the projections are independent of one
another while they apply events (each reads only its own tables then; queries across
read models happen at read time). Every projection keeps its own tracked position, so
a share that fails or is interrupted resumes on the next catch-up like any projector.

Each process reads and decodes the log for itself: the win is the projections' own
work running side by side. On PostgreSQL the shares write concurrently (two
processes clearly beat one); on SQLite their transactions take turns on the
single write lock (barely a gain), so one process stays the default there.
"""

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

from smarketing.bootstrap import bootstrap
from smarketing.settings import Settings

# Each projection's share of a rebuild's time (bench/catchup.py at 1.2M events, both
# backends: docs/PERFORMANCE.md, "Projections"), to split the work evenly.
REPLAY_WEIGHT = {
    "lead_timeline": 18.0,
    "lead_summary": 14.0,
    "scorecard": 7.0,
    "scoring": 5.5,
    "scorecard_follow_up": 5.0,
    "score_state": 5.0,
    "funnel": 4.5,
    "follow_up": 1.5,
    "agreement_docs": 1.0,
}


def default_jobs(settings: Settings) -> int:
    return (os.cpu_count() or 1) if settings.is_postgres else 1


def shares(names: Sequence[str], jobs: int) -> list[list[str]]:
    """The projections in ``jobs`` groups of about equal replay weight (heaviest first,
    each to the lightest group so far); no empty group."""
    groups: list[list[str]] = [[] for _ in range(max(1, min(jobs, len(names))))]
    weights = [0.0] * len(groups)
    for name in sorted(names, key=lambda n: (-REPLAY_WEIGHT.get(n, 0.5), n)):
        lightest = weights.index(min(weights))
        groups[lightest].append(name)
        weights[lightest] += REPLAY_WEIGHT.get(name, 0.5)
    return groups


def rebuild(settings: Settings, jobs: int) -> int:
    """Empty the read models and replay the log into them in ``jobs`` processes; the
    number of event applications (as ``Projector.rebuild``)."""
    services = bootstrap(settings)
    try:
        if jobs <= 1:
            return services.projector.rebuild()
        services.projector.reset()
        groups = shares([p.name for p in services.projector.projections], jobs)
    finally:
        services.close()
    # spawn: a child must not inherit this process's connections (fork would share them).
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(groups), mp_context=context) as pool:
        return sum(pool.map(_catch_up, [settings] * len(groups), groups))


def _catch_up(settings: Settings, names: list[str]) -> int:
    services = bootstrap(settings)
    try:
        return services.projector.only(names).catch_up()
    finally:
        services.close()
