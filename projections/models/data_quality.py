"""Data-quality flags: history recorded out of order, kept as recorded and marked.

An imported (or back-dated) history may say a lead moved before it existed, or
moved to a stage earlier than it entered the previous one. Such events are never
rewritten (events are forever); this read model flags each one, durably, so the
lead page, its timeline, the lead export and the data-quality page can show it.

Kinds (one flag per offending event, the first that applies):

- ``won_before_first_contact``: a deal won before the lead's first contact
  (its capture, the business time the lead entered the funnel).
- ``stage_before_first_contact``: any other stage change (to MQL, SQL, lost, ...)
  dated before the lead's first contact.
- ``stage_dates_backwards``: a stage change dated before the lead's previous
  stage change (the stages' dates go backwards).

Each flag keeps the event's version and business time, and what it was compared
with (``reference_at``: the first contact or the previous stage change) and the
stage the event moved to: the page words the detail in the reader's language.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    func,
    select,
)

from domain.lead import Lead
from projections.engine.projector import Positioned, Projection
from projections.engine.rows import RowsByLead, chunks, insert_rows, lead_batch
from projections.engine.schema import from_db, metadata

WON_BEFORE_FIRST_CONTACT = "won_before_first_contact"
STAGE_BEFORE_FIRST_CONTACT = "stage_before_first_contact"
STAGE_DATES_BACKWARDS = "stage_dates_backwards"
KINDS = (WON_BEFORE_FIRST_CONTACT, STAGE_BEFORE_FIRST_CONTACT, STAGE_DATES_BACKWARDS)

# What the projection needs to remember of each lead between batches.
data_quality_leads = Table(
    "data_quality_leads",
    metadata,
    Column("lead_id", String(32), primary_key=True),
    Column("captured_at", DateTime, nullable=False),
    Column("last_stage_at", DateTime),
)

data_quality_flags = Table(
    "data_quality_flags",
    metadata,
    Column("lead_id", String(32), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("occurred_at", DateTime, nullable=False),
    Column("reference_at", DateTime, nullable=False),
    Column("stage", String(20), nullable=False),
    Column("position", BigInteger, nullable=False),
    Index("ix_data_quality_flags_kind", "kind", "occurred_at", "lead_id"),
)

# The events that move a lead between stages (each has ``to_stage``).
_STAGE_EVENTS = (Lead.StageChanged, Lead.MQLRejected, Lead.DealWon, Lead.DealLost)


def flag_kind(event: Any, at: datetime, captured_at: datetime, last_stage_at: datetime | None) -> str | None:
    """The flag an event at business time ``at`` deserves, if any (naive UTC times)."""
    if at < captured_at:
        return WON_BEFORE_FIRST_CONTACT if isinstance(event, Lead.DealWon) else STAGE_BEFORE_FIRST_CONTACT
    if last_stage_at is not None and at < last_stage_at:
        return STAGE_DATES_BACKWARDS
    return None


class DataQualityProjection(Projection):
    name = "data_quality"
    tables = (data_quality_leads, data_quality_flags)

    def process(self, conn: Connection, events: list[Positioned]) -> None:
        batch = lead_batch(events)
        leads = RowsByLead(conn, data_quality_leads)
        leads.load(batch.stored)
        flags: list[dict[str, Any]] = []
        for position, key, event, at in batch.without_interactions:
            if isinstance(event, Lead.Captured):
                leads.put({"lead_id": key, "captured_at": at, "last_stage_at": at})
                continue
            if not isinstance(event, _STAGE_EVENTS):
                continue
            row = leads.get(key)
            if row is None:  # a stream whose creation this model never saw
                continue
            kind = flag_kind(event, at, row["captured_at"], row["last_stage_at"])
            if kind is not None:
                reference = row["captured_at"] if kind != STAGE_DATES_BACKWARDS else row["last_stage_at"]
                flags.append(
                    {
                        "lead_id": key,
                        "version": event.originator_version,
                        "kind": kind,
                        "occurred_at": at,
                        "reference_at": reference,
                        "stage": event.to_stage,
                        "position": position,
                    }
                )
            leads.put(row | {"last_stage_at": at})
        leads.flush()
        insert_rows(conn, data_quality_flags, flags)


# --- queries ------------------------------------------------------------------


def _flag(row: Any) -> dict[str, Any]:
    return {
        "lead_id": row.lead_id,
        "version": row.version,
        "kind": row.kind,
        "occurred_at": from_db(row.occurred_at),
        "reference_at": from_db(row.reference_at),
        "stage": row.stage,
    }


def lead_flags(conn: Connection, lead_id: str) -> list[dict[str, Any]]:
    """One lead's flags, in the order of its history."""
    rows = conn.execute(
        select(data_quality_flags)
        .where(data_quality_flags.c.lead_id == lead_id)
        .order_by(data_quality_flags.c.version)
    )
    return [_flag(r) for r in rows]


def kinds_by_lead(conn: Connection, lead_ids: list[str]) -> dict[str, list[str]]:
    """Per lead (of these), the kinds of its flags, sorted: for a page of the lead export."""
    found: dict[str, set[str]] = {}
    for chunk in chunks(sorted(set(lead_ids))):
        query = select(data_quality_flags.c.lead_id, data_quality_flags.c.kind).where(
            data_quality_flags.c.lead_id.in_(chunk)
        )
        for lead_id, kind in conn.execute(query):
            found.setdefault(lead_id, set()).add(kind)
    return {lead_id: sorted(kinds) for lead_id, kinds in found.items()}


def counts(conn: Connection) -> dict[str, dict[str, int]]:
    """Per kind: flags and distinct leads flagged (every kind, zero included)."""
    result = {kind: {"flags": 0, "leads": 0} for kind in KINDS}
    query = select(
        data_quality_flags.c.kind,
        func.count(),
        func.count(data_quality_flags.c.lead_id.distinct()),
    ).group_by(data_quality_flags.c.kind)
    for kind, flags, leads in conn.execute(query):
        result[kind] = {"flags": flags, "leads": leads}
    return result


def flags_of_kind(conn: Connection, kind: str, limit: int | None = None) -> list[dict[str, Any]]:
    """The flags of one kind, by business time (the earliest first)."""
    flags = data_quality_flags.c
    query = (
        select(data_quality_flags)
        .where(flags.kind == kind)
        .order_by(flags.occurred_at, flags.lead_id, flags.version)
    )
    if limit is not None:
        query = query.limit(limit)
    return [_flag(r) for r in conn.execute(query)]
