"""Who gets which notification, at which address, in which language.

Kept beside the users (the event store's database, never emptied by a rebuild):
``notification_preferences`` holds the kinds a user turned *off* (so a kind added
later reaches everyone until they turn it off) and the address to mail. The user's
language is a column of ``users`` itself, added by ``upgrade_users`` to stores made
before it (as ``integrations.upgrade_schema`` does for tokens).

Users have no e-mail column: a user name that is an address is used as such, and
anyone can give another address on the preferences page.
"""

import re
from dataclasses import dataclass

from sqlalchemy import Column, Engine, MetaData, String, Table, inspect, select, text

from domain.errors import N_, InvalidInput
from smarketing.notifications.outbox import KINDS

metadata = MetaData()

LANGUAGES = ("es", "en")
DEFAULT_LANGUAGE = "es"  # the app's default, as in smarketing.web.core.i18n
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$")

notification_preferences = Table(
    "notification_preferences",
    metadata,
    Column("username", String(100), primary_key=True),
    Column("email", String(254), nullable=False, default=""),
    Column("disabled", String(200), nullable=False, default=""),  # space-separated kinds
)


@dataclass(frozen=True)
class Recipient:
    username: str
    role: str
    email: str
    language: str
    disabled: frozenset[str]

    def wants(self, kind: str) -> bool:
        return kind not in self.disabled


def create(engine: Engine) -> None:
    metadata.create_all(engine)
    upgrade_users(engine)


def upgrade_users(engine: Engine) -> None:
    """Add ``users.language`` to a users table made before it (idempotent)."""
    present = {c["name"] for c in inspect(engine).get_columns("users")}
    if "language" not in present:
        with engine.begin() as conn:
            conn.execute(
                text(
                    f"ALTER TABLE users ADD COLUMN language VARCHAR(5) NOT NULL DEFAULT '{DEFAULT_LANGUAGE}'"
                )
            )


def recipient(engine: Engine, username: str) -> Recipient | None:
    """The active user ``username`` with their choices, or None."""
    with engine.connect() as conn:
        user = conn.execute(
            text("SELECT username, role, language FROM users WHERE username = :u AND active"),
            {"u": username},
        ).first()
        if user is None:
            return None
        prefs = conn.execute(
            select(notification_preferences).where(notification_preferences.c.username == username)
        ).first()
    email = prefs.email if prefs is not None and prefs.email else ""
    if not email and EMAIL.match(user.username):
        email = user.username
    disabled = frozenset(prefs.disabled.split()) if prefs is not None else frozenset()
    language = user.language if user.language in LANGUAGES else DEFAULT_LANGUAGE
    return Recipient(user.username, user.role, email, language, disabled)


def save(engine: Engine, username: str, *, email: str, language: str, enabled: set[str]) -> None:
    """Store a user's choices; bad input is an ``InvalidInput`` the page shows translated."""
    email = email.strip()
    if email and not EMAIL.match(email):
        raise InvalidInput("email", N_("is not an e-mail address"))
    if language not in LANGUAGES:
        raise InvalidInput("language", N_("must be one of %(choices)s"), choices=", ".join(LANGUAGES))
    unknown = enabled - set(KINDS)
    if unknown:
        raise InvalidInput("kinds", N_("must be one of %(choices)s"), choices=", ".join(KINDS))
    disabled = " ".join(k for k in KINDS if k not in enabled)
    with engine.begin() as conn:
        conn.execute(notification_preferences.delete().where(notification_preferences.c.username == username))
        conn.execute(
            notification_preferences.insert().values(username=username, email=email, disabled=disabled)
        )
        conn.execute(
            text("UPDATE users SET language = :l WHERE username = :u"), {"l": language, "u": username}
        )
