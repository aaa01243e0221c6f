"""Integration tokens for the form-capture API, and its idempotency records.

Not event-sourced: these are credentials and a replay cache, not business facts;
they live in two plain tables beside the read models (which ``projections
rebuild`` never empties, since no projection owns them).
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, Engine, Integer, String, Table, Text, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from projections.schema import metadata

integration_tokens = Table(
    "integration_tokens",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
)

api_idempotency = Table(
    "api_idempotency",
    metadata,
    Column("integration", String(100), primary_key=True),
    Column("key", String(200), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", Integer),  # NULL while the first request is still running
    Column("body", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

NAME_MAX = 100


class IntegrationError(Exception):
    pass


@dataclass(frozen=True)
class Integration:
    name: str
    created_at: datetime
    revoked_at: datetime | None


def token_hash(token: str) -> str:
    # A random 32-byte token has 256 bits of entropy: nothing to brute-force, so a
    # fast hash is enough (a slow one such as bcrypt only protects weak passwords).
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def create_token(engine: Engine, name: str) -> str:
    """A new token for ``name``; returned once, only its hash is kept."""
    name = name.strip()
    if not name or len(name) > NAME_MAX or not name.isprintable():
        raise IntegrationError(f"The name must be 1 to {NAME_MAX} printable characters.")
    token = "smk_" + secrets.token_urlsafe(32)
    try:
        with engine.begin() as conn:
            row = conn.execute(select(integration_tokens).where(integration_tokens.c.name == name)).first()
            if row is not None and row.revoked_at is None:
                raise IntegrationError(f"The integration {name!r} already has a token; revoke it first.")
            if row is not None:  # a revoked integration gets a fresh token under its old name
                conn.execute(delete(integration_tokens).where(integration_tokens.c.name == name))
            conn.execute(
                insert(integration_tokens).values(
                    name=name, token_hash=token_hash(token), created_at=_now(), revoked_at=None
                )
            )
    except IntegrityError:
        raise IntegrationError(f"The integration {name!r} was created meanwhile.") from None
    return token


def revoke_token(engine: Engine, name: str) -> bool:
    with engine.begin() as conn:
        done = conn.execute(
            update(integration_tokens)
            .where(integration_tokens.c.name == name.strip(), integration_tokens.c.revoked_at.is_(None))
            .values(revoked_at=_now())
        )
    return done.rowcount > 0


def list_integrations(engine: Engine) -> list[Integration]:
    with engine.connect() as conn:
        rows = conn.execute(select(integration_tokens).order_by(integration_tokens.c.name)).all()
    return [Integration(r.name, r.created_at, r.revoked_at) for r in rows]


def authenticate(engine: Engine, token: str) -> str | None:
    """The integration's name for a live token, else None (unknown or revoked)."""
    digest = token_hash(token)
    with engine.connect() as conn:
        row = conn.execute(
            select(integration_tokens.c.name, integration_tokens.c.token_hash).where(
                integration_tokens.c.token_hash == digest, integration_tokens.c.revoked_at.is_(None)
            )
        ).first()
    # The lookup is by hash, so timing reveals nothing about the token; compare anyway.
    return row.name if row is not None and hmac.compare_digest(row.token_hash, digest) else None


# --- idempotency ---------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    request_hash: str
    status: int | None
    body: str


def claim_key(engine: Engine, integration: str, key: str, request_hash: str) -> Stored | None:
    """Reserve ``key`` for this request: None when it is new, else what is stored for it."""
    try:
        with engine.begin() as conn:  # the primary key makes the claim atomic across workers
            conn.execute(
                insert(api_idempotency).values(
                    integration=integration,
                    key=key,
                    request_hash=request_hash,
                    status=None,
                    body="",
                    created_at=_now(),
                )
            )
        return None
    except IntegrityError:
        pass
    with engine.connect() as conn:
        row = conn.execute(
            select(api_idempotency).where(
                api_idempotency.c.integration == integration, api_idempotency.c.key == key
            )
        ).one()
    return Stored(row.request_hash, row.status, row.body)


def store_response(engine: Engine, integration: str, key: str, status: int, body: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(api_idempotency)
            .where(api_idempotency.c.integration == integration, api_idempotency.c.key == key)
            .values(status=status, body=body)
        )


def release_key(engine: Engine, integration: str, key: str) -> None:
    """The request failed unexpectedly: let the client retry with the same key."""
    with engine.begin() as conn:
        conn.execute(
            delete(api_idempotency).where(
                api_idempotency.c.integration == integration, api_idempotency.c.key == key
            )
        )
