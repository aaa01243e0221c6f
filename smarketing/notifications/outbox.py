"""The outbox: one row per (notification, recipient), written idempotently.

Every row's id is a uuid5 of what it is about: the event's log position, kind and
recipient for event-driven notifications (``OutboxProjection``), the lead, deadline,
kind and recipient for time-driven ones (``scheduler``), the import job's id for an
import. A replay, a rebuild or a second projector inserts the same ids, and the
insert skips ids already there, so nobody is notified twice for one thing.

The table has its own MetaData: ``Projector.rebuild`` empties the read models'
tables, and that must never forget what was sent (a rebuild would send it all
again). It lives where the projector writes (SQLite: the read models' file), so the
projection inserts in the same transaction as its tracking row.

Status: ``pending`` → ``sending`` (claimed by a sender) → ``sent``; or ``off`` (the
recipient turned that kind off), ``no_address`` (no e-mail address known),
``nobody`` (no active user of that name). In-app every row is shown whatever its
e-mail status.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    func,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from domain.errors import N_

metadata = MetaData()

ASSIGNED = "assigned"
REJECTED = "rejected"
DUE_SOON = "due_soon"
OVERDUE = "overdue"
IMPORT_DONE = "import_done"
MEETING_PACK = "meeting_pack"
KINDS = (ASSIGNED, REJECTED, DUE_SOON, OVERDUE, IMPORT_DONE, MEETING_PACK)
# Shown on the preferences page; the e-mail texts are in smarketing/notifications/mail.py.
KIND_LABELS = {
    ASSIGNED: N_("A lead is assigned to me"),
    REJECTED: N_("An MQL is rejected back to marketing"),
    DUE_SOON: N_("My follow-up is due in an hour"),
    OVERDUE: N_("My follow-up is overdue"),
    IMPORT_DONE: N_("My import has finished"),
    MEETING_PACK: N_("The weekly meeting pack is ready"),
}

PENDING, SENDING, SENT = "pending", "sending", "sent"
OFF, NO_ADDRESS, NOBODY = "off", "no_address", "nobody"

_NAMESPACE = uuid.UUID("6f1c2a57-1d0e-4d55-9a51-5b0b8a4e2c22")

outbox = Table(
    "notification_outbox",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("recipient", String(100), nullable=False),
    Column("lead_id", String(32)),  # never the lead's name: it is looked up when shown
    Column("detail", String(200), nullable=False, default=""),  # e.g. an import's counts
    Column("created_at", DateTime, nullable=False),  # naive UTC, like the read models
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime, nullable=False),
    Column("claimed_at", DateTime),
    Column("sent_at", DateTime),
    Column("read_at", DateTime),
    Column("last_error", String(300), nullable=False, default=""),
    Index("ix_notification_outbox_due", "status", "next_attempt_at"),
    Index("ix_notification_outbox_recipient", "recipient", "created_at"),
)


def notification_id(*parts: object) -> str:
    """The deterministic id of a notification: the same parts, the same id."""
    return uuid.uuid5(_NAMESPACE, "|".join(str(p) for p in parts)).hex


def row(
    id_: str, kind: str, recipient: str, at: datetime, lead_id: str | None = None, detail: str = ""
) -> dict[str, Any]:
    return {
        "id": id_,
        "kind": kind,
        "recipient": recipient,
        "lead_id": lead_id,
        "detail": detail[:200],
        "created_at": at,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": at,
        "claimed_at": None,
        "sent_at": None,
        "read_at": None,
        "last_error": "",
    }


def add(conn: Connection, rows: Iterable[dict[str, Any]]) -> int:
    """Insert the rows whose ids are new; return how many were."""
    values = list(rows)
    if not values:
        return 0
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = dialect_insert(outbox).values(values).on_conflict_do_nothing(index_elements=["id"])
    # RETURNING, not rowcount: PostgreSQL's driver answers -1 for a multi-row insert.
    return len(conn.execute(statement.returning(outbox.c.id)).all())


def create(engine: Engine) -> None:
    metadata.create_all(engine)


# --- the in-app list ------------------------------------------------------------


def recent(engine: Engine, recipient: str, limit: int = 50) -> list[dict[str, Any]]:
    query = (
        select(outbox)
        .where(outbox.c.recipient == recipient)
        .order_by(outbox.c.created_at.desc(), outbox.c.id)
        .limit(limit)
    )
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]


def unread_count(engine: Engine, recipient: str) -> int:
    query = select(func.count()).where(outbox.c.recipient == recipient, outbox.c.read_at.is_(None))
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def mark_read(engine: Engine, recipient: str, at: datetime, id_: str | None = None) -> int:
    """Mark one (or, without ``id_``, every) unread notification of ``recipient`` read."""
    statement = update(outbox).where(outbox.c.recipient == recipient, outbox.c.read_at.is_(None))
    if id_ is not None:
        statement = statement.where(outbox.c.id == id_)
    with engine.begin() as conn:
        return int(conn.execute(statement.values(read_at=at)).rowcount or 0)
