"""Sessions live on the server: a copied cookie dies with the session it belonged to,
and every session ends after its idle timeout and its absolute lifetime."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from smarketing.bootstrap import Services
from smarketing.service import users
from smarketing.service.users import user_sessions
from tests.integration.conftest import do_login

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _copy(client: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = client.application.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def _signed_in(client: FlaskClient) -> bool:
    status = client.get("/leads/").status_code
    assert status in (200, 303)
    return status == 200


def _rows(services: Services, username: str) -> int:
    with services.read_engine.connect() as conn:
        return len(conn.execute(user_sessions.select().where(user_sessions.c.username == username)).all())


def test_a_cookie_copied_before_logout_no_longer_works_after_it(services: Services, web_app: Flask) -> None:
    client = do_login(web_app.test_client(), "sales")
    copy = _copy(client)
    assert _signed_in(copy)
    assert client.post("/logout").status_code == 303
    assert not _signed_in(copy) and not _signed_in(client)
    assert _rows(services, "test-sales") == 0


def test_a_new_password_or_deactivation_ends_every_session(services: Services, web_app: Flask) -> None:
    copy = _copy(do_login(web_app.test_client(), "sales"))
    other_browser = do_login(web_app.test_client(), "sales")
    users.update_user(services.write_engine, actor="test", username="test-sales", password="brand-new-pw")
    assert not _signed_in(copy) and not _signed_in(other_browser)
    copy = _copy(do_login(web_app.test_client(), "marketing"))
    users.update_user(services.write_engine, actor="test", username="test-marketing", role="sales")
    assert _signed_in(copy)  # a role change keeps the session (and applies at once)
    users.update_user(services.write_engine, actor="test", username="test-marketing", active=False)
    users.update_user(services.write_engine, actor="test", username="test-marketing", active=True)
    assert not _signed_in(copy)


def test_an_admin_signs_a_user_out_everywhere_from_the_users_page(services: Services, web_app: Flask) -> None:
    browsers = [do_login(web_app.test_client(), "sales") for _ in range(2)]
    copy = _copy(browsers[0])
    admin = do_login(web_app.test_client(), "admin")
    page = admin.get("/users/").get_data(as_text=True)
    assert 'action="/users/test-sales/sign-out"' in page and "Sign out everywhere" in page
    response = admin.post("/users/TEST-SALES/sign-out")
    assert response.status_code == 200 and b"test-sales signed out of 2 sessions." in response.data
    assert not any(_signed_in(b) for b in [*browsers, copy])
    assert _signed_in(admin)
    trail = users.audit_trail(services.read_engine)
    assert (trail[0]["actor"], trail[0]["action"], trail[0]["details"]) == (
        "test-admin",
        "sign-out",
        {"sessions": 2},
    )
    assert admin.post("/users/nobody/sign-out").status_code == 404
    spanish = do_login(web_app.test_client(), "admin", "es")
    assert "Se han cerrado 0 sesiones de test-sales." in spanish.post("/users/test-sales/sign-out").get_data(
        as_text=True
    )


def test_a_session_ends_after_eight_idle_hours_by_default(services: Services, web_app: Flask) -> None:
    with time_machine.travel(START, tick=False) as clock:
        client = do_login(web_app.test_client(), "sales")
        clock.shift(timedelta(hours=7, minutes=58))
        assert _signed_in(client)  # and the request counts as activity
        clock.shift(timedelta(hours=7, minutes=58))
        assert _signed_in(client)
        clock.shift(timedelta(hours=8, minutes=1))
        assert not _signed_in(client)
    assert _rows(services, "test-sales") == 0  # an expired session is deleted, not just refused


def test_a_session_ends_at_its_absolute_lifetime_however_active(services: Services, make_web_app) -> None:
    app = make_web_app(SESSION_IDLE_HOURS=1, SESSION_MAX_HOURS=3)
    with time_machine.travel(START, tick=False) as clock:
        client = do_login(app.test_client(), "sales")
        for _ in range(5):  # 2 h 55 of activity, a request every 35 minutes
            clock.shift(timedelta(minutes=35))
            assert _signed_in(client)
        clock.shift(timedelta(minutes=6))  # 3 h 01 since sign-in, 6 minutes since the last request
        assert not _signed_in(client)
        client = do_login(app.test_client(), "sales")
        clock.shift(timedelta(minutes=61))
        assert not _signed_in(client)  # idle for more than the configured hour


def test_the_limits_come_from_the_environment(services: Services, make_web_app, monkeypatch) -> None:
    monkeypatch.setenv("SMARKETING_SESSION_IDLE_HOURS", "0.5")
    monkeypatch.setenv("SMARKETING_SESSION_MAX_HOURS", "2")
    app = make_web_app()
    with time_machine.travel(START, tick=False) as clock:
        client = do_login(app.test_client(), "sales")
        clock.shift(timedelta(minutes=29))
        assert _signed_in(client)
        clock.shift(timedelta(minutes=31))
        assert not _signed_in(client)
    monkeypatch.setenv("SMARKETING_SESSION_IDLE_HOURS", "0")
    with pytest.raises(ValueError, match="must be positive hours"):
        make_web_app()


def test_signing_in_again_ends_the_session_it_replaces(services: Services, web_app: Flask) -> None:
    client = do_login(web_app.test_client(), "sales")
    copy = _copy(client)
    do_login(client, "sales")
    assert _signed_in(client) and not _signed_in(copy)
    assert _rows(services, "test-sales") == 1
