"""A long replay into empty tables drops their secondary indexes and builds them
once at the end (projections.engine.bulk_indexes): same rows as an incremental
catch-up, and the indexes come back even when the replay is interrupted."""

import itertools
import sqlite3
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Table, inspect, select

from projections.engine import bulk_indexes
from projections.engine.projector import Projection
from projections.engine.schema import tracking
from projections.models.lead_summary import lead_summary
from smarketing.bootstrap import Services, init_schema
from smarketing.cli.demo_data import demo_leads
from tests.integration.test_rebuild_and_resume import dump

NOW = datetime(2026, 10, 20, tzinfo=UTC)
TZ = ZoneInfo("Europe/Madrid")


def _index_names(bind: Any, table: Table) -> set[str]:
    return {index["name"] for index in inspect(bind).get_indexes(table.name)}


def _all_secondary(services: Services) -> dict[str, set[str]]:
    """Per table of every projection, the names of its missing secondary indexes."""
    missing = {}
    for projection in services.projector.projections:
        for table in projection.bulk_tables():
            wanted = {str(index.name) for index in bulk_indexes.secondary_indexes([table])}
            missing[table.name] = wanted - _index_names(services.read_engine, table)
    return missing


def _markers(services: Services) -> set[str]:
    with services.read_engine.connect() as conn:
        names = conn.execute(select(tracking.c.projection)).scalars()
        return {name for name in names if name.startswith(bulk_indexes.MARKER)}


def _projection(services: Services, name: str) -> Projection:
    return next(p for p in services.projector.projections if p.name == name)


def _capture_incrementally(services: Services) -> None:
    leads = demo_leads(end_month="2026-10", now=NOW, tz=TZ, seed=11, months=2)
    while chunk := list(itertools.islice(leads, 60)):
        services.app.capture_many(chunk)
        services.projector.catch_up()
    assert not _markers(services)


def test_replay_without_indexes_gives_the_same_rows(services: Services) -> None:
    services.projector.batch_size = 97
    _capture_incrementally(services)
    incremental = dump(services)

    seen_during: list[set[str]] = []
    summary = _projection(services, "lead_summary")
    original = summary.process

    def spying(conn: Any, events: Any) -> None:
        seen_during.append(_index_names(conn, lead_summary))  # inside the projector's transaction
        original(conn, events)

    summary.process = spying  # type: ignore[method-assign]
    services.projector.bulk_from = 1
    assert services.projector.rebuild() > 0

    # Dropped while replaying (the primary key stays), all back afterwards.
    assert len(seen_during) > 1
    assert all(not (names & {"ix_lead_summary_stage", "ix_lead_summary_email"}) for names in seen_during)
    assert not any(_all_secondary(services).values())
    assert not _markers(services)
    assert dump(services) == incremental


def test_short_replays_keep_their_indexes(services: Services) -> None:
    _capture_incrementally(services)
    summary = _projection(services, "lead_summary")
    original = summary.process
    seen_during: list[set[str]] = []

    def spying(conn: Any, events: Any) -> None:
        seen_during.append(_index_names(conn, lead_summary))  # inside the projector's transaction
        original(conn, events)

    summary.process = spying  # type: ignore[method-assign]
    services.projector.rebuild()  # the default threshold is far above this log
    assert seen_during and all("ix_lead_summary_stage" in names for names in seen_during)


@pytest.mark.parametrize("recovery", ["next_catch_up", "init_schema"])
def test_interrupted_replay_gets_its_indexes_back(
    services: Services, monkeypatch: pytest.MonkeyPatch, recovery: str
) -> None:
    services.projector.batch_size = 97
    _capture_incrementally(services)
    incremental = dump(services)

    funnel = _projection(services, "funnel")
    original = funnel.process
    calls: list[int] = []

    def crashing(conn: Any, events: Any) -> None:
        calls.append(len(events))
        if len(calls) == 3:
            raise KeyboardInterrupt("killed")  # not an Exception: never quarantined, as a kill
        original(conn, events)

    monkeypatch.setattr(funnel, "process", crashing)
    # A killed process runs no clean-up: nothing restores the indexes on the way out.
    monkeypatch.setattr(services.projector, "_restore_indexes", lambda projections: None)
    services.projector.bulk_from = 1
    with pytest.raises(KeyboardInterrupt, match="killed"):
        services.projector.rebuild()
    assert _all_secondary(services)["lead_summary"]
    assert bulk_indexes.marker("lead_summary") in _markers(services)

    monkeypatch.undo()
    if recovery == "init_schema":
        init_schema(services.settings)
        assert not any(_all_secondary(services).values())
    services.projector.bulk_from = 10**9
    services.projector.catch_up()
    assert not any(_all_secondary(services).values())
    assert not _markers(services)
    assert dump(services) == incremental


def test_an_error_during_the_replay_still_restores_the_indexes(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    services.projector.batch_size = 97
    _capture_incrementally(services)
    scorecard = _projection(services, "scorecard")

    def failing(conn: Any, events: Any) -> None:
        # A store fault propagates (a fault of the event is quarantined: test_quarantine.py).
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(scorecard, "process", failing)
    services.projector.bulk_from = 1
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        services.projector.rebuild()
    assert not any(_all_secondary(services).values())
    assert not _markers(services)
