"""Server-side sign-in sessions: a session exists while its row in ``user_sessions`` does.

The browser's (signed) cookie holds a random id; each request looks its hash up.
Signing out, a new password, deactivation and an admin's "sign out everywhere"
delete rows, so a copy of the cookie taken before stops working at once. A
session also ends after ``idle`` without a request and ``lifetime`` after sign-in,
whatever happens in between.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, insert, or_, select, update

from smarketing.service.users import user_sessions

# last_seen_at is written at most this often per session: a page and its htmx
# fragments must not each cost a write. The idle timeout is exact to within it.
TOUCH_EVERY = timedelta(minutes=1)


@dataclass(frozen=True)
class Limits:
    idle: timedelta
    lifetime: timedelta

    @classmethod
    def from_hours(cls, idle: float, lifetime: float) -> "Limits":
        if idle <= 0 or lifetime <= 0:
            raise ValueError("session idle timeout and lifetime must be positive hours")
        return cls(timedelta(hours=idle), timedelta(hours=lifetime))


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)  # naive UTC, as the other tables store it


def _hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


def start(engine: Engine, username: str, limits: Limits) -> str:
    """A new session for ``username``; its id goes in the cookie and is kept nowhere else."""
    session_id = secrets.token_urlsafe(32)
    now = _now()
    with engine.begin() as conn:
        # Sessions that ended by time leave rows behind: clear them when someone signs in.
        conn.execute(
            delete(user_sessions).where(
                or_(
                    user_sessions.c.last_seen_at < now - limits.idle,
                    user_sessions.c.created_at < now - limits.lifetime,
                )
            )
        )
        conn.execute(
            insert(user_sessions).values(
                id_hash=_hash(session_id), username=username, created_at=now, last_seen_at=now
            )
        )
    return session_id


def owner(read_engine: Engine, write_engine: Engine, session_id: str, limits: Limits) -> str | None:
    """The user name of a live session, else None (unknown, ended, idle or too old).
    Read on the read engine: on SQLite the write engine takes the write lock."""
    digest = _hash(session_id)
    with read_engine.connect() as conn:
        row = conn.execute(select(user_sessions).where(user_sessions.c.id_hash == digest)).first()
    if row is None:
        return None
    now = _now()
    if now - row.last_seen_at > limits.idle or now - row.created_at > limits.lifetime:
        end(write_engine, session_id)
        return None
    if now - row.last_seen_at >= TOUCH_EVERY:
        with write_engine.begin() as conn:
            conn.execute(
                update(user_sessions).where(user_sessions.c.id_hash == digest).values(last_seen_at=now)
            )
    return str(row.username)


def end(engine: Engine, session_id: str) -> None:
    with engine.begin() as conn:
        conn.execute(delete(user_sessions).where(user_sessions.c.id_hash == _hash(session_id)))
