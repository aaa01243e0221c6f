"""Form-capture API (JSON, v1): website forms and tools post leads and interactions.

Authenticated per integration with ``Authorization: Bearer <token>`` (see
smarketing/service/integrations.py), not with the session, so it is exempt from CSRF:
each endpoint names the scope it needs (``SCOPE_OF``; 403 without it).
a cross-site page cannot attach somebody's bearer token. Errors are JSON,
``{"error": ..., "field": ...}``. Described in openapi.py.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, request, url_for
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from domain.actor import current_actor
from domain.errors import DomainError
from smarketing.extensions import Services, services
from smarketing.present.source_words import campaigns
from smarketing.service import integrations
from smarketing.web.core.catch_up import catch_up_after_write
from smarketing.web.core.errors import status_for
from smarketing.web.data.openapi import OPENAPI

bp = Blueprint("api", __name__, url_prefix="/api/v1")

MAX_BODY = 64 * 1024  # a form submission is a few hundred bytes; 64 KB is generous
IDEMPOTENCY_KEY_MAX = 200

# field -> required; every value is a JSON string.
LEAD_FIELDS = {
    "name": True,
    "email": True,
    "source": True,
    "phone": False,
    "company": False,
    "campaign": False,
    "landing_page": False,
    "persona": False,
    "external_key": False,
    "occurred_at": False,
}
INTERACTION_FIELDS = {"kind": True, "channel": False, "details": False, "occurred_at": False}


class ApiError(Exception):
    def __init__(self, status: int, error: str, field: str | None = None) -> None:
        super().__init__(error)
        self.status, self.error, self.field = status, error, field


def problem(status: int, error: str, field: str | None = None) -> Response:
    response = jsonify({"error": error, "field": field})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="smarketing"'
    return response


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> Response:
    return problem(error.status, error.error, error.field)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Response:
    if isinstance(error, RequestEntityTooLarge):
        return problem(413, f"The body must be at most {MAX_BODY} bytes.")
    return problem(error.code or 500, error.description or error.name)


# endpoint -> the scope its token needs; the OpenAPI description is built from it.
SCOPE_OF = {
    "api.create_lead": "leads:write",
    "api.create_interaction": "interactions:write",
}


@bp.before_request
def _authenticate() -> Response | None:
    request.max_content_length = MAX_BODY
    if request.endpoint == "api.openapi":
        return None  # public on purpose: it describes the API, it holds no data
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return problem(401, "Send an integration token: Authorization: Bearer <token>.")
    svc = services()
    found = integrations.authenticate(svc.read_engine, svc.write_engine, token.strip())
    if found is None:
        return problem(401, "The token is unknown, has expired or has been revoked.")
    needed = SCOPE_OF.get(request.endpoint or "")
    if needed is None or needed not in found.scopes:  # fail closed: an endpoint without a scope
        response = problem(403, f"This token lacks the scope {needed}.")
        response.headers["WWW-Authenticate"] = f'Bearer error="insufficient_scope", scope="{needed}"'
        return response
    name = found.name
    g.integration = name
    # auth.py resets g.actor_token at teardown; events name the integration.
    g.actor_token = current_actor.set(f"integration:{name}")
    return None


def _body(fields: dict[str, bool]) -> dict[str, Any]:
    if not request.is_json:
        raise ApiError(415, "Send JSON with Content-Type: application/json.")
    raw = request.get_data(cache=True)  # raises 413 past MAX_BODY
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        raise ApiError(400, "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(422, "The body must be a JSON object.")
    for name in data:
        if name not in fields:
            raise ApiError(422, "Unknown field.", str(name)[:100])
    for name, required in fields.items():
        value = data.get(name)
        if value is None:
            if required:
                raise ApiError(422, "This field is required.", name)
            continue
        if not isinstance(value, str):
            raise ApiError(422, "Must be a string.", name)
    values = {k: v for k, v in data.items() if v is not None}
    if "occurred_at" in values:
        values["occurred_at"] = _business_time(values["occurred_at"])
    return values


def _business_time(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(422, "Must be an ISO 8601 date and time.", "occurred_at") from None
    if value.tzinfo is None:
        raise ApiError(422, "Must include a time zone offset, e.g. 2026-10-03T14:30:00+02:00.", "occurred_at")
    return value


def _idempotent(action: Callable[[], tuple[int, dict[str, Any]]]) -> Response:
    """Run ``action`` once per Idempotency-Key; a retry gets the stored response back."""
    key = request.headers.get("Idempotency-Key", "").strip()
    if not key:
        return _run(action)[0]
    if len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable():
        raise ApiError(400, f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX} printable characters.")
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode() + request.get_data()).hexdigest()
    engine = services().write_engine
    stored = integrations.claim_key(engine, g.integration, key, digest)
    if stored is not None:
        if stored.request_hash != digest:
            raise ApiError(422, "This Idempotency-Key was used with a different request.")
        if stored.status is None:
            raise ApiError(409, "A request with this Idempotency-Key is still being processed.")
        response = Response(stored.body, status=stored.status, mimetype="application/json")
        response.headers["Idempotent-Replayed"] = "true"
        return response
    try:
        response, status = _run(action)
    except BaseException:
        integrations.release_key(engine, g.integration, key)
        raise
    integrations.store_response(engine, g.integration, key, status, response.get_data(as_text=True))
    return response


def _run(action: Callable[[], tuple[int, dict[str, Any]]]) -> tuple[Response, int]:
    try:
        status, payload = action()
    except ApiError as error:
        return problem(error.status, error.error, error.field), error.status
    except DomainError as error:
        status = status_for(error)
        return problem(status, getattr(error, "message", str(error)), getattr(error, "field", None)), status
    response = jsonify(payload)
    response.status_code = status
    if "location" in payload:
        response.headers["Location"] = payload["location"]
    return response, status


def campaigns_of(svc: Services) -> list[str]:
    with svc.read_engine.connect() as conn:
        return campaigns(conn)


@bp.post("/leads")
def create_lead() -> Response:
    values = _body(LEAD_FIELDS)

    def capture() -> tuple[int, dict[str, Any]]:
        svc = services()
        # The source as the vocabulary names it ("Eventos" -> events; unknown: a new source).
        lead_id = svc.app.capture_lead(**values, known_campaigns=campaigns_of(svc))
        catch_up_after_write()
        location = url_for("api.create_interaction", lead_id=lead_id)
        lead = svc.app.get_lead(lead_id)
        return 201, {
            "id": lead_id,
            "version": lead["version"],
            "source": lead["source"],
            "location": location,
        }

    return _idempotent(capture)


@bp.post("/leads/<lead_id>/interactions")
def create_interaction(lead_id: str) -> Response:
    values = _body(INTERACTION_FIELDS)

    def record() -> tuple[int, dict[str, Any]]:
        svc = services()
        version = svc.app.record_interaction(lead_id[:100], **values)
        catch_up_after_write()
        return 201, {"id": str(svc.app.get_lead(lead_id)["id"]), "version": version}

    return _idempotent(record)


@bp.get("/openapi.json")
def openapi() -> Response:
    return jsonify(OPENAPI)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    csrf = app.extensions.get("csrf")
    if csrf is not None:  # Flask-WTF's CSRFProtect, when security.py set it up
        csrf.exempt(bp)
