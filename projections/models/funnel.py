"""Funnel: per lead, when it first reached each stage, plus time spent in stages.

Counting rules (also in the README):
- a lead counts once per stage it reached, however often it re-entered it;
- a skip forward (Lead -> SQL, stated with a reason) counts the skipped stages
  as reached at the same moment, so conversions stay between 0 and 100 %
  (``domain.lifecycle.stages_reached``, shared with the scorecard);
  a skipped stage has no time-in-stage row, since nobody spent time in it;
- recycling and rejections are counted per lead, beside the funnel.
"""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Column, Connection, DateTime, Float, Index, Integer, String, Table

from domain.lead import Lead
from domain.lifecycle import stages_reached
from domain.vocabulary import Stage
from projections.engine.month_marks import mark, marks_table
from projections.engine.projector import Positioned, Projection
from projections.engine.rows import RowsByLead, insert_rows, lead_batch
from projections.engine.schema import metadata, month_of

REACHED = {
    Stage.MQL.value: "reached_mql_at",
    Stage.SQL.value: "reached_sql_at",
    Stage.OPPORTUNITY.value: "reached_opportunity_at",
    Stage.CUSTOMER.value: "reached_customer_at",
}

funnel_leads = Table(
    "funnel_leads",
    metadata,
    Column("lead_id", String(32), primary_key=True),
    Column("cohort_month", String(7), nullable=False),
    Column("source", String(100), nullable=False),
    Column("campaign", String(100), nullable=False),
    Column("owner", String(100), nullable=False),
    Column("stage", String(20), nullable=False),
    Column("captured_at", DateTime, nullable=False),
    Column("stage_entered_at", DateTime, nullable=False),
    *(Column(column, DateTime) for column in REACHED.values()),
    Column("disqualified_at", DateTime),
    Column("recycled_count", Integer, nullable=False),
    Column("rejected_count", Integer, nullable=False),
    Column("skip_count", Integer, nullable=False),
    # (cohort_month, lead_id): the month's lead ids without a table read per lead
    # (the join in funnel_query._median_days). Replaces ix_funnel_leads_cohort.
    Index("ix_funnel_leads_cohort_lead", "cohort_month", "lead_id"),
    # The dashboard lists each dimension's values and filters a month by one of them.
    Index("ix_funnel_leads_source", "source", "cohort_month"),
    Index("ix_funnel_leads_campaign", "campaign", "cohort_month"),
    Index("ix_funnel_leads_owner", "owner", "cohort_month"),
)

funnel_stage_times = Table(
    "funnel_stage_times",
    metadata,
    Column("lead_id", String(32), primary_key=True),
    Column("exit_version", Integer, primary_key=True),
    Column("stage", String(20), nullable=False),
    Column("seconds", Float, nullable=False),
    # Covering for the dashboard's median days per stage (funnel_query._median_days):
    # with only lead_id it read ~3k table rows per request. Replaces
    # ix_funnel_stage_times_lead (same prefix), which older stores keep.
    Index("ix_funnel_stage_times_lead_stage", "lead_id", "stage", "seconds"),
)


# Per cohort month, the position of the latest event that changed its leads' rows
# (projections.engine.month_marks): what a cached cohort funnel is keyed by (funnel_cache).
funnel_months = marks_table("funnel_months")


class FunnelProjection(Projection):
    name = "funnel"
    tables = (funnel_leads, funnel_stage_times, funnel_months)

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz

    def process(self, conn: Connection, events: list[Positioned]) -> None:
        batch = lead_batch(events)
        rows = RowsByLead(conn, funnel_leads)
        rows.load(batch.stored)
        stage_times: list[dict[str, Any]] = []
        months: dict[str, int] = {}  # cohort month -> position of its latest change
        row: dict[str, Any] | None  # a new lead's row, or a known one's (None: never captured)
        for position, key, event, at in batch.without_interactions:
            if isinstance(event, Lead.Captured):
                row = self._captured(key, event, at)
                rows.put(row)
                months[row["cohort_month"]] = position
                continue
            row = rows.get(key)
            if row is None:
                continue
            if isinstance(event, Lead.OwnerAssigned):
                row["owner"] = event.owner
                rows.put(row)
                months[row["cohort_month"]] = position
            elif hasattr(event, "to_stage"):
                stage_times.append(self._leave(row, event, at))
                self._enter(row, event, at)
                rows.put(row)
                months[row["cohort_month"]] = position
        rows.flush()
        insert_rows(conn, funnel_stage_times, stage_times)
        mark(conn, funnel_months, months)

    def _captured(self, key: str, e: Any, at: datetime) -> dict[str, Any]:
        return {
            "lead_id": key,
            "cohort_month": month_of(e.occurred_at, self.tz),
            "source": e.source,
            "campaign": e.campaign,
            "owner": "",
            "stage": Stage.LEAD.value,
            "captured_at": at,
            "stage_entered_at": at,
            **{column: None for column in REACHED.values()},
            "disqualified_at": None,
            "recycled_count": 0,
            "rejected_count": 0,
            "skip_count": 0,
        }

    @staticmethod
    def _leave(row: dict[str, Any], e: Any, at: datetime) -> dict[str, Any]:
        seconds = (at - row["stage_entered_at"]).total_seconds()
        return {
            "lead_id": row["lead_id"],
            "exit_version": e.originator_version,
            "stage": row["stage"],
            "seconds": seconds,
        }

    @staticmethod
    def _enter(row: dict[str, Any], e: Any, at: datetime) -> None:
        row["stage"] = e.to_stage
        row["stage_entered_at"] = at
        # The one rule of docs/FIGURES.md: the target and the stages it skipped, at once.
        for stage in stages_reached(e.from_stage, e.to_stage, getattr(e, "skipped", None) or ()):
            column = REACHED[stage]
            if row[column] is None:
                row[column] = at
        if getattr(e, "skipped", None):
            row["skip_count"] += 1
        if e.to_stage == Stage.DISQUALIFIED:
            row["disqualified_at"] = at
        elif e.to_stage == Stage.RECYCLED:
            row["recycled_count"] += 1
        if isinstance(e, Lead.MQLRejected):
            row["rejected_count"] += 1
