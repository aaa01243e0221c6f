"""Where a batch import's time goes, per event: ``capture_many`` as ``writes.py`` times
it, then each stage of it timed alone over other events of the same kind, beside raw
batched rows (a plain table, and one with the event log's keys) in the same directory.

SQLite. Run it on a disk directory (the bench's) and on tmpfs (``/dev/shm``: no fsync,
so what is left is CPU). Stages are the best of three passes over the same events.
The JSON line without datetimes is a diagnostic (the states with their datetimes
already written as text): what the transcoder's datetime hook costs, not a format the
app could store.

    cd bench && ../.venv/bin/python import_profile.py [--dir /dev/shm] [--leads 8000]
"""

import argparse
import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from common import OUT, machine  # type: ignore[import-not-found]
from eventsourcing.persistence import Notification, Recording, StoredEvent
from generate import bench_leads  # type: ignore[import-not-found]
from writes import Raw  # type: ignore[import-not-found]

from smarketing.bootstrap import bootstrap, init_schema
from smarketing.settings import Settings

BATCH = 1000  # leads per capture_many, as writes.py and the generator save them


def best_of_three(work: Callable[[], Any]) -> float:
    """The fastest of three passes, in seconds."""
    times = []
    for _ in range(3):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def encodable_state(event: Any) -> dict[str, Any]:
    """The state the mapper encodes (``PersonalDataMapper.to_stored_event``), unsealed."""
    state = dict(vars(event))
    state.pop("originator_id")
    state.pop("originator_version")
    return state


def recording(event: Any, stored: StoredEvent, position: int) -> Recording[Any]:
    """What the library's ``EventStore.put`` (9.5.6) makes of each saved event."""
    notification = Notification(
        originator_id=stored.originator_id,
        originator_version=stored.originator_version,
        topic=stored.topic,
        state=stored.state,
        id=position,
    )
    return Recording(event, notification)


def profile(directory: Path, leads: int) -> None:
    store = directory / f"import_profile_{os.getpid()}.sqlite3"
    settings = Settings(f"sqlite:///{store}")
    init_schema(settings)
    services = bootstrap(settings)
    try:
        app = services.app
        built = list(bench_leads(leads, seed=7))
        app.capture_many(built[:BATCH])  # untimed: a store that is not empty
        half = BATCH + (len(built) - BATCH) // 2
        saved, staged = built[BATCH:half], built[half:]

        events = sum(len(lead.pending_events) + 1 for lead in saved)  # + index entries
        wall, cpu = time.perf_counter(), time.process_time()
        for i in range(0, len(saved), BATCH):
            app.capture_many(saved[i : i + BATCH])
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(
            f"  capture_many: {events:,} events, {wall / events * 1e6:5.1f} µs wall, "
            f"{cpu / events * 1e6:5.1f} µs CPU per event"
        )

        # The stages alone, over the other half's lead events (their keys made first).
        lead_events = [e for lead in staged for e in lead.pending_events]
        app.mapper.prepare_keys(lead_events)
        stored = [app.mapper.to_stored_event(e) for e in lead_events]
        states = [encodable_state(e) for e in lead_events]
        texts = [{k: v.isoformat() if isinstance(v, datetime) else v for k, v in s.items()} for s in states]
        # The encoder the mapper itself uses (smarketing.store.event_encoding), as in a save.
        encode = app.mapper._encode or app.mapper.transcoder.encode
        to_stored_event = app.mapper.to_stored_event

        def recordings() -> list[Recording[Any]]:
            return [recording(e, s, n) for n, (e, s) in enumerate(zip(lead_events, stored, strict=True))]

        stages: list[tuple[str, Callable[[], Any]]] = [
            (
                "mapping: to_stored_event (copy, seal, JSON)",
                lambda: [to_stored_event(e) for e in lead_events],
            ),
            ("  JSON of the states", lambda: [encode(s) for s in states]),
            ("  JSON, datetimes already text (diagnostic)", lambda: [encode(s) for s in texts]),
            ("Recording + Notification objects (EventStore.put)", recordings),
        ]
        sealed = sum(1 for s in states if any((s.get("personal") or {}).values()))
        print(f"  stages alone, over {len(lead_events):,} lead events ({sealed} with personal data to seal):")
        for label, work in stages:
            print(f"    {label:<52} {best_of_three(work) / len(lead_events) * 1e6:5.2f} µs")
    finally:
        services.close()
        for leftover in directory.glob(f"{store.name}*"):
            leftover.unlink()


def raw_batched(directory: Path, rows: int, row_bytes: int) -> None:
    for shaped, label in ((False, "plain table"), (True, "table with the log's keys")):
        path = directory / f"raw_import_{os.getpid()}.sqlite3"
        raw = Raw(f"sqlite:///{path}", row_bytes, shaped=shaped)
        raw.batched(BATCH)  # untimed: a table that is not empty
        wall, cpu = time.perf_counter(), time.process_time()
        raw.batched(rows)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        raw.close()
        for leftover in directory.glob(f"{path.name}*"):
            leftover.unlink()
        print(
            f"  raw rows, 1000 per transaction, {label:<26} {wall / rows * 1e6:5.1f} µs wall, "
            f"{cpu / rows * 1e6:5.1f} µs CPU per row"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", type=Path, default=OUT, help="where the SQLite stores go")
    parser.add_argument("--leads", type=int, default=8000)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    print(machine(), "· load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"directory {args.dir}, {args.leads} simulated leads")
    profile(args.dir, args.leads)
    raw_batched(args.dir, 40_000, 291)


if __name__ == "__main__":
    main()
