"""The report replica gives exactly the figures and digest of a full replay of
the log into memory, at every position asked for, whatever happened to it: a
later position (fallback), a catch-up killed half-way, code that changed, a
store that was replaced. And a web download never waits for a cold build."""

import dataclasses
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import insert, update

from projections.models.scorecard import sla_facts
from smarketing.bootstrap import Services, bootstrap, init_schema
from smarketing.cli.demo_data import demo_leads
from smarketing.cli.projector_loop import run_projector
from smarketing.reports import month_digest, replay
from smarketing.reports.replay import ReportNotReady, monthly_figures, read_figures, replay_engine
from smarketing.reports.replica import open_replica, replica_meta, report_projections
from smarketing.settings import Settings
from smarketing.web.sla import reports as web_reports
from tests.integration.conftest import LoginFn
from tests.integration.fixed_history import build_history
from tests.integration.test_report import small_history

TODAY = date(2026, 11, 26)
MONTHS = ("2025-03", "2026-09", "2026-10", "2026-11")


def replayed(services: Services, month: str, position: int) -> dict[str, Any]:
    """The figures by the slow road: every event up to ``position`` into memory."""
    engine = replay_engine(services, position, report_projections(services.settings))
    try:
        with engine.connect() as conn:
            return comparable(read_figures(conn, month, position, TODAY))
    finally:
        engine.dispose()


def comparable(figures: replay.MonthlyFigures) -> dict[str, Any]:
    values = dataclasses.asdict(figures)
    del values["generated_at"], values["discuss"]  # the clock; derived from the rest
    return values


def from_replica(services: Services, month: str, position: int | None = None) -> dict[str, Any]:
    return comparable(monthly_figures(services, month, log_position=position, today=TODAY))


def replica_position(services: Services) -> int:
    app = services.app
    replica = open_replica(services.settings, app.recorder, app.mapper)
    try:
        return replica.position()
    finally:
        replica.close()


def history(services: Services) -> list[int]:
    """March 2025 and autumn 2026, with late, backdated and erasing events between
    them; returns the log positions after each step."""
    app, positions = services.app, []
    leads = small_history(services)
    positions.append(app.recorder.max_notification_id())
    build_history(services)
    positions.append(app.recorder.max_notification_id())
    # Recorded now, dated in March 2025: changes a month long closed.
    app.capture_lead(
        name="Late Lara",
        email="lara@example.com",
        source="social",
        occurred_at=datetime(2025, 3, 28, 9, tzinfo=UTC),
    )
    app.log_contact_attempt(
        leads["b"], channel="phone", outcome="connected", occurred_at=datetime(2025, 3, 30, 9, tzinfo=UTC)
    )
    positions.append(app.recorder.max_notification_id())
    app.erase_personal_data(leads["a"], "Asked to be forgotten")  # a won deal's customer
    positions.append(app.recorder.max_notification_id())
    now = datetime(2026, 11, 20, tzinfo=UTC)
    app.capture_many(demo_leads("2026-11", now, services.settings.tz, months=2))
    positions.append(app.recorder.max_notification_id())
    return positions


def test_replica_equals_full_replay_at_every_position(services: Services) -> None:
    positions = history(services)
    for position in positions:  # in log order: the replica only ever moves forward
        for month in MONTHS:
            assert from_replica(services, month, position) == replayed(services, month, position), (
                month,
                position,
            )
        assert replica_position(services) == position
    latest = from_replica(services, "2025-03")
    assert latest == replayed(services, "2025-03", positions[-1])
    # The erased customer is still counted, without a name.
    won = latest["deals"]["won"]
    assert [(d["name"], str(d["amount"])) for d in won] == [("", "5000.00")]
    # Anyone holding the log recomputes the digest the report prints.
    app = services.app
    for month in MONTHS:
        figures = from_replica(services, month)
        recomputed = month_digest.recompute(
            app.recorder, app.mapper, services.settings.tz, month, positions[-1]
        )
        assert (figures["digest"], figures["events_in_month"]) == recomputed, month


def test_digest_changes_only_with_the_months_own_events(services: Services) -> None:
    positions = history(services)
    march = [from_replica(services, "2025-03", p) for p in positions]
    # Late and backdated events (step 3) change March; the erasure is dated now, not in March.
    assert march[0]["digest"] == march[1]["digest"] != march[2]["digest"]
    assert march[2]["digest"] == march[3]["digest"] == march[4]["digest"]
    assert march[2]["events_in_month"] == march[1]["events_in_month"] + 2


