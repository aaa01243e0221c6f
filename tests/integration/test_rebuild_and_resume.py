"""Incremental catch-up, crash and resume, and a full rebuild all give the same read models."""

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from domain.lead import Lead
from projections.engine.projector import Projection
from projections.engine.schema import metadata, tracking
from projections.models.scorecard import sla_facts
from projections.models.timeline import lead_timeline
from smarketing.bootstrap import Services
from smarketing.cli.demo_data import demo_leads

NOW = datetime(2026, 10, 20, tzinfo=timezone.utc)  # noqa: UP017 - as the brief spells it
TZ = ZoneInfo("Europe/Madrid")


def _chunks(leads: Iterator[Lead], size: int) -> Iterator[list[Lead]]:
    while chunk := list(itertools.islice(leads, size)):
        yield chunk


def dump(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    """Every read-model table (and the positions), rows sorted."""
    with services.read_engine.connect() as conn:
        return {
            table.name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
            for table in metadata.sorted_tables
        }


def _read_model_tables(services: Services) -> dict[str, list[tuple[Any, ...]]]:
    tables = dump(services)
    del tables[tracking.name]
    return tables


def _lead_event_count(services: Services, until: int | None = None) -> int:
    count = 0
    start = 0
    while True:
        notifications = services.app.recorder.select_notifications(
            start=start, limit=1000, stop=until, inclusive_of_start=False
        )
        if not notifications:
            return count
        count += sum(1 for n in notifications if n.topic.startswith("domain.lead:Lead."))
        start = notifications[-1].id


def _projection(services: Services, name: str) -> Projection:
    return next(p for p in services.projector.projections if p.name == name)


def _more_writes(services: Services, lead_ids: list[str], round_no: int) -> None:
    """Changes to leads the projections have already seen."""
    app = services.app
    for n, lead_id in enumerate(lead_ids):
        app.record_interaction(lead_id, kind="note", channel="other", details=f"round {round_no} #{n}")
        if n % 3 == 0:
            app.assign_owner(lead_id, owner=f"owner.{round_no}.{n}", team="sales")
        lead = app.get_lead(lead_id)
        if n % 4 == 1 and "Disqualified" in lead["allowed_moves"]:
            app.change_stage(lead_id, to_stage="Disqualified", reason=f"round {round_no}")


def test_rebuild_equals_incremental_catch_up(services: Services) -> None:
    services.projector.batch_size = 97
    leads = demo_leads(end_month="2026-10", now=NOW, tz=TZ, seed=7, months=3)
    saved: list[str] = []
    for round_no, chunk in enumerate(_chunks(leads, 40)):
        services.app.capture_many(chunk)
        saved += [str(lead.id) for lead in chunk]
        if round_no % 2:
            # Part of the way only, stopping in the middle of the log.
            log = services.app.recorder.max_notification_id() or 0
            services.projector.catch_up(until=log - 13)
        else:
            services.projector.catch_up()
        _more_writes(services, saved[-40:][::9], round_no)
    services.projector.catch_up()
    log = services.app.recorder.max_notification_id()
    assert all(status.lag == 0 for status in services.projector.status())
    assert len(saved) > 200

    incremental = dump(services)
    assert len(incremental["lead_summary"]) == len(saved)
    assert len(incremental["lead_timeline"]) == _lead_event_count(services)
    assert services.projector.rebuild() > 0
    rebuilt = dump(services)
    assert services.projector.positions() == dict.fromkeys(services.projector.positions(), log)
    assert rebuilt.keys() == incremental.keys()
    for name in rebuilt:
        assert rebuilt[name] == incremental[name], f"{name} differs after a rebuild"


@pytest.mark.parametrize(("failing", "good_calls"), [("scorecard", 0), ("lead_timeline", 2), ("funnel", 1)])
def test_crash_in_the_middle_of_a_batch_then_resume(
    services: Services, monkeypatch: pytest.MonkeyPatch, failing: str, good_calls: int
) -> None:
    services.projector.batch_size = 97
    leads = demo_leads(end_month="2026-10", now=NOW, tz=TZ, seed=7, months=3)
    chunks = _chunks(leads, 50)
    services.app.capture_many(next(chunks))
    services.projector.catch_up()
    before = dump(services)
    start = before_position = services.projector.positions()[failing]
    for chunk in itertools.islice(chunks, 3):
        services.app.capture_many(chunk)

    projection = _projection(services, failing)
    original = projection.process
    calls: list[int] = []
    committed: list[int] = []

    def faulty(conn, events):
        calls.append(len(events))
        if len(calls) > good_calls:
            original(conn, events[: len(events) // 2])  # half the batch written...
            raise RuntimeError("projection crashed")  # ...then the crash
        original(conn, events)
        committed.append(events[-1][0])

    monkeypatch.setattr(projection, "process", faulty)
    services.projector.catch_up()  # the crash quarantines the batch's first event (it fails alone too)
    assert len(calls) == good_calls + 2  # the batch, then that event alone in a savepoint
    assert list(services.projector.stuck()) == [projection.name]

    after_crash = dump(services)
    position = services.projector.positions()[failing]
    assert position == (committed[-1] if committed else before_position)
    if not good_calls:
        # Nothing of the failed batch is visible: its tables and position are as before.
        for table in projection.tables:
            assert after_crash[table.name] == before[table.name]
        assert position == start
    if failing == "lead_timeline":
        with services.read_engine.connect() as conn:
            beyond = conn.execute(
                select(func.count()).select_from(lead_timeline).where(lead_timeline.c.position > position)
            ).scalar_one()
            rows = conn.execute(select(func.count()).select_from(lead_timeline)).scalar_one()
        assert beyond == 0
        assert rows == _lead_event_count(services, until=position)

    # The fault is fixed; resuming finishes the job, without losing or repeating anything.
    monkeypatch.setattr(projection, "process", original)
    services.projector.release(projection.name)
    services.projector.catch_up()
    assert all(status.lag == 0 for status in services.projector.status())
    resumed = dump(services)
    with services.read_engine.connect() as conn:
        timeline_rows = conn.execute(select(func.count()).select_from(lead_timeline)).scalar_one()
        facts = conn.execute(select(func.count()).select_from(sla_facts)).scalar_one()
    assert timeline_rows == _lead_event_count(services)

    services.projector.rebuild()
    rebuilt = dump(services)
    assert len(rebuilt["sla_facts"]) == facts
    for name in rebuilt:
        assert rebuilt[name] == resumed[name], f"{name} differs from a rebuild after resuming"


def test_rebuild_of_an_empty_log(services: Services) -> None:
    assert services.projector.rebuild() == 0
    assert all(status.lag == 0 and status.position == 0 for status in services.projector.status())
    assert all(rows == [] for rows in _read_model_tables(services).values())


def test_status_reports_lag(services: Services) -> None:
    services.app.capture_lead(
        name="Ana Alonso",
        email="ana@example.com",
        source="email",
        occurred_at=datetime(2026, 10, 1, tzinfo=UTC),
    )
    log = services.app.recorder.max_notification_id()
    names = [p.name for p in services.projector.projections]
    assert {"lead_summary", "funnel", "scorecard", "lead_timeline"} <= set(names)
    assert {s.name: s.lag for s in services.projector.status()} == dict.fromkeys(names, log)
    services.projector.catch_up()
    assert {s.lag for s in services.projector.status()} == {0}
