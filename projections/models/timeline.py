"""Lead timeline: each lead's events in order, ready to show to a person."""

import json
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    select,
    update,
)

from domain.lead import Lead
from projections.engine.plain import plain
from projections.engine.projector import Positioned, Projection
from projections.engine.rows import insert_tuples, lead_batch
from projections.engine.schema import metadata, to_db

lead_timeline = Table(
    "lead_timeline",
    metadata,
    Column("lead_id", String(32), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("position", BigInteger, nullable=False, index=True),
    Column("event_type", String(50), nullable=False),
    Column("occurred_at", DateTime, nullable=False),
    Column("recorded_at", DateTime, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("data", Text, nullable=False),
)

# Every event's own fields (the library's and the who/when of every event class): kept
# in their own columns, so the timeline's data and the audit's field lists leave them out.
BOOKKEEPING = (
    "originator_id",
    "originator_version",
    "timestamp",
    "actor",
    "occurred_at",
    "originator_topic",
)

# The C encoder writes str, numbers, None, lists and dicts itself, as ``plain``
# would make them (a decoded event's dict keys are all str: it came from JSON), and
# asks ``plain`` for the rest (times, amounts, ids, sets). Same text as encoding
# ``plain`` of every value first, without a Python call per value. Built once:
# ``json.dumps`` with options builds an encoder per call.
_encode = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=plain).encode


def event_fields(event: Any) -> dict[str, Any]:
    """The event's own fields, business and personal (a C copy, then the few
    bookkeeping keys out: run for every event of a rebuild)."""
    fields = vars(event).copy()
    for key in BOOKKEEPING:
        fields.pop(key, None)
    return fields


def data_text(event: Any) -> str:
    """The timeline's ``data``: the event's own fields as sorted JSON."""
    return _encode(event_fields(event))


class TimelineProjection(Projection):
    name = "lead_timeline"
    tables = (lead_timeline,)

    def process(self, conn: Connection, events: list[Positioned]) -> None:
        items = lead_batch(events).items
        # Values in the table's column order (insert_tuples): a row per event.
        rows = [
            (
                key,
                e.originator_version,
                position,
                type(e).__name__,
                at,
                to_db(e.timestamp),
                e.actor,
                data_text(e),
            )
            for position, key, e, at in items
        ]
        insert_tuples(conn, lead_timeline, rows)
        for _, key, e, _ in items:
            if isinstance(e, Lead.PersonalDataErased):
                erase_personal(conn, key, e.originator_version)


def erase_personal(conn: Connection, lead_id: str, before_version: int) -> None:
    """Blank the personal values kept in a lead's timeline rows (crypto-shredding)."""
    found = conn.execute(
        select(lead_timeline.c.version, lead_timeline.c.data).where(
            lead_timeline.c.lead_id == lead_id, lead_timeline.c.version < before_version
        )
    ).all()
    for version, data in found:
        values = json.loads(data)
        personal = values.get("personal")
        # Rows projected before reasons were sealed hold theirs beside ``personal``.
        if not (isinstance(personal, dict) and any(personal.values())) and not values.get("reason"):
            continue
        values["personal"] = dict.fromkeys(personal or {}, "")
        values.pop("reason", None)
        values["personal_erased"] = True
        conn.execute(
            update(lead_timeline)
            .where(lead_timeline.c.lead_id == lead_id, lead_timeline.c.version == version)
            .values(data=json.dumps(values, sort_keys=True, ensure_ascii=False))
        )
