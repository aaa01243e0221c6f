"""People who may log in, their role, and an append-only trail of every change.

User administration is not part of the lead history, so it is plain SQL rather
than events; ``user_audit`` still answers "who changed what, when". The code only
ever inserts into it.

Passwords: werkzeug's scrypt (``generate_password_hash``). It is memory-hard, ships
with Werkzeug (already pinned, so no extra C extension to build), and its hashes
carry their own parameters, so they can be strengthened later without a migration.

Own MetaData on purpose: ``Projector.rebuild`` empties read-model tables, and users
must never be among them.
"""

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    false,
    insert,
    select,
    update,
)
from werkzeug.security import check_password_hash, generate_password_hash

from domain.errors import N_, InvalidInput

metadata = MetaData()

ROLES = ("marketing", "sales", "manager", "auditor", "admin")
MIN_PASSWORD = 8
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.@-]{1,99}$")

users = Table(
    "users",
    metadata,
    Column("username", String(100), primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("role", String(20), nullable=False),
    Column("password_hash", String(300), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime, nullable=False),
    # Out of office: skipped by the assignment rules (smarketing.service.away adds it to older tables).
    Column("away", Boolean, nullable=False, default=False, server_default=false()),
)

user_audit = Table(
    "user_audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(40), nullable=False),
    Column("username", String(100), nullable=False),
    Column("details", Text, nullable=False),
)

# One row per signed-in browser (smarketing/service/sessions.py). The cookie carries a random
# id; only its hash is kept, so a copy of this table signs nobody in.
user_sessions = Table(
    "user_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("username", String(100), nullable=False, index=True),
    Column("created_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=False),
)

# Login attempts per (address, user name) and fixed window: smarketing/service/login_limit.py.
LOGIN_KEY_MAX = 200
login_attempts = Table(
    "login_attempts",
    metadata,
    Column("key", String(LOGIN_KEY_MAX), primary_key=True),
    Column("window_start", DateTime, nullable=False, index=True),
    Column("count", Integer, nullable=False),
)

# Compared against when the username is unknown, so a miss costs as much as a hit
# and response times do not reveal which usernames exist.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str
    active: bool
    password_hash: str


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # naive UTC, as the read models store it


def clean_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not USERNAME.match(name):
        raise InvalidInput("username", N_("must be 2-100 letters, digits, dots, dashes, @ or underscores"))
    return name


def _check(role: str, password: str | None) -> None:
    if role not in ROLES:
        raise InvalidInput("role", N_("must be one of %(choices)s"), choices=", ".join(ROLES))
    if password is not None and len(password) < MIN_PASSWORD:
        raise InvalidInput("password", N_("must have at least %(count)s characters"), count=MIN_PASSWORD)


def _audit(conn: Any, actor: str, action: str, username: str, **details: Any) -> None:
    conn.execute(
        insert(user_audit).values(
            at=_now(), actor=actor, action=action, username=username, details=json.dumps(details)
        )
    )


def _row_to_user(row: Any) -> User:
    return User(row.username, row.display_name, row.role, bool(row.active), row.password_hash)


def get_user(engine: Engine, username: str) -> User | None:
    with engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username.strip().lower())).first()
    return _row_to_user(row) if row else None


def list_users(engine: Engine) -> list[User]:
    with engine.connect() as conn:
        return [_row_to_user(r) for r in conn.execute(select(users).order_by(users.c.username))]


def audit_trail(engine: Engine, limit: int = 50) -> list[dict[str, Any]]:
    query = select(user_audit).order_by(user_audit.c.id.desc()).limit(limit)
    with engine.connect() as conn:
        return [dict(r._mapping) | {"details": json.loads(r.details)} for r in conn.execute(query)]


def create_user(
    engine: Engine, *, actor: str, username: str, role: str, password: str, display_name: str = ""
) -> User:
    name = clean_username(username)
    _check(role, password)
    with engine.begin() as conn:
        if conn.execute(select(users.c.username).where(users.c.username == name)).first():
            raise InvalidInput("username", N_("is already taken"))
        conn.execute(
            insert(users).values(
                username=name,
                display_name=(display_name or name).strip()[:200],
                role=role,
                password_hash=generate_password_hash(password),
                active=True,
                created_at=_now(),
            )
        )
        _audit(conn, actor, "create", name, role=role)
    user = get_user(engine, name)
    assert user is not None
    return user


def update_user(
    engine: Engine,
    *,
    actor: str,
    username: str,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
) -> None:
    """Change role, active flag and/or password; each change is audited (never the password).

    The last active admin keeps admin access: nobody else could give it back. A new
    password or deactivation ends every session of the user (whoever may have it).
    """
    user = get_user(engine, username)
    if user is None:
        raise InvalidInput("username", N_("does not exist"))
    _check(role or user.role, password)
    changes: dict[str, Any] = {}
    if role is not None and role != user.role:
        changes["role"] = role
    if active is not None and active != user.active:
        changes["active"] = active
    if password is not None:
        changes["password_hash"] = generate_password_hash(password)
    if not changes:
        return
    with engine.begin() as conn:
        if (
            user.role == "admin"
            and user.active
            and (changes.get("role", "admin") != "admin" or not changes.get("active", True))
        ):
            _keep_an_admin(conn, user.username)
        conn.execute(update(users).where(users.c.username == user.username).values(**changes))
        if "password_hash" in changes or changes.get("active") is False:
            conn.execute(delete(user_sessions).where(user_sessions.c.username == user.username))
        shown = {k: v for k, v in changes.items() if k != "password_hash"}
        if "password_hash" in changes:
            shown["password"] = "changed"
        _audit(conn, actor, "update", user.username, **shown)


def sign_out_everywhere(engine: Engine, *, actor: str, username: str) -> int:
    """End every session of ``username`` (a lost laptop, a shared password); audited."""
    user = get_user(engine, username)
    if user is None:
        raise InvalidInput("username", N_("does not exist"))
    with engine.begin() as conn:
        ended = conn.execute(delete(user_sessions).where(user_sessions.c.username == user.username)).rowcount
        _audit(conn, actor, "sign-out", user.username, sessions=ended)
    return ended


def _keep_an_admin(conn: Any, leaving: str) -> None:
    """Refuse when ``leaving`` is the only active admin. The admins' rows are locked
    (PostgreSQL; SQLite's write transaction already excludes other writers), so two
    admins demoting each other at once cannot both succeed."""
    admins = conn.execute(
        select(users.c.username).where(users.c.role == "admin", users.c.active.is_(True)).with_for_update()
    ).all()
    if not any(row.username != leaving for row in admins):
        raise InvalidInput(
            "role", N_("the last admin must stay an active admin; make someone else admin first")
        )


def same_user(a: str, b: str) -> bool:
    """User names are compared as stored: trimmed and in lower case."""
    return a.strip().lower() == b.strip().lower()


def authenticate(engine: Engine, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (same cost either way)."""
    user = get_user(engine, username or "")
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None
    if not check_password_hash(user.password_hash, password) or not user.active:
        return None
    return user
