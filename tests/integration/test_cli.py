"""The Flask CLI against a real store, on both backends."""

import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from app import create_app
from projections.models.agreement_docs import CRITERIA, PERSONA, current_docs, doc_history
from projections.models.lead_summary import lead_summary
from smarketing.extensions import services as app_services
from smarketing.settings import Settings


@pytest.fixture
def make_app(settings: Settings) -> Iterator[Callable[[], Flask]]:
    """Each call is like a new `flask` process on the same database."""
    apps: list[Flask] = []

    def make() -> Flask:
        apps.append(create_app({"DATABASE_URL": settings.database_url, "TESTING": True}))
        return apps[-1]

    try:
        yield make
    finally:
        for app in apps:
            app_services(app).close()


@pytest.fixture
def flask_app(make_app: Callable[[], Flask]) -> Flask:
    return make_app()


@pytest.fixture
def runner(flask_app: Flask) -> FlaskCliRunner:
    return flask_app.test_cli_runner()


@pytest.fixture
def initialised(make_app: Callable[[], Flask]) -> None:
    assert "Schema ready." in _ok(make_app().test_cli_runner(), "db", "init")


def _ok(runner: FlaskCliRunner, *args: str) -> str:
    result = runner.invoke(args=list(args))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def _status(runner: FlaskCliRunner) -> dict[str, tuple[int, int, int]]:
    lines = _ok(runner, "projections", "status").strip().splitlines()
    found = {}
    for line in lines:
        match = re.fullmatch(r"(\S+)\s+position\s+(\d+)\s+log\s+(\d+)\s+lag (\d+)", line.strip())
        assert match, line
        name, *numbers = match.groups()
        found[name] = tuple(int(n) for n in numbers)
    return found


def test_demo_data_runs_under_the_cli_runner(initialised: None, runner: FlaskCliRunner) -> None:
    """Every command works from ``app.test_cli_runner()`` (as ``db`` and ``projections`` do)."""
    output = _ok(runner, "demo-data", "--end-month", "2026-10", "--months", "2")
    assert "Loaded" in output
    assert "already holds events" in _ok(runner, "demo-data", "--end-month", "2026-10", "--if-empty")


def test_demo_data_needs_db_init(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["demo-data", "--end-month", "2026-10", "--months", "2"])
    assert result.exit_code != 0
    assert "db init" in result.output


def test_writes_work_after_db_init_in_the_same_process(flask_app: Flask, runner: FlaskCliRunner) -> None:
    """An app built before `db init` (a web worker started first, or a test) can write afterwards."""
    assert "Schema ready." in _ok(runner, "db", "init")
    svc = app_services(flask_app)
    lead_id = svc.app.capture_lead(name="Ana Alonso", email="ana@example.com", source="email")
    assert svc.app.get_lead(lead_id)["version"] == 1


def test_cli_end_to_end(make_app: Callable[[], Flask]) -> None:
    init = make_app().test_cli_runner()
    assert "Schema ready." in _ok(init, "db", "init")
    assert "Schema ready." in _ok(init, "db", "init")  # idempotent

    flask_app = make_app()  # the next `flask` command: a new process
    runner = flask_app.test_cli_runner()

    output = _ok(runner, "demo-data", "--end-month", "2026-10", "--months", "2")
    assert re.search(r"Loaded \d+ leads \(\d+ events\)", output), output
    svc = app_services(flask_app)
    log = svc.app.recorder.max_notification_id()
    assert log and log > 100

    again = _ok(runner, "demo-data", "--end-month", "2026-10", "--months", "2", "--if-empty")
    assert "already holds events" in again
    assert svc.app.recorder.max_notification_id() == log

    status = _status(runner)
    assert {"lead_summary", "funnel", "scorecard", "lead_timeline"} <= status.keys()
    assert all(entry == (log, log, 0) for entry in status.values()), status

    # The demo comes with the vocabulary both teams agreed with the first targets:
    # MQL and SQL criteria, and every persona its leads are tagged with.
    with svc.read_engine.connect() as conn:
        criteria, personas = current_docs(conn, CRITERIA), current_docs(conn, PERSONA)
        tagged = {persona for (persona,) in conn.execute(select(lead_summary.c.persona).distinct())}
        agreed = min(h["occurred_at"] for h in doc_history(conn, CRITERIA, PERSONA))
    assert set(criteria) == {"MQL", "SQL"} and all(criteria.values())
    assert tagged - {""} <= set(personas) and all(p["description"] for p in personas.values())
    assert agreed.strftime("%Y-%m") == "2026-09"  # with the demo's first targets (--months 2)

    assert "Applied 0 events" in _ok(runner, "projections", "catch-up")
    assert re.search(r"Rebuilt from \d+ event applications", _ok(runner, "projections", "rebuild"))
    assert all(entry == (log, log, 0) for entry in _status(runner).values())

    # A lead with a few events, shown with its timeline (oldest first).
    lead_id = svc.app.capture_lead(
        name="Ana Alonso", email="ana.cli@example.com", company="Acme", source="events"
    )
    svc.app.change_stage(lead_id, to_stage="MQL")
    svc.app.assign_owner(lead_id, owner="lucia.romero", team="sales")
    behind = _ok(runner, "lead", "show", lead_id)
    assert "projection is behind" in behind
    svc.projector.catch_up()
    shown = _ok(runner, "lead", "show", lead_id)
    assert "projection is behind" not in shown
    lines = shown.splitlines()
    assert lines[0] == "Ana Alonso <ana.cli@example.com> — Acme"
    assert lines[1] == "Stage MQL · owner lucia.romero · source events"
    assert "Captured from events" in lines[2]
    assert "Stage Lead → MQL" in lines[3]
    # The demo's round-robin rule assigned the new MQL first (the daily loop), then a person.
    assert "Owner: demo-sales (sales) by the rule round_robin" in lines[4]
    assert "Owner: lucia.romero (sales)" in lines[5]
    assert [line.split()[0] for line in lines[2:]] == ["1", "2", "3", "4"]
    assert all("system" in line for line in lines[2:])


def test_lead_show_unknown_or_malformed(initialised: None, runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["lead", "show", "nonsense"])
    assert result.exit_code == 1
    assert "Error: No lead with id 'nonsense'." in result.output
    result = runner.invoke(args=["lead", "show", "00000000-0000-0000-0000-000000000000"])
    assert result.exit_code == 1
    assert "No lead with id" in result.output
