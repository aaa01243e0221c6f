"""Login attempts counted in the app's database, so every worker and host sees one count.

A fixed window per key: the first attempt in a new window starts the count at 1,
each further one adds 1, in one atomic upsert (``INSERT … ON CONFLICT DO UPDATE …
RETURNING``, on SQLite and PostgreSQL alike), so attempts arriving at once on
several processes are each counted exactly once.

Why not Flask-Limiter's storage: it counts in process memory unless a Redis or
Memcached server is run beside the app; the database is already shared by all.
"""

from datetime import UTC, datetime, timedelta

from limits import RateLimitItem, parse
from sqlalchemy import Engine, case, delete
from sqlalchemy.dialects import postgresql, sqlite

from smarketing.service.users import LOGIN_KEY_MAX, login_attempts


def parse_limit(text: str) -> RateLimitItem:
    """``5 per minute``, ``10/hour``… (the ``limits`` notation); ValueError otherwise."""
    return parse(text)


def _window_start(now: datetime, seconds: int) -> datetime:
    epoch = datetime(1970, 1, 1)
    return epoch + timedelta(seconds=(now - epoch).total_seconds() // seconds * seconds)


def attempt(engine: Engine, key: str, limit: RateLimitItem) -> bool:
    """Count one attempt for ``key``; False once the window's attempts exceed the limit."""
    now = datetime.now(UTC).replace(tzinfo=None)
    seconds = limit.get_expiry()
    window = _window_start(now, seconds)
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(login_attempts).values(key=key[:LOGIN_KEY_MAX], window_start=window, count=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=[login_attempts.c.key],
        set_={
            "count": case(
                (login_attempts.c.window_start == stmt.excluded.window_start, login_attempts.c.count + 1),
                else_=1,
            ),
            "window_start": stmt.excluded.window_start,
        },
    ).returning(login_attempts.c.count)
    with engine.begin() as conn:
        counted = conn.execute(stmt).scalar_one()
        if counted == 1:  # a new window for this key: clear other keys' finished windows
            conn.execute(
                delete(login_attempts).where(
                    login_attempts.c.window_start < window - timedelta(seconds=seconds)
                )
            )
    return counted <= limit.amount
