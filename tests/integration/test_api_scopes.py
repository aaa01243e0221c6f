"""API tokens: scopes, expiry, last use, admin-only management, the OpenAPI
description of the scopes, and tokens from before scopes kept working on upgrade."""

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from babel.dates import format_date
from flask import Flask
from sqlalchemy import text

from smarketing.bootstrap import Services, init_schema
from smarketing.extensions import KEY
from smarketing.service import integrations
from smarketing.web.core.factory import create_app
from smarketing.web.data.api import SCOPE_OF

LEAD = {"name": "Ana Ruiz", "email": "ana@example.com", "source": "web_form"}
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def app(services: Services) -> Iterator[Flask]:
    app = create_app({"DATABASE_URL": services.settings.database_url, "TESTING": True})
    yield app
    app.extensions[KEY].close()


def _post(app: Flask, path: str, body: dict, token: str):  # type: ignore[no-untyped-def]
    return app.test_client().post(f"/api/v1{path}", json=body, headers={"Authorization": f"Bearer {token}"})


def _events(services: Services) -> int:
    return services.app.recorder.max_notification_id() or 0


def test_a_token_does_only_what_its_scopes_allow(app: Flask, services: Services) -> None:
    capture_only = integrations.create_token(services.write_engine, "form", ("leads:write",))
    interactions_only = integrations.create_token(services.write_engine, "crm", ("interactions:write",))
    created = _post(app, "/leads", LEAD, capture_only)
    assert created.status_code == 201
    lead_id = created.json["id"]
    before = _events(services)
    refused = _post(app, f"/leads/{lead_id}/interactions", {"kind": "call"}, capture_only)
    assert (
        refused.status_code == 403
        and refused.json["error"] == "This token lacks the scope interactions:write."
    )
    assert (
        refused.headers["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="interactions:write"'
    )
    assert _post(app, "/leads", LEAD | {"email": "bea@example.com"}, interactions_only).status_code == 403
    assert _events(services) == before
    assert (
        _post(app, f"/leads/{lead_id}/interactions", {"kind": "call"}, interactions_only).status_code == 201
    )
    with pytest.raises(integrations.IntegrationError, match="at least one scope"):
        integrations.create_token(services.write_engine, "none", ())
    with pytest.raises(integrations.IntegrationError, match="at least one scope"):
        integrations.create_token(services.write_engine, "reader", ("leads:read",))  # no read API


def test_a_token_stops_at_its_expiry_and_notes_its_last_use(app: Flask, services: Services) -> None:
    with time_machine.travel(START, tick=False) as clock:
        expiry = datetime(2026, 12, 3, 23, 59, 59)
        token = integrations.create_token(services.write_engine, "fair", ("leads:write",), expiry)
        assert integrations.list_integrations(services.read_engine)[0].last_used_at is None
        clock.shift(timedelta(days=2, hours=14))  # 3 December, 23:00 UTC: its last day
        assert _post(app, "/leads", LEAD, token).status_code == 201
        (listed,) = integrations.list_integrations(services.read_engine)
        assert listed.last_used_at == datetime(2026, 12, 3, 23, 0)
        clock.shift(timedelta(hours=1))
        expired = _post(app, "/leads", LEAD | {"email": "late@example.com"}, token)
        assert expired.status_code == 401 and "expired" in expired.json["error"]
        with pytest.raises(integrations.IntegrationError, match="future"):
            integrations.create_token(services.write_engine, "old", ("leads:write",), datetime(2026, 12, 1))


def test_only_admins_manage_tokens_and_see_scopes_last_use_and_expiry(
    services: Services, web_app: Flask, login
) -> None:
    manager = login(web_app.test_client(), "manager")
    assert manager.get("/integrations/").status_code == 403
    assert manager.post("/integrations/", data={"name": "x", "scope": "leads:write"}).status_code == 403
    assert integrations.list_integrations(services.read_engine) == []
    admin = login(web_app.test_client(), "admin")
    assert admin.post("/integrations/", data={"name": "web"}).status_code == 422  # no scope chosen
    bad_date = admin.post(
        "/integrations/", data={"name": "web", "scope": "leads:write", "expires": "31/01/2027"}
    )
    assert bad_date.status_code == 422 and b"2027-01-31" in bad_date.data
    # A future expiry by the test's clock (CI runs it at several instants, some in 2027).
    expires = (datetime.now(UTC) + timedelta(days=60)).date()
    form = {"name": "web", "scope": ["leads:write"], "expires": expires.isoformat()}
    created = admin.post("/integrations/", data=form)
    assert created.status_code == 201 and b"smk_" in created.data
    (listed,) = integrations.list_integrations(services.read_engine)
    assert listed.scopes == ("leads:write",) and listed.expires_at == datetime.combine(expires, time.max)
    page = admin.get("/integrations/").get_data(as_text=True)
    shown = format_date(expires, "medium", locale="en")  # "Jan 31, 2027": dates as on every page
    assert "Capture leads" in page and shown in page and "never" in page
    spanish_admin = login(web_app.test_client(), "admin", "es")
    spanish = spanish_admin.get("/integrations/").get_data(as_text=True)
    assert "Captar leads" in spanish and "Último uso" in spanish and "nunca" in spanish
    assert format_date(expires, "medium", locale="es") in spanish  # "31 ene 2027"
    again = spanish_admin.post("/integrations/", data=form | {"expires": ""})
    assert again.status_code == 422
    assert "La integración «web» ya tiene un token" in again.get_data(as_text=True)
    past = spanish_admin.post("/integrations/", data=form | {"name": "old", "expires": "2020-01-01"})
    assert past.status_code == 422
    assert "La caducidad debe ser una fecha futura." in past.get_data(as_text=True)


def test_the_cli_asks_for_scopes(services: Services, web_app: Flask) -> None:
    runner = web_app.test_cli_runner()
    made = runner.invoke(
        args=["integrations", "create", "site", "--scope", "leads:write", "--expires", "2099-01-31"]
    )
    assert made.exit_code == 0 and made.output.startswith("smk_"), made.output
    assert integrations.list_integrations(services.read_engine)[0].scopes == ("leads:write",)
    for args in (
        ["crm"],
        ["crm", "--scope", "leads:read"],
        ["crm", "--scope", "leads:write", "--expires", "soon"],
    ):
        result = runner.invoke(args=["integrations", "create", *args])
        assert result.exit_code != 0 and "Traceback" not in result.output, args


def test_openapi_names_the_scope_of_every_operation_and_stays_public(app: Flask) -> None:
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200  # public on purpose: the shape of the API, no data
    doc = response.json
    scheme = doc["components"]["securitySchemes"]["bearer"]
    assert all(f"`{scope}`" in scheme["description"] for scope in integrations.SCOPES)
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api.") or rule.endpoint == "api.openapi":
            continue
        path = rule.rule.removeprefix("/api/v1").replace("<lead_id>", "{lead_id}")
        operation = doc["paths"][path]["post"]
        assert operation["security"] == [{"bearer": [SCOPE_OF[rule.endpoint]]}], rule.endpoint
        assert "403" in operation["responses"]


def test_tokens_from_before_scopes_keep_capturing_after_the_upgrade(app: Flask, services: Services) -> None:
    """The table as it was (no scopes, expiry or last use) with a live and a revoked token."""
    live, revoked = "smk_made-before-scopes", "smk_revoked-before-scopes"
    with services.write_engine.begin() as conn:
        conn.execute(text("DROP TABLE integration_tokens"))
        conn.execute(
            text(
                "CREATE TABLE integration_tokens (name VARCHAR(100) PRIMARY KEY, "
                "token_hash VARCHAR(64) NOT NULL UNIQUE, created_at TIMESTAMP NOT NULL, revoked_at TIMESTAMP)"
            )
        )
        for name, token, revoked_at in (("old", live, None), ("gone", revoked, datetime(2026, 1, 2))):
            conn.execute(
                text("INSERT INTO integration_tokens VALUES (:n, :h, :c, :r)"),
                {"n": name, "h": integrations.token_hash(token), "c": datetime(2026, 1, 1), "r": revoked_at},
            )
    init_schema(services.settings)
    init_schema(services.settings)  # twice: the upgrade is idempotent
    listed = {i.name: i for i in integrations.list_integrations(services.read_engine)}
    assert listed["old"].scopes == integrations.UPGRADED_SCOPES
    assert (listed["old"].expires_at, listed["old"].last_used_at) == (None, None)
    created = _post(app, "/leads", LEAD, live)
    assert created.status_code == 201
    assert _post(app, f"/leads/{created.json['id']}/interactions", {"kind": "call"}, live).status_code == 201
    assert _post(app, "/leads", LEAD | {"email": "x@example.com"}, revoked).status_code == 401
    assert integrations.create_token(services.write_engine, "new", ("leads:write",)).startswith("smk_")
