"""SLA scorecard facts: one row per business fact the SLA metrics count,
stamped with its month (business time, team time zone) and the lead's
attribution at that moment (source, sourced-by team, owner).

A stage is reached by the rule the funnel uses (``domain.lifecycle.stages_reached``,
docs/FIGURES.md "Reaching a stage"): a stated skip adds a fact, marked ``implied``,
for each stage it skipped, at the moment of the skip."""

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Column, Connection, DateTime, Index, Integer, String, Table, select, update

from domain.lead import Lead
from domain.lifecycle import stages_reached
from domain.vocabulary import Stage
from projections.engine.month_marks import mark, marks_table
from projections.engine.projector import Positioned, Projection
from projections.engine.rows import RowsByLead, insert_rows, lead_batch
from projections.engine.schema import metadata, month_of

sla_leads = Table(
    "sla_leads",
    metadata,
    Column("lead_id", String(32), primary_key=True),
    Column("source", String(100), nullable=False),
    Column("sourced_by", String(20), nullable=False),
    Column("campaign", String(100), nullable=False),
    Column("owner", String(100), nullable=False),
)

sla_facts = Table(
    "sla_facts",
    metadata,
    Column("lead_id", String(32), primary_key=True),
    Column("version", Integer, primary_key=True),
    # A skip makes several facts of one event (won from MQL: won, sql, opportunity).
    Column("kind", String(20), primary_key=True),
    # 1 on a fact implied by a stated skip (a stage reached without its own event,
    # docs/FIGURES.md "Reaching a stage"); its reason is the skip's, it has no amount.
    # The column also makes stores built before the rule rebuild this projection.
    Column("implied", Integer, nullable=False, server_default="0"),
    Column("month", String(7), nullable=False),
    Column("occurred_at", DateTime, nullable=False),
    Column("amount_cents", BigInteger),  # NULL: a win whose amount is unknown (never 0)
    Column("currency", String(3)),
    # A won fact's amount as corrected (Lead.DealAmountCorrected): the correction's version.
    Column("corrected_version", Integer),
    Column("reason", String(2000)),
    Column("source", String(100), nullable=False),
    Column("sourced_by", String(20), nullable=False),
    Column("campaign", String(100), nullable=False),
    Column("owner", String(100), nullable=False),
    # Covering for the scorecard's counts: count(DISTINCT lead_id) per (month, kind)
    # read the table row of every fact (and a dashboard asks for 4 months);
    # revenue sums need sourced_by and the amount. Replaces a
    # (month, kind) index, which stores made before keep, unused.
    Index("ix_sla_facts_month_kind_lead", "month", "kind", "lead_id"),
    Index("ix_sla_facts_month_kind_amount", "month", "kind", "sourced_by", "amount_cents"),
    Index("ix_sla_facts_lead_kind", "lead_id", "kind", "occurred_at"),
    # Meetings review a week or a month by the facts' own times: range counts and
    # revenue per kind without reading the table (it was a scan of every fact).
    Index("ix_sla_facts_kind_occurred", "kind", "occurred_at", "amount_cents"),
    # Covering for a month filtered by source, campaign, owner or sourced_by (the
    # dashboard's filters): the two indexes above then read each fact's row.
    Index(
        "ix_sla_facts_month_kind_dims",
        "month",
        "kind",
        "source",
        "campaign",
        "owner",
        "sourced_by",
        "lead_id",
        "amount_cents",
    ),
)

# Per month, the position of the last batch that added facts to it (projections.engine.month_marks).
sla_fact_months = marks_table("sla_fact_months")

# Which fact a stage-moving event is, by its target stage.
_STAGE_FACT = {
    Stage.MQL.value: "mql",
    Stage.SQL.value: "sql",
    Stage.OPPORTUNITY.value: "opportunity",
    Stage.DISQUALIFIED.value: "disqualified",
}


# Which fact an event is, by its class; "stage" when it depends on the target stage.
_KIND_BY_CLASS = (
    (Lead.Captured, "captured"),
    (Lead.ContactAttempted, "contact_attempt"),
    (Lead.DealWon, "won"),
    (Lead.DealLost, "lost"),
    (Lead.MQLRejected, "rejected"),
    (Lead.StageChanged, "stage"),
)
# The answer for each concrete class, found once (the first match above, as isinstance
# would): asked twice per event of a rebuild, by this model and scorecard_follow_up.
_kinds: dict[type, str | None] = {}


def fact_kind(event: Any) -> str | None:
    cls = type(event)
    try:
        kind = _kinds[cls]
    except KeyError:
        kind = _kinds[cls] = next((k for c, k in _KIND_BY_CLASS if issubclass(cls, c)), None)
    if kind == "stage":
        return _STAGE_FACT.get(event.to_stage)
    return kind


