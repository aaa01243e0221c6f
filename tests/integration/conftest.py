"""Web fixtures: an app on the test database and real logins, one user per role.

``login(client, role)`` creates ``test-<role>`` (password ``test-<role>-password``)
on first use and logs the client in through the real /login form, so tests go
through the same access gate as people do.
"""

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from smarketing.bootstrap import Services, bootstrap
from smarketing.extensions import KEY
from smarketing.service import users
from smarketing.web.core.factory import create_app

LoginFn = Callable[[FlaskClient, str], FlaskClient]


def password_for(role: str) -> str:
    return f"test-{role}-password"


def htmx(target: str) -> dict[str, str]:
    """The headers of an htmx request whose element says ``hx-target="#target"`` (or whose
    ``hx-target="this"`` element has that id): htmx names the target by its id, without '#'.

    Views answer a fragment only for the targets their templates aim at (smarketing.web.core.hx)."""
    return {"HX-Request": "true", "HX-Target": target}


class EnglishClient(FlaskClient):
    """A test browser that asks for English (the app's default is Spanish); tests
    that check Spanish ask for it explicitly."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def make_web_app(services: Services) -> Iterator[Callable[..., Flask]]:
    """Apps on the test database (schema already created by ``services``).

    CSRF is off unless a test turns it on (``WTF_CSRF_ENABLED=True``): access and
    escaping tests post plain forms; tests/integration/test_security.py covers CSRF.
    """
    apps: list[Flask] = []

    def make(**config: Any) -> Flask:
        # Tests log the same users in many times a minute; the limit itself is tested
        # with its production value in test_security.py.
        base = {
            "DATABASE_URL": services.settings.database_url,
            "REPORT_REPLICA": services.settings.report_replica,  # the report's cache, as the test's
            "KEY_STORE_URL": services.settings.key_store_url(),
            "ERASURE_LEDGER": str(services.settings.erasure_ledger_path()),
            "TESTING": True,
            "WTF_CSRF_ENABLED": False,
            "LOGIN_RATE_LIMIT": "1000 per minute",
            # Read-your-writes as before on a loaded test machine; the bound itself is
            # tested with short waits (test_write_under_locks.py).
            "CATCH_UP_WAIT": 60,
        }
        app = create_app(base | config)
        app.test_client_class = EnglishClient
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["smarketing.catch_up"].close()
        app.extensions[KEY].close()


@pytest.fixture
def web_app(make_web_app: Callable[..., Flask]) -> Flask:
    return make_web_app()


def ensure_user(app: Flask, role: str, username: str | None = None) -> str:
    engine = app.extensions[KEY].write_engine
    username = username or f"test-{role}"
    if users.get_user(engine, username) is None:
        users.create_user(engine, actor="test", username=username, role=role, password=password_for(role))
    return username


def do_login(client: FlaskClient, role: str, lang: str = "en") -> FlaskClient:
    """Log in through the form; the browser asks for ``lang`` (tests read English by default)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = lang
    username = ensure_user(client.application, role)
    response = client.post("/login", data={"username": username, "password": password_for(role)})
    assert response.status_code == 303, response.data[:500]
    return client


@pytest.fixture
def login() -> LoginFn:
    """``login(client, role)``: the client, logged in as a user with that role."""
    return do_login


@pytest.fixture
def second(services: Services) -> Iterator[Services]:
    """Another process's view of the same store: its own app, caches and connections."""
    other = bootstrap(services.settings)
    try:
        yield other
    finally:
        other.close()
