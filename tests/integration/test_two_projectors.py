"""Two projector processes catch up the same store while it is being written:
every event is applied exactly once per projection, as a rebuild would."""

import itertools
import multiprocessing
import time
import traceback
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from projections.engine.schema import metadata
from projections.models.scorecard import sla_facts
from projections.models.timeline import lead_timeline
from smarketing.bootstrap import Services, bootstrap
from smarketing.cli.demo_data import demo_leads
from smarketing.settings import Settings

WORKERS = 2
WRITE_SECONDS = 4.0


def project_until_stopped(database_url: str, timezone: str, stop: Any, results: Any, worker: int) -> None:
    """Child process: catch up again and again, in small batches, until told to stop."""
    try:
        services = bootstrap(Settings(database_url=database_url, timezone=timezone))
        services.projector.batch_size = 50
        applied = rounds = 0
        try:
            while True:
                stopping = stop.is_set()
                done = services.projector.catch_up()
                applied += done
                rounds += 1
                if stopping and done == 0:
                    break
                time.sleep(0.005)
        finally:
            services.close()
        results.put((worker, "ok", applied, rounds))
    except BaseException:  # noqa: BLE001 - reported to the parent, which fails the test
        results.put((worker, "error", traceback.format_exc(), 0))


def _dump(services: Services) -> dict[str, list[tuple]]:
    with services.read_engine.connect() as conn:
        return {
            t.name: sorted((tuple(r) for r in conn.execute(select(t))), key=repr)
            for t in metadata.sorted_tables
        }


def _notifications(services: Services) -> list[Any]:
    result: list[Any] = []
    start = 0
    while batch := services.app.recorder.select_notifications(
        start=start, limit=1000, inclusive_of_start=False
    ):
        result += batch
        start = batch[-1].id
    return result


def test_two_projector_processes_never_double_count(services: Services) -> None:
    settings = services.settings
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    results = context.Queue()
    workers = [
        context.Process(
            target=project_until_stopped,
            args=(settings.database_url, settings.timezone, stop, results, n),
            daemon=True,
        )
        for n in range(WORKERS)
    ]
    for worker in workers:
        worker.start()
    try:
        leads = demo_leads(
            end_month="2026-10", now=datetime(2026, 10, 20, tzinfo=UTC), tz=ZoneInfo("Europe/Madrid"), seed=11
        )
        deadline = time.monotonic() + WRITE_SECONDS
        written: list[str] = []
        while time.monotonic() < deadline:
            chunk = list(itertools.islice(leads, 15))
            if not chunk:
                break
            services.app.capture_many(chunk)
            written += [str(lead.id) for lead in chunk]
            # Updates to leads the projectors may already have seen.
            for lead_id in written[-30::7]:
                services.app.record_interaction(lead_id, kind="note", details="while projecting")
            time.sleep(0.02)
    finally:
        stop.set()
        outcomes = [results.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
    errors = [o[2] for o in outcomes if o[1] != "ok"]
    assert not errors, "\n".join(errors)
    assert [w.exitcode for w in workers] == [0] * WORKERS
    assert len(written) > 50

    notifications = _notifications(services)
    projections = services.projector.projections
    assert all(status.lag == 0 for status in services.projector.status())
    # Each event applied exactly once per projection, whichever process did it.
    assert sum(o[2] for o in outcomes) == len(notifications) * len(projections)

    lead_events = [n for n in notifications if n.topic.startswith("domain.lead:Lead.")]
    with services.read_engine.connect() as conn:
        timeline_rows = conn.execute(select(func.count()).select_from(lead_timeline)).scalar_one()
        per_event = conn.execute(
            select(func.count()).select_from(
                select(lead_timeline.c.position).group_by(lead_timeline.c.position).subquery()
            )
        ).scalar_one()
        facts = conn.execute(select(func.count()).select_from(sla_facts)).scalar_one()
    assert timeline_rows == per_event == len(lead_events)

    concurrent = _dump(services)
    services.projector.rebuild()
    rebuilt = _dump(services)
    assert len(rebuilt["sla_facts"]) == facts
    assert len(rebuilt["lead_summary"]) == len(written)
    for name in rebuilt:
        assert rebuilt[name] == concurrent[name], f"{name} differs from a rebuild"
