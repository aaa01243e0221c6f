"""Why the event log uses the library's built-in recorders: notification reads
(what every projection catch-up and rebuild does) and single-event saves through
the built-in SQLite recorder vs the eventsourcing-sqlalchemy adapter, same file
system, same run.

eventsourcing-sqlalchemy is not a dependency of the app; run this in a scratch venv:

    python3 -m venv /tmp/esa && /tmp/esa/bin/pip install eventsourcing==9.5.6 eventsourcing-sqlalchemy==1.0.1
    /tmp/esa/bin/python bench/recorder_choice.py --events 100000
"""

import argparse
import tempfile
import time
from pathlib import Path

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event


class Counter(Aggregate):
    @event("Created")
    def __init__(self) -> None:
        self.count = 0

    @event("Incremented")
    def increment(self, note: str) -> None:
        self.count += 1


def environments(folder: Path) -> dict[str, dict[str, str]]:
    return {
        "built-in sqlite": {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": str(folder / "a.db"),
        },
        "sqlalchemy (sqlite)": {
            "PERSISTENCE_MODULE": "eventsourcing_sqlalchemy",
            "SQLALCHEMY_URL": f"sqlite:///{folder / 'b.db'}",
        },
    }


def measure(name: str, env: dict[str, str], events: int) -> None:
    app = Application(env=env)
    counters = [Counter() for _ in range(events // 100)]
    for counter in counters:
        for i in range(99):
            counter.increment(note=f"note {i}")
    app.save(*counters)
    started = time.perf_counter()
    position, read = 0, 0
    while True:
        batch = app.recorder.select_notifications(start=position, limit=1000, inclusive_of_start=False)
        if not batch:
            break
        for notification in batch:
            app.mapper.to_domain_event(notification)
        read += len(batch)
        position = batch[-1].id
    read_rate = read / (time.perf_counter() - started)
    counter = counters[0]
    started = time.perf_counter()
    saves = 500
    for i in range(saves):
        counter.increment(note=f"more {i}")
        app.save(counter)
    save_rate = saves / (time.perf_counter() - started)
    print(f"{name:<22} read+decode {read_rate:>9,.0f} events/s   single-event saves {save_rate:>7,.0f} /s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for name, env in environments(Path(folder)).items():
            measure(name, env, args.events)


if __name__ == "__main__":
    main()
