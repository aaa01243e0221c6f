"""Several gunicorn workers, one store: a write made through one worker is seen
by the very next request, whichever worker serves it; and a soak of mixed
requests leaves the log and the read models consistent."""

import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from projections.models.lead_summary import lead_summary
from smarketing.bootstrap import Services
from smarketing.cli.demo_data import demo_leads
from smarketing.service import users
from tests.integration.test_faults import _assert_matches_rebuild, _notifications

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from loadclient import Session, mixed_load, serve  # type: ignore[import-not-found]

PASSWORD = "gunicorn-test-password"
WORKERS = 3


def _user(services: Services, name: str) -> tuple[str, str]:
    users.create_user(services.write_engine, actor="test", username=name, role="manager", password=PASSWORD)
    return name, PASSWORD


def test_a_write_is_visible_on_the_next_request_to_any_worker(services: Services) -> None:
    writer, readers = _user(services, "writer"), [_user(services, f"reader{n}") for n in range(WORKERS)]
    with serve(services.settings.database_url, WORKERS) as port:
        author = Session(port)
        author.login(*writer)
        sessions = []
        for reader in readers:
            session = Session(port)
            session.login(*reader)
            sessions.append(session)
        for round_ in range(5):
            email = f"ryw-{round_}-{uuid.uuid4().hex[:8]}@example.com"
            form = {"name": f"Visible {round_}", "email": email, "company": "Acme", "source": "referral"}
            status, _ = author.post("/leads/new", form, htmx=False)
            assert status == 303
            # gunicorn's sync workers close each connection, so these land on any worker.
            for session in sessions:
                status = session.get(f"/leads/?q={email}")
                assert status == 200
                assert f"Visible {round_}" in session.last_text, "a worker served a stale read model"


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_soak_mixed_requests_over_workers_on_postgres(services: Services) -> None:
    leads = list(demo_leads("2026-10", _now(), services.settings.tz, seed=9, months=3))
    services.app.capture_many(leads)
    services.projector.catch_up()
    before = _event_count(services)
    logins = [_user(services, f"soak{n}") for n in range(6)]
    with serve(services.settings.database_url, WORKERS) as port:
        result = mixed_load(port, logins, [lead.id.hex for lead in leads], total=2000, seconds=40)
    assert not result.errors, result.errors[:3]
    assert result.requests >= 500, result
    assert not [s for s in result.statuses if s >= 500], result.statuses
    assert set(result.statuses) <= {200, 409}, result.statuses  # 409: two writers raced on one lead
    # Counted, not subtracted: PostgreSQL notification ids skip a value after a conflict.
    assert _event_count(services) - before == result.writes_accepted
    # Every write caught the read models up before answering: nothing lags.
    assert all(status.lag == 0 for status in services.projector.status())
    with services.read_engine.connect() as conn:
        counted = conn.execute(select(func.sum(lead_summary.c.interactions))).scalar_one()
    baseline = sum(lead.interactions for lead in leads)
    assert counted == baseline + result.writes_accepted
    _assert_matches_rebuild(services)


def _event_count(services: Services) -> int:
    return len(_notifications(services))


def _now() -> datetime:
    return datetime(2026, 10, 20, tzinfo=UTC)
