"""The single projector process: catch up, sleep briefly, repeat until SIGTERM.

Why a separate process at all, when every write already catches up before it
responds: writes made outside the web app (imports run from the CLI, API
clients in another deployment, a worker that crashed after saving but before
catching up) still reach the read models within ``interval`` seconds, and
PDF/dashboard readers never pay for a long backlog. Running it twice is safe:
the tracking row is locked per batch, so two projectors never apply an event
twice (tests/integration/test_two_projectors.py).

It also keeps the monthly report's replica warm (``smarketing.reports.replica``),
a few seconds of it per turn, so a report download only applies the last
events instead of building the replica itself.

Stopping: SIGTERM/SIGINT set a flag; the loop finishes the batch in hand (its
transaction commits or rolls back as a whole) and exits 0. A kill -9 mid-batch
loses only that uncommitted batch, redone on restart
(tests/integration/test_faults.py).
"""

import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

from projections.engine.quarantine import UNAVAILABLE
from smarketing.bootstrap import Services
from smarketing.reports.replica import ReportReplica, open_replica

# Seconds per turn for the report replica: a cold build (minutes at a million
# events) then never holds the live read models back for longer than this.
REPLICA_BUDGET = 5.0


def run_projector(
    services: Services,
    *,
    interval: float = 0.5,
    stop: threading.Event | None = None,
    report: Callable[[str], None] = print,
) -> int:
    """Loop until ``stop`` is set (by SIGTERM/SIGINT when run in the main thread)."""
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():

        def _stop(signum: int, _frame: FrameType | None) -> None:
            report(f"projector: signal {signum}, stopping after the current batch")
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
    total = 0
    report(f"projector: running, catching up every {interval}s")
    app = services.app
    replica = open_replica(services.settings, app.recorder, app.mapper)
    try:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                applied = services.projector.catch_up()
            except UNAVAILABLE as error:
                # Locked or unreachable for now: try again next turn rather than exit
                # (a fault of an event never gets here: it is quarantined).
                report(f"projector: store unavailable, retrying: {error!r}")
                stop.wait(interval)
                continue
            total += applied
            if applied:
                report(f"projector: applied {applied} events in {time.perf_counter() - started:.2f}s")
            _warm(replica, report)
            stop.wait(interval)
    finally:
        replica.close()
    report(f"projector: stopped after {total} event applications")
    return total


def _warm(replica: ReportReplica, report: Callable[[str], None]) -> None:
    try:
        replica.prepare()  # rebuilt if the code changed or the store was replaced
        replica.catch_up(budget=REPLICA_BUDGET)
    except Exception as error:  # noqa: BLE001 - a report cache must never stop the read models
        report(f"projector: report replica not updated: {error!r}")
