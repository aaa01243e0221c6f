"""Child processes for tests/integration/test_faults.py, killed with SIGKILL mid-work.

    python fault_worker.py writer DATABASE_URL    save chunks of leads (and catch up) forever
    python fault_worker.py projector DATABASE_URL catch up slowly, in small batches

The slow projection is a test-only wrapper (a sleep inside the projection's
transaction), so a kill lands mid-batch with high probability.
"""

import itertools
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from smarketing.bootstrap import bootstrap
from smarketing.cli.demo_data import demo_leads
from smarketing.settings import Settings


def writer(url: str) -> None:
    services = bootstrap(Settings(url))
    leads = demo_leads(
        "2026-10", datetime(2026, 10, 20, tzinfo=UTC), ZoneInfo("Europe/Madrid"), seed=3, months=24
    )
    print("ready", flush=True)
    while chunk := list(itertools.islice(leads, 40)):
        services.app.capture_many(chunk)
        services.projector.catch_up()


def projector(url: str) -> None:
    services = bootstrap(Settings(url))
    services.projector.batch_size = 25
    for projection in services.projector.projections:
        original = projection.process

        def slow(conn, events, original=original):  # type: ignore[no-untyped-def]
            original(conn, events)
            time.sleep(0.02)  # inside the transaction: a kill now loses only this batch

        projection.process = slow  # type: ignore[method-assign]
    print("ready", flush=True)
    services.projector.catch_up()
    print("done", flush=True)
    time.sleep(60)


if __name__ == "__main__":
    {"writer": writer, "projector": projector}[sys.argv[1]](sys.argv[2])
