"""OpenAPI 3.1 description of the form-capture API, served at /api/v1/openapi.json.

A static dict, kept beside api.py: change both together."""

from typing import Any

from domain.vocabulary import Channel, InteractionKind
from smarketing.service.integrations import SCOPES

_STRING = {"type": "string"}
_TIME = {
    "type": "string",
    "format": "date-time",
    "description": "Business time, ISO 8601 with an offset; defaults to the time of the request.",
}
_ERROR = {
    "type": "object",
    "required": ["error", "field"],
    "properties": {
        "error": {"type": "string", "description": "What is wrong, for a person."},
        "field": {"type": ["string", "null"], "description": "The offending field, when there is one."},
    },
}
_IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "schema": {"type": "string", "maxLength": 200},
    "description": (
        "Any unique string per logical request. Retrying with the same key and body returns "
        "the first response (header Idempotent-Replayed: true) and records nothing new; "
        "the same key with a different body is refused with 422."
    ),
}


def _errors(*codes: str) -> dict[str, Any]:
    reasons = {
        "400": "Malformed JSON or header.",
        "401": "Missing, unknown, expired or revoked token.",
        "403": "The token lacks the scope this operation needs (see its security requirement).",
        "404": "No such lead.",
        "409": "Duplicate e-mail, or the same Idempotency-Key still in progress.",
        "413": "Body larger than 64 KB.",
        "415": "Body is not application/json.",
        "422": "Unknown field, wrong type, missing or invalid value, or key reused with another body.",
    }
    problem = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    return {code: {"description": reasons[code], "content": problem} for code in codes}


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Smarketing form-capture API",
        "version": "1.0.0",
        "description": (
            "Create leads and record their interactions from web forms and other tools. "
            "Each integration has its own bearer token, created and revoked by an admin under "
            "/integrations or with `flask integrations create NAME --scope SCOPE` / `revoke NAME`. "
            "A token carries scopes and may expire; each operation names the scope it needs in its "
            "`security` requirement, and a token without it gets 403. Unknown fields are refused. "
            "This description is public: it holds no data, only the shape of the API."
        ),
    },
    "servers": [{"url": "/api/v1"}],
    "components": {
        "securitySchemes": {
            "bearer": {
                "type": "http",
                "scheme": "bearer",
                "description": "An integration token. Scopes: "
                + "; ".join(f"`{scope}`: {what}" for scope, what in SCOPES.items())
                + ".",
            }
        },
        "schemas": {
            "Error": _ERROR,
            "NewLead": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "email", "source"],
                "properties": {
                    "name": {**_STRING, "maxLength": 200},
                    "email": {**_STRING, "format": "email", "maxLength": 254},
                    "source": {
                        **_STRING,
                        "maxLength": 100,
                        "examples": ["paid_search", "Eventos"],
                        "description": "A source of the shared vocabulary, by key or label in Spanish or "
                        "English, case and accents ignored; any other value is kept as a new source "
                        "for a manager to accept or merge.",
                    },
                    "phone": {**_STRING, "maxLength": 40},
                    "company": {**_STRING, "maxLength": 200},
                    "campaign": {**_STRING, "maxLength": 100},
                    "landing_page": {**_STRING, "maxLength": 100},
                    "persona": {**_STRING, "maxLength": 100},
                    "external_key": {**_STRING, "maxLength": 100, "description": "Your id."},
                    "occurred_at": _TIME,
                },
            },
            "NewInteraction": {
                "type": "object",
                "additionalProperties": False,
                "required": ["kind"],
                "properties": {
                    "kind": {"type": "string", "enum": [k.value for k in InteractionKind]},
                    "channel": {"type": "string", "enum": [c.value for c in Channel], "default": "other"},
                    "details": {**_STRING, "maxLength": 2000},
                    "occurred_at": _TIME,
                },
            },
            "Written": {
                "type": "object",
                "required": ["id", "version"],
                "properties": {"id": {"type": "string", "format": "uuid"}, "version": {"type": "integer"}},
            },
        },
    },
    "paths": {
        "/leads": {
            "post": {
                "summary": "Capture a new lead",
                "security": [{"bearer": ["leads:write"]}],
                "parameters": [_IDEMPOTENCY],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewLead"}}},
                },
                "responses": {
                    "201": {
                        "description": "Lead captured; ``source``: the vocabulary's key it was stored with.",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Written"}}},
                    },
                    **_errors("400", "401", "403", "409", "413", "415", "422"),
                },
            }
        },
        "/leads/{lead_id}/interactions": {
            "post": {
                "summary": "Record an interaction of an existing lead",
                "security": [{"bearer": ["interactions:write"]}],
                "parameters": [
                    {"name": "lead_id", "in": "path", "required": True, "schema": {"type": "string"}},
                    _IDEMPOTENCY,
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/NewInteraction"}}
                    },
                },
                "responses": {
                    "201": {
                        "description": "Interaction recorded.",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Written"}}},
                    },
                    **_errors("400", "401", "403", "404", "409", "413", "415", "422"),
                },
            }
        },
    },
}
