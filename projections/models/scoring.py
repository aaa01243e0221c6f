"""Lead scores, cheap: the projection keeps each open lead's scored interactions
(kind and time only); the score is computed at read time, because it decays
with age and the points are agreement terms that may change.

Mirrors ``smarketing.service.terms_commands.scored_interactions``: when a lead comes
back to Lead (rejected or recycled), its earlier interactions are dropped.
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, Connection, DateTime, Integer, String, Table, delete, select

from domain.lead import Lead
from domain.scoring import ScoringConfig, is_ready, score
from domain.vocabulary import Stage
from projections.engine.projector import Positioned, Projection
from projections.engine.rows import chunks, insert_tuples, lead_batch
from projections.engine.schema import from_db, metadata, to_db
from projections.models.lead_summary import lead_summary

lead_score_inputs = Table(
    "lead_score_inputs",
    metadata,
    Column("lead_id", String(32), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("occurred_at", DateTime, nullable=False),
)


class ScoringProjection(Projection):
    name = "scoring"
    tables = (lead_score_inputs,)

    def process(self, conn: Connection, events: list[Positioned]) -> None:
        # By lead, so going back to Lead drops that lead's rows without scanning the others'.
        # Rows as lead_score_inputs' columns in order (insert_tuples): one per interaction.
        rows: dict[str, list[tuple[str, int, str, datetime]]] = {}
        back_to_lead: set[str] = set()
        for _, key, e, at in lead_batch(events).items:
            if isinstance(e, Lead.InteractionRecorded):
                rows.setdefault(key, []).append((key, e.originator_version, e.kind, at))
            elif getattr(e, "to_stage", None) == Stage.LEAD:
                rows.pop(key, None)
                back_to_lead.add(key)
        # Stored rows predate the batch, so one DELETE before the INSERT drops the
        # same rows as one DELETE per event did.
        for chunk in chunks(sorted(back_to_lead)):
            conn.execute(delete(lead_score_inputs).where(lead_score_inputs.c.lead_id.in_(chunk)))
        insert_tuples(conn, lead_score_inputs, [row for lead_rows in rows.values() for row in lead_rows])


# What a scored lead is listed with (here and in projections.queries.ready_query).
LISTED = (
    lead_summary.c.lead_id,
    lead_summary.c.name,
    lead_summary.c.company,
    lead_summary.c.owner,
    lead_summary.c.source,
)


def lead_scores(conn: Connection, now: datetime, config: ScoringConfig) -> list[dict[str, Any]]:
    """Every lead in stage Lead with a score above zero, highest first."""
    since = to_db(now - timedelta(days=config.horizon_days))
    leads = {
        r.lead_id: dict(r._mapping)
        for r in conn.execute(select(*LISTED).where(lead_summary.c.stage == Stage.LEAD.value))
    }
    inputs: dict[str, list[tuple[str, datetime]]] = {}
    for chunk in chunks(sorted(leads)):
        for lead_id, kind, at in conn.execute(
            select(
                lead_score_inputs.c.lead_id, lead_score_inputs.c.kind, lead_score_inputs.c.occurred_at
            ).where(lead_score_inputs.c.lead_id.in_(chunk), lead_score_inputs.c.occurred_at >= since)
        ):
            inputs.setdefault(lead_id, []).append((kind, from_db(at)))
    result = []
    for lead_id, interactions in inputs.items():
        value = score(interactions, now, config)
        if value > 0:
            result.append(leads[lead_id] | {"score": value, "interactions": len(interactions)})
    return sorted(result, key=lambda r: (-r["score"], r["lead_id"]))


def lead_score(conn: Connection, lead_id: str, now: datetime, config: ScoringConfig) -> float:
    """One lead's score now, from its interactions within the horizon (as ``lead_scores``)."""
    since = to_db(now - timedelta(days=config.horizon_days))
    rows = conn.execute(
        select(lead_score_inputs.c.kind, lead_score_inputs.c.occurred_at).where(
            lead_score_inputs.c.lead_id == lead_id, lead_score_inputs.c.occurred_at >= since
        )
    )
    return score([(kind, from_db(at)) for kind, at in rows], now, config)


def ready_for_mql(conn: Connection, now: datetime, config: ScoringConfig) -> list[dict[str, Any]]:
    return [r for r in lead_scores(conn, now, config) if is_ready(r["score"], config)]
