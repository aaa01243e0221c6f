"""Crash faults, on both backends: kill -9 a writer mid-batch, kill -9 a projector
mid-batch. Nothing half-written may survive, and after a restart the read
models must equal a rebuild (no event lost, none counted twice)."""

import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from domain.email_index import LeadEmailIndex
from projections.engine.schema import metadata
from projections.models.lead_summary import lead_summary
from projections.models.timeline import lead_timeline
from smarketing.bootstrap import Services
from smarketing.cli.demo_data import demo_leads

WORKER = Path(__file__).with_name("fault_worker.py")
ROOT = Path(__file__).resolve().parents[2]


def _start(mode: str, services: Services) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), mode, services.settings.database_url],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, env=os.environ | {"PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL


def _notifications(services: Services) -> list[Any]:
    result: list[Any] = []
    start = 0
    while batch := services.app.recorder.select_notifications(
        start=start, limit=1000, inclusive_of_start=False
    ):
        result += batch
        start = batch[-1].id
    return result


def _dump(services: Services) -> dict[str, list[tuple]]:
    with services.read_engine.connect() as conn:
        return {
            t.name: sorted((tuple(r) for r in conn.execute(select(t))), key=repr)
            for t in metadata.sorted_tables
        }


def _assert_matches_rebuild(services: Services) -> None:
    services.projector.catch_up()
    assert all(s.lag == 0 for s in services.projector.status())
    before = _dump(services)
    services.projector.rebuild()
    after = _dump(services)
    for name in after:
        assert after[name] == before[name], f"{name} differs from a rebuild"


def _wait_for_events(services: Services, count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while (services.app.recorder.max_notification_id() or 0) < count:
        assert time.monotonic() < deadline, "the child wrote too little"
        time.sleep(0.05)


def test_writer_killed_mid_batch_leaves_no_partial_history(services: Services) -> None:
    proc = _start("writer", services)
    try:
        _wait_for_events(services, 400)
        time.sleep(random.uniform(0.0, 0.4))  # somewhere inside a save or a catch-up
    finally:
        _kill(proc)

    streams: dict[Any, list[Any]] = defaultdict(list)
    indexed: set[Any] = set()
    for n in _notifications(services):
        streams[n.originator_id].append(n)
        if n.topic.startswith("domain.email_index:LeadEmailIndex"):
            event = services.app.mapper.to_domain_event(n)
            assert isinstance(event, LeadEmailIndex.Event)
            indexed.add(vars(event)["lead_id"])
    leads = {k: v for k, v in streams.items() if v[0].topic.startswith("domain.lead:Lead.")}
    assert len(leads) >= 30
    for lead_id, events in leads.items():
        assert [e.originator_version for e in events] == list(range(1, len(events) + 1)), lead_id
        assert events[0].topic.endswith("Lead.Captured"), lead_id
        assert lead_id in indexed, f"lead {lead_id} saved without its e-mail index entry"
    assert indexed == set(leads), "an index entry without its lead"
    # Restart: a new process's projector finishes the job, equal to a rebuild.
    _assert_matches_rebuild(services)


def test_projector_killed_mid_batch_resumes_without_double_counting(services: Services) -> None:
    leads = demo_leads("2026-10", datetime(2026, 10, 20, tzinfo=UTC), services.settings.tz, seed=5, months=3)
    services.app.capture_many(leads)
    log_end = services.app.recorder.max_notification_id() or 0
    proc = _start("projector", services)
    try:
        deadline = time.monotonic() + 30
        while min(services.projector.positions().values()) == 0:
            assert time.monotonic() < deadline, "the projector never committed a batch"
            time.sleep(0.02)
        time.sleep(random.uniform(0.05, 0.5))
    finally:
        _kill(proc)
    positions = services.projector.positions()
    assert 0 < min(positions.values()) and min(positions.values()) < log_end, positions

    services.projector.catch_up()
    lead_events = [n for n in _notifications(services) if n.topic.startswith("domain.lead:Lead.")]
    interactions = sum(n.topic.endswith("Lead.InteractionRecorded") for n in lead_events)
    with services.read_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(lead_timeline)).scalar_one() == len(lead_events)
        counted = conn.execute(select(func.sum(lead_summary.c.interactions))).scalar_one()
    assert counted == interactions, "an event was counted twice or lost"
    _assert_matches_rebuild(services)
