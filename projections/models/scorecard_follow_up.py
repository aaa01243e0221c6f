"""Per MQL entry, what the scorecard's follow-up figures need, kept indexable.

``scorecard_query`` used to fetch every MQL fact of a month and every contact
attempt of those leads (~9k rows per month at 100k leads) into Python, four
times per dashboard plus once more for the breaches. Here each MQL fact (an
entry into MQL, stamped with its month and attribution like ``sla_facts``)
keeps the first contact attempt dated at or after it and, per attempt dated at
or after it, the delay in seconds. The terms (N hours, D days, the calendar)
change per month and stay read-time conditions: "attempts within D days" is a
count of delay rows ≤ D, the first-contact delays are one indexed read.

Same definitions as the facts they replace: an attempt counts for an entry
when dated at or after it, whatever happened to the lead since (later stage
changes, a re-entry), so a backdated entry or attempt re-derives the lead's
rows from its stored entries and attempts.

Entries are the stated ones only (``fact_kind`` is "mql"): an MQL that a skip
Lead -> SQL implies counts as an MQL reached in the scorecard and the funnel, but
starts no follow-up clock, since sales already had the lead (docs/FIGURES.md,
"Reaching a stage").

Its own projection (rather than more tables of ``scorecard``) so an existing
store builds it with ``flask db init`` + ``flask projections catch-up``.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
    delete,
    select,
)

from domain.lead import Lead
from projections.engine.month_marks import mark, marks_table
from projections.engine.projector import Positioned, Projection
from projections.engine.rows import RowsByLead, chunks, insert_rows, lead_batch
from projections.engine.schema import metadata, month_of
from projections.models.scorecard import fact_kind

ATTRIBUTION = ("source", "sourced_by", "campaign", "owner")

# Attribution now, per lead: an entry is stamped with it (as sla_facts are).
sfu_leads = Table(
    "sfu_leads",
    metadata,
    Column("lead_id", String(32), primary_key=True),
    *(Column(name, String(100), nullable=False) for name in ATTRIBUTION),
)

sfu_entries = Table(
    "sfu_entries",
    metadata,
    Column("lead_id", String(32), primary_key=True),
    Column("version", Integer, primary_key=True),  # of the event that entered MQL
    Column("month", String(7), nullable=False),
    Column("entered_at", DateTime, nullable=False),
    Column("first_attempt_at", DateTime),
    # (first_attempt_at - entered_at) in seconds: the delays are read as floats,
    # not as two datetimes to parse per row (most of the read time on SQLite).
    Column("first_delay_seconds", Float),
    # 1 on the lead's earliest entry of the month, the one an unfiltered month counts
    # (as min(occurred_at) per lead did); filtered months find theirs at read time.
    Column("first_in_month", Integer, nullable=False),
    *(Column(name, String(100), nullable=False) for name in ATTRIBUTION),
    # Covering for the unfiltered month: delays, never contacted, unanswered by a cut-off.
    Index("ix_sfu_entries_month", "month", "first_in_month", "first_delay_seconds", "entered_at"),
    # Covering for a meeting's window (entered between two times): late and unanswered
    # counted from the index alone, not ~3,000 table rows per count at 1M events.
    Index("ix_sfu_entries_entered_first", "entered_at", "first_delay_seconds", "first_attempt_at"),
    # The "earlier entry of the same lead" probe of scorecard_query.first_entries.
    Index("ix_sfu_entries_lead", "lead_id", "month", "entered_at"),
    # Covering for a filtered month: the entries of the month and the earlier-entry
    # probe (month, lead_id) both read the attribution and delays from the index.
    Index(
        "ix_sfu_entries_month_lead",
        "month",
        "lead_id",
        "entered_at",
        "version",
        *ATTRIBUTION,
        "first_delay_seconds",
        "first_attempt_at",
    ),
)

# Every contact attempt of a lead, so a later (or backdated) entry finds the attempts after it.
sfu_attempts = Table(
    "sfu_attempts",
    metadata,
    Column("lead_id", String(32), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("occurred_at", DateTime, nullable=False),
)

# One row per (entry, attempt dated at or after it): "attempts within D days" is delay ≤ D.
sfu_delays = Table(
    "sfu_delays",
    metadata,
    Column("lead_id", String(32), primary_key=True),
    Column("entry_version", Integer, primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("delay_seconds", Float, nullable=False),
    # Copied from the entry so an unfiltered month counts attempts within D on one index range.
    Column("month", String(7), nullable=False),
    Column("first_in_month", Integer, nullable=False),
    Index("ix_sfu_delays_month", "month", "first_in_month", "delay_seconds"),
    # Covering for a filtered month (the delays of the entries chosen, by entry): without
    # it PostgreSQL hashed a sequential scan of every delay row (per month, 4 a page).
    Index("ix_sfu_delays_entry", "lead_id", "entry_version", "delay_seconds"),
)

# Per month, the position of the last batch that rewrote entries of it (projections.engine.month_marks).
sfu_months = marks_table("sfu_months")


class ScorecardFollowUpProjection(Projection):
    name = "scorecard_follow_up"
    tables = (sfu_leads, sfu_entries, sfu_attempts, sfu_delays, sfu_months)

    def __init__(self, tz: Any) -> None:
        self.tz = tz

    def process(self, conn: Connection, events: list[Positioned]) -> None:
        batch = lead_batch(events)
        stored = batch.stored
        leads = RowsByLead(conn, sfu_leads)
        leads.load(stored)
        new_entries: dict[str, list[dict[str, Any]]] = {}
        new_attempts: list[dict[str, Any]] = []
        latest: dict[str, int] = {}  # lead -> position of its latest entry or attempt here
        for position, key, event, at in batch.without_interactions:
            if isinstance(event, Lead.Captured):
                row = {"lead_id": key, "owner": ""}
                row |= {name: getattr(event, name) for name in ("source", "sourced_by", "campaign")}
                leads.put(row)
            lead = leads.get(key)
            if lead is None:  # the same streams the scorecard facts skip
                continue
            if isinstance(event, Lead.OwnerAssigned):
                lead["owner"] = event.owner
                leads.put(lead)
            kind = fact_kind(event)
            if kind in ("mql", "contact_attempt"):
                latest[lead["lead_id"]] = position
            if kind == "mql":
                new_entries.setdefault(lead["lead_id"], []).append(
                    {
                        "lead_id": lead["lead_id"],
                        "version": event.originator_version,
                        "month": month_of(event.occurred_at, self.tz),
                        "entered_at": at,
                        "first_attempt_at": None,
                    }
                    | {name: lead[name] for name in ATTRIBUTION}
                )
            elif kind == "contact_attempt":
                new_attempts.append(
                    {
                        "lead_id": lead["lead_id"],
                        "version": event.originator_version,
                        "occurred_at": at,
                    }
                )
        leads.flush()
        insert_rows(conn, sfu_attempts, new_attempts)
        touched = sorted(new_entries.keys() | {r["lead_id"] for r in new_attempts})
        months: dict[str, int] = {}
        # An attempt changes the months of the lead's entries, not its own month.
        for lead_id, month in self._rederive(conn, touched, new_entries, new_attempts, stored):
            months[month] = max(months.get(month, 0), latest[lead_id])
        mark(conn, sfu_months, months)

    def _rederive(
        self,
        conn: Connection,
        lead_ids: list[str],
        new_entries: dict[str, list[dict[str, Any]]],
        new_attempts: list[dict[str, Any]],
        stored: set[str],
    ) -> set[tuple[str, str]]:
        """Rewrite first attempt and delays of every entry of these leads (few rows per
        lead); return the (lead, month) of those entries."""
        entries = {lead_id: list(new_entries.get(lead_id, ())) for lead_id in lead_ids}
        attempts: dict[str, list[tuple[datetime, int]]] = {lead_id: [] for lead_id in lead_ids}
        # Leads first seen in this batch have nothing stored: their attempts are the new ones.
        for row in new_attempts:
            if row["lead_id"] not in stored:
                attempts[row["lead_id"]].append((row["occurred_at"], row["version"]))
        for chunk in chunks([lead_id for lead_id in lead_ids if lead_id in stored]):
            for stored_row in conn.execute(select(sfu_entries).where(sfu_entries.c.lead_id.in_(chunk))):
                entries[stored_row.lead_id].append(dict(stored_row._mapping))
            a = sfu_attempts.c
            for lead_id, version, at in conn.execute(
                select(a.lead_id, a.version, a.occurred_at).where(a.lead_id.in_(chunk))
            ):  # the new ones included: inserted above
                attempts[lead_id].append((at, version))
            conn.execute(delete(sfu_delays).where(sfu_delays.c.lead_id.in_(chunk)))
            conn.execute(delete(sfu_entries).where(sfu_entries.c.lead_id.in_(chunk)))
        rows, delays = [], []
        for lead_id in lead_ids:
            firsts: dict[str, int] = {}  # month -> the lead's earliest entry in it
            for entry in sorted(entries[lead_id], key=lambda e: (e["entered_at"], e["version"])):
                firsts.setdefault(entry["month"], entry["version"])
            for entry in entries[lead_id]:
                start = entry["entered_at"]
                first_in_month = int(firsts[entry["month"]] == entry["version"])
                since = sorted(a for a in attempts[lead_id] if a[0] >= start)
                rows.append(
                    entry
                    | {
                        "first_attempt_at": since[0][0] if since else None,
                        "first_delay_seconds": (since[0][0] - start).total_seconds() if since else None,
                        "first_in_month": first_in_month,
                    }
                )
                delays += [
                    {
                        "lead_id": lead_id,
                        "entry_version": entry["version"],
                        "version": version,
                        "delay_seconds": (at - start).total_seconds(),
                        "month": entry["month"],
                        "first_in_month": first_in_month,
                    }
                    for at, version in since
                ]
        insert_rows(conn, sfu_entries, rows)
        insert_rows(conn, sfu_delays, delays)
        return {(row["lead_id"], row["month"]) for row in rows}