def implied_kinds(event: Any) -> list[str]:
    """The facts of the stages a move skipped, reached at its moment (``stages_reached``,
    the funnel's rule): an SQL and an opportunity for a deal won straight from MQL.
    Not its own fact (``fact_kind``), nor Customer (that fact is the win)."""
    to_stage = getattr(event, "to_stage", None)
    if to_stage is None or fact_kind(event) is None:
        return []
    skipped = getattr(event, "skipped", None) or ()
    return [_STAGE_FACT[s] for s in stages_reached(event.from_stage, to_stage, skipped) if s != to_stage]


class ScorecardProjection(Projection):
    name = "scorecard"
    tables = (sla_leads, sla_facts, sla_fact_months)

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz

    def process(self, conn: Connection, events: list[Positioned]) -> None:
        batch = lead_batch(events)
        leads = RowsByLead(conn, sla_leads)
        leads.load(batch.stored)
        facts: list[dict[str, Any]] = []
        months: dict[str, int] = {}  # month -> position of its latest fact (items are in log order)
        for position, key, event, at in batch.without_interactions:
            if isinstance(event, Lead.Captured):
                leads.put(
                    {
                        "lead_id": key,
                        "source": event.source,
                        "sourced_by": event.sourced_by,
                        "campaign": event.campaign,
                        "owner": "",
                    }
                )
            if isinstance(event, Lead.PersonalDataErased):  # reasons may name the person
                months.update(dict.fromkeys(_erase_reasons(conn, facts, key), position))
            lead = leads.get(key)
            if lead is None:
                continue
            if isinstance(event, Lead.OwnerAssigned):
                lead["owner"] = event.owner
                leads.put(lead)
            if isinstance(event, Lead.DealAmountCorrected):
                corrected = _correct_win(conn, facts, key, event)
                if corrected is not None:  # the win's month changed: its caches refresh
                    months[corrected] = position
                continue
            kind = fact_kind(event)
            if kind is not None:
                fact = self._fact(kind, lead, event, at) | {"implied": 0}
                facts.append(fact)
                months[fact["month"]] = position
                for implied in implied_kinds(event):
                    no_amount = {"amount_cents": None, "currency": None}
                    facts.append(fact | {"kind": implied, "implied": 1} | no_amount)
        leads.flush()
        insert_rows(conn, sla_facts, facts)
        # Facts are inserted, and a won fact's amount corrected in place: a month changes
        # exactly when one of its facts arrives or its win's amount is corrected.
        mark(conn, sla_fact_months, months)

    def _fact(self, kind: str, lead: dict[str, Any], e: Any, at: datetime) -> dict[str, Any]:
        amount = getattr(e, "amount", None)
        return {
            "lead_id": lead["lead_id"],
            "version": e.originator_version,
            "kind": kind,
            "month": month_of(e.occurred_at, self.tz),
            "occurred_at": at,
            "amount_cents": _cents(amount),
            "currency": getattr(e, "currency", None),
            "corrected_version": None,
            "reason": getattr(e, "reason", None) or None,
            "source": lead["source"],
            "sourced_by": lead["sourced_by"],
            "campaign": lead["campaign"],
            "owner": lead["owner"],
        }


def _cents(amount: Any) -> int | None:
    return None if amount is None else int(amount * 100)


def _erase_reasons(conn: Connection, pending: list[dict[str, Any]], key: str) -> set[str]:
    """Blank the lead's stated reasons (crypto-shredding: the facts and their counts stay);
    the months whose reasons changed, so their cached packs refresh."""
    months = {str(f["month"]) for f in pending if f["lead_id"] == key and f["reason"]}
    for fact in pending:  # facts of this very batch
        if fact["lead_id"] == key:
            fact["reason"] = None
    stated = (sla_facts.c.lead_id == key) & sla_facts.c.reason.is_not(None)
    months |= {str(m) for (m,) in conn.execute(select(sla_facts.c.month).where(stated).distinct())}
    conn.execute(update(sla_facts).where(stated).values(reason=None))
    return months


def _correct_win(conn: Connection, pending: list[dict[str, Any]], key: str, e: Any) -> str | None:
    """Give the lead's latest won fact the corrected amount; the win's month, or None
    when the lead has no won fact (it then counts nothing)."""
    changes = {
        "amount_cents": _cents(e.amount),
        "currency": e.currency,
        "corrected_version": e.originator_version,
    }
    for fact in reversed(pending):  # the win may be in this very batch
        if fact["lead_id"] == key and fact["kind"] == "won":
            fact.update(changes)
            return str(fact["month"])
    won = conn.execute(
        select(sla_facts.c.version, sla_facts.c.month)
        .where(sla_facts.c.lead_id == key, sla_facts.c.kind == "won")
        .order_by(sla_facts.c.version.desc())
        .limit(1)
    ).first()
    if won is None:
        return None
    conn.execute(
        update(sla_facts)
        .where(sla_facts.c.lead_id == key, sla_facts.c.version == won.version)
        .values(changes)
    )
    return str(won.month)
