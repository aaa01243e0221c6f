"""The outbox as a projection of the log: assignments and rejected MQLs.

A Projection like the read models (its own tracking row, applied in the same
transaction), but its table is not in ``tables``: a rebuild rewinds it and the
replay inserts the same deterministic ids again, which ``outbox.add`` skips, so a
rebuild never empties the outbox nor notifies anyone twice.

Events recorded, or that happened, more than ``fresh_for`` before the clock's now
are passed by: the first catch-up on a store older than this feature, a rebuild, or
an import of last year's history (recorded today, dated then) must not mail people
about last year's assignments. Nor is anyone notified who is not a user of the app
(an imported owner such as a seller's id in the Olist data).
"""

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Table, select, text

from domain.lead import Lead
from projections.engine.projector import Positioned, Projection
from smarketing.notifications import outbox
from smarketing.notifications.clock import Clock, utc_now


def active_users(engine: Engine) -> set[str]:
    """Everyone who can sign in, and so read a notification."""
    with engine.connect() as conn:
        return {r.username for r in conn.execute(text("SELECT username FROM users WHERE active"))}


def marketing_users(engine: Engine) -> list[str]:
    """The active marketing users (the read engine sees the users table: on SQLite the
    event store's file is attached to it)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT username FROM users WHERE role = 'marketing' AND active ORDER BY username")
        )
        return [r.username for r in rows]


class OutboxProjection(Projection):
    name = "notification_outbox"
    tables: Sequence[Table] = ()  # kept by rebuilds on purpose (module docstring)

    def __init__(self, clock: Clock = utc_now, fresh_for: timedelta = timedelta(days=1)) -> None:
        self.clock = clock
        self.fresh_for = fresh_for
        self._marketing: Callable[[], list[str]] = lambda: []
        self._users: Callable[[], set[str]] = set

    def use_users(self, read_engine: Engine) -> None:
        """Where the users are read from (set by the composition root)."""
        self._marketing = lambda: marketing_users(read_engine)
        self._users = lambda: active_users(read_engine)

    def process(self, conn: Connection, events: list[Positioned]) -> None:
        now = self.clock()
        rows: list[dict[str, Any]] = []
        marketing: list[str] | None = None
        users: set[str] | None = None
        for position, event in events:
            if not isinstance(event, Lead.OwnerAssigned | Lead.MQLRejected):
                continue
            recorded: datetime = event.timestamp
            if now - recorded > self.fresh_for or now - event.occurred_at > self.fresh_for:
                continue
            lead_id = event.originator_id.hex
            at = recorded.replace(tzinfo=None)
            if isinstance(event, Lead.OwnerAssigned):
                # Taking a lead oneself is not news to oneself.
                if users is None:
                    users = self._users()  # once per batch, and only when needed
                if event.owner in users and event.owner != getattr(event, "actor", ""):
                    kind = outbox.ASSIGNED
                    rows.append(
                        outbox.row(_event_id(position, kind, event.owner), kind, event.owner, at, lead_id)
                    )
                continue
            if marketing is None:
                marketing = self._marketing()  # once per batch, and only when needed
            kind = outbox.REJECTED
            rows += [
                outbox.row(_event_id(position, kind, user), kind, user, at, lead_id) for user in marketing
            ]
        outbox.add(conn, rows)

    def bulk_tables(self) -> Sequence[Table]:
        return ()


def _event_id(position: int, kind: str, recipient: str) -> str:
    return outbox.notification_id("event", position, kind, recipient)


def outbox_ids(conn: Connection) -> list[str]:
    """Every id in the outbox (tests)."""
    return [r.id for r in conn.execute(select(outbox.outbox.c.id))]