def test_a_position_the_replica_has_passed_is_replayed(services: Services) -> None:
    positions = history(services)
    from_replica(services, "2026-10")  # the replica now stands at the end of the log
    for position in positions[:-1]:
        assert from_replica(services, "2026-10", position) == replayed(services, "2026-10", position)
        assert from_replica(services, "2025-03", position) == replayed(services, "2025-03", position)
    assert replica_position(services) == positions[-1]  # left where it was


def test_a_killed_catch_up_resumes(services: Services) -> None:
    positions = history(services)
    app = services.app
    replica = open_replica(services.settings, app.recorder, app.mapper)
    replica.projector.batch_size = 7
    funnel = next(p for p in replica.projections if p.name == "funnel")
    process, calls = funnel.process, []

    def dies_on_the_fifth_batch(conn: Any, events: Any) -> None:
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt("killed")  # the transaction of this batch rolls back
        process(conn, events)

    funnel.process = dies_on_the_fifth_batch  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        replica.catch_up()
    stuck = replica.projector.positions()
    replica.close()
    assert len(set(stuck.values())) > 1  # some projections ahead of the funnel
    for month in MONTHS:
        assert from_replica(services, month) == replayed(services, month, positions[-1])


def test_replica_of_other_code_or_another_store_is_rebuilt(services: Services, tmp_path: Path) -> None:
    positions = history(services)
    before = from_replica(services, "2026-10")
    app = services.app
    replica = open_replica(services.settings, app.recorder, app.mapper)
    with replica.write_engine.begin() as conn:  # as if built by other code, with its own ideas
        conn.execute(update(replica_meta).values(code_version="older code"))
        conn.execute(
            insert(sla_facts).values(
                lead_id="x" * 32,
                version=1,
                kind="captured",
                month="2026-10",
                source="s",
                sourced_by="marketing",
                campaign="",
                owner="",
                occurred_at=datetime(2026, 10, 2),
            )
        )
    replica.close()
    assert from_replica(services, "2026-10") == before == replayed(services, "2026-10", positions[-1])

    # Another store, pointed at the same replica file: nothing of the first may remain.
    other = Settings(
        database_url=f"sqlite:///{tmp_path / 'other.sqlite3'}",
        report_replica=str(services.settings.report_replica_path()),
    )
    init_schema(other)
    second = bootstrap(other)
    try:
        small_history(second)
        assert from_replica(second, "2026-10")["funnel"]["stages"][0]["count"] == 0
        assert from_replica(second, "2025-03") == replayed(
            second, "2025-03", second.app.recorder.max_notification_id()
        )
    finally:
        second.close()


def test_an_erasure_reaches_the_replica_at_once(services: Services, web_app: Flask) -> None:
    leads = small_history(services)
    position = services.app.recorder.max_notification_id()
    assert from_replica(services, "2025-03")["deals"]["won"][0]["name"] == "Ana Ruiz"
    result = web_app.test_cli_runner().invoke(args=["audit", "erase", leads["a"], "--reason", "request 46"])
    assert result.exit_code == 0, result.output
    assert replica_position(services) == position  # not caught up, yet the name is gone
    at_position = from_replica(services, "2025-03", position)
    assert at_position["deals"]["won"][0]["name"] == ""
    assert at_position == replayed(services, "2025-03", position)


def test_a_cold_replica_does_not_hold_a_web_request(
    services: Services, web_app: Flask, login: LoginFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    history(services)
    with pytest.raises(ReportNotReady, match="being prepared"):
        monthly_figures(services, "2026-10", today=TODAY, budget=0.0)
    monkeypatch.setattr(web_reports, "CATCH_UP_BUDGET", 0.0)
    client = login(web_app.test_client(), "manager")
    response = client.get("/reports/monthly.pdf?month=2026-10&lang=en")
    assert response.status_code == 503 and response.headers["Retry-After"] == "60"
    assert b"being prepared" in response.data
    assert from_replica(services, "2026-10")["has_data"]  # no budget: it builds
    monkeypatch.setattr(web_reports, "CATCH_UP_BUDGET", 15.0)
    response = client.get("/reports/monthly.pdf?month=2026-10&lang=en")
    assert response.status_code == 200 and response.data.startswith(b"%PDF-")


def test_the_projector_process_keeps_the_replica_warm(services: Services) -> None:
    history(services)
    stop = threading.Event()
    thread = threading.Thread(
        target=run_projector,
        args=(services,),
        kwargs={"stop": stop, "interval": 0.05, "report": lambda _m: None},
    )
    thread.start()
    try:
        latest = services.app.recorder.max_notification_id()
        deadline = datetime.now(UTC) + timedelta(seconds=60)
        while replica_position(services) < latest and datetime.now(UTC) < deadline:
            stop.wait(0.05)
    finally:
        stop.set()
        thread.join()
    assert replica_position(services) == latest
