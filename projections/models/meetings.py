"""Read model of the joint meetings: every decision and action item, with
whether (and when, by whom) each action item was marked done."""

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Integer,
    String,
    Table,
    insert,
    select,
    update,
)

from domain.meeting import Meeting
from projections.engine.projector import Positioned, Projection
from projections.engine.schema import from_db, metadata, to_db

meetings = Table(
    "meetings",
    metadata,
    Column("meeting_id", String(32), primary_key=True),
    Column("kind", String(10), nullable=False),
    Column("period", String(10), nullable=False),
)

meeting_items = Table(
    "meeting_items",
    metadata,
    Column("position", BigInteger, primary_key=True),
    Column("meeting_id", String(32), nullable=False, index=True),
    Column("item", String(10), nullable=False),  # decision | action
    Column("number", Integer),  # action items only
    Column("text", String(2000), nullable=False),
    Column("owner", String(100), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("recorded_at", DateTime, nullable=False),
    Column("done_at", DateTime),
    Column("done_by", String(100)),
    Column("done_note", String(2000)),
)


class MeetingsProjection(Projection):
    name = "meetings"
    tables = (meetings, meeting_items)

    def process(self, conn: Connection, events: list[Positioned]) -> None:
        for position, e in events:
            if not isinstance(e, Meeting.Event):
                continue
            meeting = e.originator_id.hex
            if isinstance(e, Meeting.Created):
                conn.execute(insert(meetings), [{"meeting_id": meeting, "kind": e.kind, "period": e.period}])
            elif isinstance(e, Meeting.ActionItemDone):
                conn.execute(
                    update(meeting_items)
                    .where(meeting_items.c.meeting_id == meeting, meeting_items.c.number == e.number)
                    .values(done_at=to_db(e.occurred_at), done_by=e.actor, done_note=e.note)
                )
            elif isinstance(e, Meeting.ActionItemAdded | Meeting.DecisionRecorded):
                action = isinstance(e, Meeting.ActionItemAdded)
                row = {
                    "position": position,
                    "meeting_id": meeting,
                    "item": "action" if action else "decision",
                    "number": e.number if isinstance(e, Meeting.ActionItemAdded) else None,
                    "text": e.text,
                    "owner": e.owner if isinstance(e, Meeting.ActionItemAdded) else "",
                    "actor": e.actor,
                    "recorded_at": to_db(e.occurred_at),
                }
                conn.execute(insert(meeting_items), [row])


def _select() -> Any:
    return select(meeting_items, meetings.c.kind, meetings.c.period).join(
        meetings, meetings.c.meeting_id == meeting_items.c.meeting_id
    )


def _row(r: Any) -> dict[str, Any]:
    item = dict(r._mapping)
    item["recorded_at"] = from_db(item["recorded_at"])
    item["done_at"] = from_db(item["done_at"])
    return item


def items_of(conn: Connection, meeting_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        _select().where(meeting_items.c.meeting_id == meeting_id).order_by(meeting_items.c.position)
    )
    return [_row(r) for r in rows]


def open_actions(conn: Connection, except_meeting: str = "") -> list[dict[str, Any]]:
    """Action items not yet done from other meetings, oldest first: they follow into every pack."""
    statement = _select().where(
        meeting_items.c.item == "action",
        meeting_items.c.done_at.is_(None),
        meeting_items.c.meeting_id != except_meeting,
    )
    return [_row(r) for r in conn.execute(statement.order_by(meeting_items.c.position))]
