"""A rebuild shared between processes (smarketing.cli.parallel_rebuild) leaves exactly the
read models and positions a one-process rebuild leaves."""

import itertools
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from app import create_app
from smarketing.bootstrap import Services
from smarketing.cli import parallel_rebuild
from smarketing.cli.demo_data import demo_leads
from smarketing.extensions import services as app_services
from tests.integration.test_rebuild_and_resume import dump

NOW = datetime(2026, 10, 20, tzinfo=UTC)


def _history(services: Services) -> None:
    leads = demo_leads(end_month="2026-10", now=NOW, tz=ZoneInfo("Europe/Madrid"), seed=11, months=2)
    saved = []
    while chunk := list(itertools.islice(leads, 50)):
        services.app.capture_many(chunk)
        saved += [str(lead.id) for lead in chunk]
    for n, lead_id in enumerate(saved[::7]):
        services.app.record_interaction(lead_id, kind="note", details=f"after import #{n}")
    services.projector.catch_up()


def test_shares_split_every_projection_once_and_evenly() -> None:
    names = [*parallel_rebuild.REPLAY_WEIGHT, "targets", "meetings"]
    for jobs in (1, 2, 3, 5):
        groups = parallel_rebuild.shares(names, jobs)
        assert len(groups) == jobs and all(groups)
        assert sorted(itertools.chain(*groups)) == sorted(names)
        weights = [sum(parallel_rebuild.REPLAY_WEIGHT.get(n, 0.5) for n in g) for g in groups]
        assert max(weights) <= sum(weights) / jobs + max(parallel_rebuild.REPLAY_WEIGHT.values())
    assert len(parallel_rebuild.shares(names[:2], 4)) == 2  # never an empty share


def test_a_parallel_rebuild_equals_a_one_process_rebuild(services: Services) -> None:
    _history(services)
    services.projector.rebuild()
    one_process = dump(services)
    assert len(one_process["lead_summary"]) > 50
    applied = parallel_rebuild.rebuild(services.settings, jobs=3)
    assert applied == services.projector.rebuild()  # every projection, every event, once
    parallel_rebuild.rebuild(services.settings, jobs=3)
    assert dump(services) == one_process  # read models and positions alike


def test_only_names_known_projections(services: Services) -> None:
    share = services.projector.only(["funnel", "lead_summary"])
    assert [p.name for p in share.projections] == ["lead_summary", "funnel"]
    with pytest.raises(ValueError, match="no such projections: nope"):
        services.projector.only(["funnel", "nope"])


@pytest.fixture
def flask_app(services: Services) -> Iterator[Flask]:
    app = create_app({"DATABASE_URL": services.settings.database_url, "TESTING": True})
    yield app
    app_services(app).close()


def test_the_cli_rebuilds_with_jobs_and_refuses_zero(services: Services, flask_app: Flask) -> None:
    _history(services)
    before = dump(services)
    runner = flask_app.test_cli_runner()
    result = runner.invoke(args=["projections", "rebuild", "--jobs", "2"])
    assert result.exit_code == 0, result.output
    assert "(2 processes)" in result.output
    assert dump(services) == before
    refused = runner.invoke(args=["projections", "rebuild", "--jobs", "0"])
    assert refused.exit_code == 2
    assert "--jobs" in refused.output
    assert dump(services) == before  # nothing emptied


def test_a_failed_rebuild_says_how_to_finish_and_catch_up_does(
    services: Services, flask_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    _history(services)
    before = dump(services)
    funnel = next(p for p in services.projector.projections if p.name == "funnel")
    process = type(funnel).process

    def failing(self: object, conn: object, events: list[object]) -> None:
        raise sqlite3.OperationalError("disk full")  # a store fault: a fault of an event is quarantined

    monkeypatch.setattr(type(funnel), "process", failing)
    result = flask_app.test_cli_runner().invoke(args=["projections", "rebuild", "--jobs", "1"])
    assert result.exit_code == 1
    assert "Rebuild stopped: OperationalError('disk full')" in result.output
    assert "flask projections catch-up" in result.output
    monkeypatch.setattr(type(funnel), "process", process)
    services.projector.catch_up()
    assert dump(services) == before
