"""The form-capture API: auth, idempotency, size limit, and no input causing a
500 or a partial write (property-based)."""

import json
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smarketing.bootstrap import Services
from smarketing.extensions import KEY
from smarketing.service import integrations
from smarketing.web.core.factory import create_app

LEAD = {"name": "Ana Ruiz", "email": "ana@example.com", "source": "web_form"}


@pytest.fixture
def app(services: Services) -> Iterator[Flask]:
    # CSRF stays on: the API must work without a CSRF token.
    app = create_app({"DATABASE_URL": services.settings.database_url, "TESTING": True})
    yield app
    app.extensions[KEY].close()


@pytest.fixture
def token(services: Services) -> str:
    return integrations.create_token(services.write_engine, "website")


def _events(services: Services) -> int:
    return len(services.app.recorder.select_notifications(start=1, limit=10**7))


def post(client: FlaskClient, path: str, body: object, token: str, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1{path}", json=body, headers={"Authorization": f"Bearer {token}", **headers})


def test_capture_and_interaction(app: Flask, services: Services, token: str) -> None:
    client = app.test_client()
    created = post(client, "/leads", LEAD | {"occurred_at": "2025-03-03T10:00:00+01:00"}, token)
    assert created.status_code == 201, created.json
    lead_id = created.json["id"]
    assert services.app.get_lead(lead_id)["captured_at"].isoformat() == "2025-03-03T09:00:00+00:00"
    recorded = post(client, f"/leads/{lead_id}/interactions", {"kind": "webinar", "channel": "web"}, token)
    assert (recorded.status_code, recorded.json["version"]) == (201, 2)
    assert services.app.lead_events(lead_id)[-1].actor == "integration:website"


def test_auth_missing_wrong_and_revoked(app: Flask, services: Services, token: str) -> None:
    client = app.test_client()
    assert client.post("/api/v1/leads", json=LEAD).status_code == 401
    assert post(client, "/leads", LEAD, "nope").status_code == 401
    integrations.revoke_token(services.write_engine, "website")
    response = post(client, "/leads", LEAD, token)
    assert response.status_code == 401 and "revoked" in response.json["error"]
    assert _events(services) == 0


def test_errors_are_json_with_field(app: Flask, token: str) -> None:
    client = app.test_client()
    assert post(client, "/leads", LEAD | {"vip": "yes"}, token).json == {
        "error": "Unknown field.",
        "field": "vip",
    }
    assert post(client, "/leads", LEAD | {"name": 5}, token).json["field"] == "name"
    assert post(client, "/leads", {"name": "A", "source": "x"}, token).json["field"] == "email"
    bad = post(client, "/leads", LEAD | {"email": "nope"}, token)
    assert (bad.status_code, bad.json["field"]) == (422, "email")
    assert post(client, "/leads", LEAD, token).status_code == 201
    assert post(client, "/leads", LEAD, token).status_code == 409
    assert post(client, "/leads/123/interactions", {"kind": "call"}, token).status_code == 404
    raw = client.post("/api/v1/leads", data="{", content_type="application/json",
                      headers={"Authorization": f"Bearer {token}"})  # fmt: skip
    assert raw.status_code == 400


def test_body_too_large(app: Flask, services: Services, token: str) -> None:
    response = post(app.test_client(), "/leads", LEAD | {"company": "x" * 70_000}, token)
    assert response.status_code == 413 and "error" in response.json
    assert _events(services) == 0


def test_idempotency_key(app: Flask, services: Services, token: str) -> None:
    client = app.test_client()
    first = post(client, "/leads", LEAD, token, **{"Idempotency-Key": "form-1"})
    again = post(client, "/leads", LEAD, token, **{"Idempotency-Key": "form-1"})
    assert first.status_code == again.status_code == 201
    assert first.json == again.json and again.headers["Idempotent-Replayed"] == "true"
    assert _events(services) == 2  # one lead + its e-mail index
    other = post(client, "/leads", LEAD | {"name": "Other"}, token, **{"Idempotency-Key": "form-1"})
    assert other.status_code == 422
    refused = post(client, "/leads", LEAD | {"email": "x"}, token, **{"Idempotency-Key": "form-2"})
    assert refused.status_code == 422
    assert (
        post(client, "/leads", LEAD | {"email": "x"}, token, **{"Idempotency-Key": "form-2"}).json
        == refused.json
    )


def test_openapi_document(app: Flask) -> None:
    doc = app.test_client().get("/api/v1/openapi.json").json
    assert doc["openapi"].startswith("3.1") and "/leads" in doc["paths"]


_values = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=300),
    st.lists(st.text(max_size=5), max_size=3),
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
)  # fmt: skip
_keys = st.sampled_from([*LEAD, "phone", "company", "occurred_at", "campaign", "x", ""])
_bodies = st.one_of(
    st.dictionaries(_keys, _values, max_size=8),
    st.fixed_dictionaries({k: st.text(max_size=300) for k in LEAD}),
    st.lists(st.integers(), max_size=3),
    st.text(max_size=50),
)


def test_no_input_causes_a_500_or_a_partial_write(app: Flask, services: Services, token: str) -> None:
    client = app.test_client()

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
    @given(body=_bodies)
    def check(body: object) -> None:
        before = _events(services)
        response = client.post(
            "/api/v1/leads", data=json.dumps(body), content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )  # fmt: skip
        assert response.status_code < 500, response.get_data(as_text=True)
        assert response.is_json and ("error" in response.json or "id" in response.json)
        written = _events(services) - before
        assert written == (2 if response.status_code == 201 else 0)

    check()
