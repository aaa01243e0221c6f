"""Lead summary: one row per lead for the list, search and filters."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    and_,
    literal,
    or_,
)

from domain.lead import Lead
from domain.vocabulary import Stage
from projections.engine import lead_search
from projections.engine.projector import Positioned, Projection
from projections.engine.rows import RowsByLead, lead_batch
from projections.engine.schema import metadata, month_of

lead_summary = Table(
    "lead_summary",
    metadata,
    Column("lead_id", String(32), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("name", String(200), nullable=False),
    Column("email", String(254), nullable=False),
    Column("company", String(200), nullable=False),
    Column("search_text", String(700), nullable=False),
    Column("source", String(100), nullable=False),
    Column("sourced_by", String(20), nullable=False),
    Column("campaign", String(100), nullable=False),
    Column("persona", String(100), nullable=False),
    Column("stage", String(20), nullable=False),
    Column("owner", String(100), nullable=False),
    Column("team", String(20), nullable=False),
    Column("captured_at", DateTime, nullable=False),
    Column("captured_month", String(7), nullable=False),
    Column("stage_entered_at", DateTime, nullable=False),
    Column("last_activity_at", DateTime, nullable=False),
    Column("mql_at", DateTime),
    Column("first_contact_at", DateTime),
    Column("last_contact_at", DateTime),
    Column("attempts", Integer, nullable=False),
    Column("interactions", Integer, nullable=False),
    Column("won_amount_cents", BigInteger),  # NULL: not won, or won with the amount unknown
    Column("currency", String(3), nullable=False),
    Column("amount_corrected_at", DateTime),  # the latest Lead.DealAmountCorrected
    Column("position", BigInteger, nullable=False),
    Index("ix_lead_summary_captured", "captured_at", "lead_id"),
    Index("ix_lead_summary_stage", "stage", "captured_at"),
    Index("ix_lead_summary_owner", "owner", "captured_at"),
    Index("ix_lead_summary_source", "source", "captured_at"),
    Index("ix_lead_summary_campaign", "campaign", "captured_at"),
    Index("ix_lead_summary_activity", "last_activity_at"),
    Index("ix_lead_summary_email", "email"),
    Index("ix_lead_summary_name", "name", "lead_id"),
    # Covering for the lead list's overdue filter (leads_query._overdue): with
    # only (stage, mql_at) it read the row of every MQL for last_contact_at; now the
    # index answers alone. Replaces ix_lead_summary_mql, which older stores keep.
    Index("ix_lead_summary_mql_contact", "stage", "mql_at", "last_contact_at"),
)

# MQLs with no contact since entering MQL: the lead list's overdue filter asks this
# partial index (a few dozen rows on the 1M store) for its leads first. PostgreSQL
# cannot estimate ``last_contact_at < mql_at`` and, filtering the full table, walked
# every lead in list order for the dozen that match, even after ANALYZE.
# The stage is a literal so that a query with this same predicate matches the index.
UNCONTACTED_MQL = and_(
    lead_summary.c.stage == literal(Stage.MQL.value, String, literal_execute=True),
    or_(lead_summary.c.last_contact_at.is_(None), lead_summary.c.last_contact_at < lead_summary.c.mql_at),
)
Index(
    "ix_lead_summary_uncontacted",
    lead_summary.c.mql_at,
    lead_summary.c.lead_id,
    sqlite_where=UNCONTACTED_MQL,
    postgresql_where=UNCONTACTED_MQL,
)


def search_text(name: str, email: str, company: str) -> str:
    return " ".join((name, email, company)).lower()


class LeadSummaryProjection(Projection):
    name = "lead_summary"
    tables = (lead_summary,)

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz

    def process(self, conn: Connection, events: list[Positioned]) -> None:
        batch = lead_batch(events)
        rows = RowsByLead(conn, lead_summary)
        rows.load(batch.stored)
        # search_text changes only here; lead_search (SQLite's trigram index) follows it.
        captured: dict[str, tuple[int, str]] = {}
        erased: dict[str, str] = {}
        row: dict[str, Any] | None  # a new lead's row, or a known one's (None: never captured)
        for position, key, event, at in batch.items:
            if isinstance(event, Lead.Captured):
                row = self._captured(key, event, at)
                captured[key] = (position, row["search_text"])
            else:
                row = rows.get(key)
                if row is None:  # a stream whose creation this model never saw
                    continue
                self._apply(row, event, at)
                if isinstance(event, Lead.PersonalDataErased):
                    if row["lead_id"] in captured:  # captured in this batch: not written yet
                        captured[row["lead_id"]] = (captured[row["lead_id"]][0], row["search_text"])
                    else:
                        erased[row["lead_id"]] = row["search_text"]
            row["version"] = event.originator_version
            row["position"] = position
            rows.put(row)
        rows.flush()
        lead_search.write(conn, captured, erased)

    def _captured(self, key: str, e: Any, at: datetime) -> dict[str, Any]:
        name, email = e.personal.get("name", ""), e.personal.get("email", "")
        return {
            "lead_id": key,
            "name": name,
            "email": email,
            "company": e.company,
            "search_text": search_text(name, email, e.company),
            "source": e.source,
            "sourced_by": e.sourced_by,
            "campaign": e.campaign,
            "persona": e.persona,
            "stage": Stage.LEAD.value,
            "owner": "",
            "team": "",
            "captured_at": at,
            "captured_month": month_of(e.occurred_at, self.tz),
            "stage_entered_at": at,
            "last_activity_at": at,
            "mql_at": None,
            "first_contact_at": None,
            "last_contact_at": None,
            "attempts": 0,
            "interactions": 0,
            "won_amount_cents": None,
            "currency": "",
            "amount_corrected_at": None,
        }

    def _apply(self, row: dict[str, Any], e: Any, at: datetime) -> None:
        if isinstance(e, Lead.PersonalDataErased):
            # Crypto-shredding: blank the personal columns, leave every business fact as it was.
            row.update(name="", email="", search_text=search_text("", "", row["company"]))
            return
        if isinstance(e, Lead.DealAmountCorrected):  # a correction, not an activity of the lead
            row.update(won_amount_cents=int(e.amount * 100), currency=e.currency, amount_corrected_at=at)
            return
        row["last_activity_at"] = max(row["last_activity_at"], at)
        if isinstance(e, Lead.InteractionRecorded):
            row["interactions"] += 1
        elif isinstance(e, Lead.ContactAttempted):
            row["attempts"] += 1
            if row["first_contact_at"] is None or at < row["first_contact_at"]:
                row["first_contact_at"] = at
            if row["last_contact_at"] is None or at > row["last_contact_at"]:
                row["last_contact_at"] = at
        elif isinstance(e, Lead.OwnerAssigned):
            row["owner"], row["team"] = e.owner, e.team
        if hasattr(e, "to_stage"):
            row["stage"] = e.to_stage
            row["stage_entered_at"] = at
            if e.to_stage == Stage.MQL:
                row["mql_at"] = at
        if isinstance(e, Lead.DealWon):
            row["won_amount_cents"] = None if e.amount is None else int(e.amount * 100)  # None: unknown
            row["currency"] = e.currency
