"""Out of office: a user marked away is skipped by the assignment rules.

A column on ``users`` (plain SQL like the rest of user administration, audited in
``user_audit``); stores made before it get the column from ``upgrade_schema``
(``flask db init``), as ``integrations.upgrade_schema`` does for tokens.
"""

from sqlalchemy import Engine, inspect, select, text, update

from domain.errors import N_, InvalidInput
from smarketing.service.users import _audit, users


def upgrade_schema(engine: Engine) -> None:
    present = {column["name"] for column in inspect(engine).get_columns(users.name)}
    if "away" not in present:
        with engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE {users.name} ADD COLUMN away BOOLEAN NOT NULL DEFAULT FALSE"))


def set_away(engine: Engine, *, actor: str, username: str, away: bool) -> None:
    name = username.strip().lower()
    with engine.begin() as conn:
        changed = conn.execute(update(users).where(users.c.username == name).values(away=away)).rowcount
        if not changed:
            raise InvalidInput("username", N_("no user named %(name)s"), name=name)
        _audit(conn, actor, "away" if away else "back", name)


def away_users(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.scalars(select(users.c.username).where(users.c.away.is_(True))))


def available_sales(engine: Engine) -> list[str]:
    """Active sales users not marked away, by name: whom the rules may assign."""
    query = (
        select(users.c.username)
        .where(users.c.role == "sales", users.c.active.is_(True), users.c.away.is_(False))
        .order_by(users.c.username)
    )
    with engine.connect() as conn:
        return list(conn.scalars(query))
