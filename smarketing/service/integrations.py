"""Integration tokens for the form-capture API, and its idempotency records.

Not event-sourced: these are credentials and a replay cache, not business facts;
they live in two plain tables beside the read models (which ``projections
rebuild`` never empties, since no projection owns them).

A token carries scopes (what it may do), may expire, and remembers when it was last
used. Tokens created before scopes existed could capture leads and record
interactions: ``upgrade_schema`` gives them exactly those two scopes, so no running
form stops working on upgrade, and an admin narrows them by creating a new token.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError

from domain.errors import N_, DomainError

# Its own MetaData: tokens and idempotency records are kept, not derived from the log,
# so they live with the event store, apart from the read models.
metadata = MetaData()

integration_tokens = Table(
    "integration_tokens",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime),
    Column("scopes", String(200), nullable=False),  # space-separated, as in OAuth
    Column("expires_at", DateTime),  # NULL: until revoked
    Column("last_used_at", DateTime),
)

# scope -> what it allows. ``leads:read`` is not offered: there is no read API.
SCOPES = {
    "leads:write": "Capture leads (POST /leads)",
    "interactions:write": "Record interactions on leads (POST /leads/{id}/interactions)",
}
# What every token could do before scopes: the scopes older tokens get on upgrade.
UPGRADED_SCOPES = ("leads:write", "interactions:write")
# last_used_at is written at most this often per token: not a write per request.
TOUCH_EVERY = timedelta(minutes=1)

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


class IntegrationError(DomainError):
    """Refused token request; a catalog template, translated by the page (str(): English)."""


@dataclass(frozen=True)
class Integration:
    name: str
    created_at: datetime
    revoked_at: datetime | None
    scopes: tuple[str, ...]
    expires_at: datetime | None
    last_used_at: datetime | None

    def expired(self, now: datetime) -> bool:
        return self.expires_at is not None and now >= self.expires_at


def _integration(row: Any) -> Integration:
    scopes = tuple(row.scopes.split())
    return Integration(row.name, row.created_at, row.revoked_at, scopes, row.expires_at, row.last_used_at)


def token_hash(token: str) -> str:
    # A random 32-byte token has 256 bits of entropy: nothing to brute-force, so a
    # fast hash is enough (a slow one such as bcrypt only protects weak passwords).
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def now() -> datetime:
    """Naive UTC, as the table stores times."""
    return datetime.now(UTC).replace(tzinfo=None)


def create_token(
    engine: Engine, name: str, scopes: tuple[str, ...] = UPGRADED_SCOPES, expires_at: datetime | None = None
) -> str:
    """A new token for ``name`` with these scopes, valid until revoked or ``expires_at``
    (naive UTC); returned once, only its hash is kept."""
    name = name.strip()
    if not name or len(name) > NAME_MAX or not name.isprintable():
        raise IntegrationError(N_("The name must be 1 to %(max)s printable characters."), max=NAME_MAX)
    if not scopes or not set(scopes) <= set(SCOPES):
        raise IntegrationError(N_("Choose at least one scope among: %(scopes)s."), scopes=", ".join(SCOPES))
    if expires_at is not None and expires_at <= now():
        raise IntegrationError(N_("The expiry must be in the future."))
    token = "smk_" + secrets.token_urlsafe(32)
    try:
        with engine.begin() as conn:
            row = conn.execute(select(integration_tokens).where(integration_tokens.c.name == name)).first()
            if row is not None and row.revoked_at is None:
                raise IntegrationError(
                    N_("The integration “%(name)s” already has a token; revoke it first."), name=name
                )
            if row is not None:  # a revoked integration gets a fresh token under its old name
                conn.execute(delete(integration_tokens).where(integration_tokens.c.name == name))
            conn.execute(
                insert(integration_tokens).values(
                    name=name,
                    token_hash=token_hash(token),
                    created_at=now(),
                    revoked_at=None,
                    scopes=" ".join(sorted(set(scopes))),
                    expires_at=expires_at,
                    last_used_at=None,
                )
            )
    except IntegrityError:
        raise IntegrationError(N_("The integration “%(name)s” was created meanwhile."), name=name) from None
    return token


def revoke_token(engine: Engine, name: str) -> bool:
    with engine.begin() as conn:
        done = conn.execute(
            update(integration_tokens)
            .where(integration_tokens.c.name == name.strip(), integration_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now())
        )
    return done.rowcount > 0


def list_integrations(engine: Engine) -> list[Integration]:
    with engine.connect() as conn:
        rows = conn.execute(select(integration_tokens).order_by(integration_tokens.c.name)).all()
    return [_integration(r) for r in rows]


def authenticate(read_engine: Engine, write_engine: Engine, token: str) -> Integration | None:
    """The integration of a live token, else None (unknown, revoked or expired).
    Notes when it was used, to the minute (on SQLite only the write engine writes)."""
    digest = token_hash(token)
    with read_engine.connect() as conn:
        row = conn.execute(
            select(integration_tokens).where(
                integration_tokens.c.token_hash == digest, integration_tokens.c.revoked_at.is_(None)
            )
        ).first()
    # The lookup is by hash, so timing reveals nothing about the token; compare anyway.
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    found, at = _integration(row), now()
    if found.expired(at):
        return None
    if found.last_used_at is None or at - found.last_used_at >= TOUCH_EVERY:
        with write_engine.begin() as conn:
            conn.execute(
                update(integration_tokens)
                .where(integration_tokens.c.name == found.name)
                .values(last_used_at=at)
            )
    return found


def upgrade_schema(engine: Engine) -> None:
    """Add the columns of scopes, expiry and last use to a table made before them;
    the tokens already there keep what they could do (UPGRADED_SCOPES)."""
    present = {column["name"] for column in inspect(engine).get_columns(integration_tokens.name)}
    kept = " ".join(UPGRADED_SCOPES)
    added = {
        "scopes": f"VARCHAR(200) NOT NULL DEFAULT '{kept}'",
        "expires_at": "TIMESTAMP",
        "last_used_at": "TIMESTAMP",
    }
    with engine.begin() as conn:
        for column, ddl in added.items():
            if column not in present:
                conn.execute(text(f"ALTER TABLE {integration_tokens.name} ADD COLUMN {column} {ddl}"))


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
                    created_at=now(),
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
    abandoned = row.status is None and now() - row.created_at > ABANDONED_CLAIM
    if abandoned and _take_over(engine, row, request_hash):
        return None
    return Stored(row.request_hash, row.status, row.body)


# A claim still without an answer after this long belongs to a request that ended
# without storing or releasing it (its worker killed, the store busy at the last step):
# far past any request's own limits (gunicorn's timeout, SMARKETING_LOCK_TIMEOUT). Taking
# it over is what a reload of the page would do anyway; refusing it for good would not.
ABANDONED_CLAIM = timedelta(minutes=5)


def _take_over(engine: Engine, row: Any, request_hash: str) -> bool:
    """Claim an abandoned key for this request; False when another request took it first."""
    with engine.begin() as conn:
        taken = conn.execute(
            update(api_idempotency)
            .where(
                api_idempotency.c.integration == row.integration,
                api_idempotency.c.key == row.key,
                api_idempotency.c.status.is_(None),
                api_idempotency.c.created_at == row.created_at,
            )
            .values(request_hash=request_hash, created_at=now())
        )
    return taken.rowcount == 1


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
