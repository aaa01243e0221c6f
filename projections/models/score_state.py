"""How many leads are ready for MQL, as one indexed range count.

``projections.models.scoring`` keeps the inputs and scores at read time, which means
reading every open lead per request (seconds at 100k leads). The dashboard only
needs the count, so this model keeps, per lead now in stage Lead, its score at
its latest scoring interaction and ``falls_below_at``: the moment that score,
decaying, drops under the threshold (``domain.scoring.falls_below_at``). A lead
is ready at ``now`` while ``falls_below_at > now``.

The moment depends on the scoring terms, so the projection follows
``TermsSet("scoring")`` itself and recomputes every row when the points, the
half-life or the threshold change (rare, and paid once in the projector, not
per request). It keeps its own copy of the inputs of leads in stage Lead for
that, so it needs no other read model and a new deployment catches it up from
the log without a rebuild of the others.

Differences from the list (``scoring.lead_scores``), both within a hair of the
threshold: the list skips interactions older than the horizon (under 0.1 % of
their points), and a lead whose latest interaction is dated after ``now`` is
judged here by its score at that interaction (the list counts the future ones
at full value and decays the rest only to ``now``).
"""

import json
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
    Text,
    delete,
    func,
    insert,
    select,
)

from domain.agreement import SLAAgreement
from domain.agreement_terms import SCORING, scoring_config
from domain.lead import Lead
from domain.scoring import ScoringConfig, decayed_total, falls_below_at
from domain.vocabulary import Stage
from projections.engine.projector import Positioned, Projection
from projections.engine.rows import chunks, insert_rows, lead_batch
from projections.engine.schema import from_db, metadata, to_db

lead_score_state = Table(
    "lead_score_state",
    metadata,
    Column("lead_id", String(32), primary_key=True),  # a row per lead in stage Lead
    Column("last_at", DateTime),  # latest scoring interaction; null: none yet
    Column("score_at_last", Float, nullable=False),
    Column("falls_below_at", DateTime),
    # Covering: the ready count reads the index only.
    Index("ix_lead_score_state_below", "falls_below_at", "last_at"),
)

score_state_inputs = Table(
    "score_state_inputs",
    metadata,
    Column("lead_id", String(32), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("occurred_at", DateTime, nullable=False),
)

# The scoring terms the rows were computed with (one row; none: the defaults).
score_state_terms = Table(
    "score_state_terms",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("terms", Text, nullable=False),  # JSON of terms_key
)


def terms_key(config: ScoringConfig) -> dict[str, Any]:
    """What the rows depend on; the mode (flag or auto-promote) does not change a score."""
    return {
        "points": {k: float(v) for k, v in sorted(config.points.items()) if float(v)},
        "half_life_days": float(config.half_life_days),
        "threshold": float(config.threshold),
    }


def _stored_terms(conn: Connection) -> dict[str, Any]:
    raw = conn.execute(select(score_state_terms.c.terms)).scalar()
    return terms_key(scoring_config(None)) if raw is None else json.loads(raw)


class ScoreStateProjection(Projection):
    name = "score_state"
    tables = (lead_score_state, score_state_inputs, score_state_terms)

    def process(self, conn: Connection, events: list[Positioned]) -> None:
        config = scoring_config(None)
        stored = _stored_terms(conn)
        begin = 0  # of the events not applied yet
        for i, (_, event) in enumerate(events):
            if isinstance(event, SLAAgreement.TermsSet) and event.section == SCORING:
                # Terms apply from their event on: finish the leads' events before it first.
                self._apply(conn, events[begin:i], stored)
                begin = i + 1
                config = scoring_config(event.values)
                if terms_key(config) != stored:
                    stored = terms_key(config)
                    conn.execute(delete(score_state_terms))
                    conn.execute(insert(score_state_terms).values(id=1, terms=json.dumps(stored)))
                    everyone = list(conn.execute(select(lead_score_state.c.lead_id)).scalars())
                    _recompute(conn, everyone, stored)
        # Usually no terms changed: the whole batch, the very list other projections got.
        self._apply(conn, events if begin == 0 else events[begin:], stored)

    def _apply(self, conn: Connection, events: list[Positioned], terms: dict[str, Any]) -> None:
        batch = lead_batch(events)
        stored = batch.stored
        keys = sorted(batch.keys)
        in_lead = dict.fromkeys(keys, False)
        for chunk in chunks(sorted(stored)):
            for lead_id in conn.execute(
                select(lead_score_state.c.lead_id).where(lead_score_state.c.lead_id.in_(chunk))
            ).scalars():
                in_lead[lead_id] = True
        reset: set[str] = set()  # stored rows and inputs of these leads go
        pending: dict[str, list[dict[str, Any]]] = {}
        for _, key, e, at in batch.items:
            stage = Stage.LEAD if isinstance(e, Lead.Captured) else getattr(e, "to_stage", None)
            if stage is not None:
                # Entering Lead starts a new score (as scoring.py); leaving it ends this one.
                reset.add(key)
                pending[key] = []
                in_lead[key] = stage == Stage.LEAD
            elif isinstance(e, Lead.InteractionRecorded) and in_lead[key]:
                pending.setdefault(key, []).append(
                    {
                        "lead_id": key,
                        "version": e.originator_version,
                        "kind": e.kind,
                        "occurred_at": at,
                    }
                )
        for chunk in chunks(sorted(reset & stored)):
            conn.execute(delete(score_state_inputs).where(score_state_inputs.c.lead_id.in_(chunk)))
            conn.execute(delete(lead_score_state).where(lead_score_state.c.lead_id.in_(chunk)))
        rows = [row for lead_rows in pending.values() for row in lead_rows]
        insert_rows(conn, score_state_inputs, rows)
        changed = [k for k in keys if in_lead[k] and (k in reset or pending.get(k))]
        # Reset leads have exactly their pending inputs stored (in version order): no read.
        known = {
            k: [(r["kind"], from_db(r["occurred_at"])) for r in pending[k]] for k in changed if k in reset
        }
        _recompute(conn, [k for k in changed if k not in known], terms)
        config = _config(terms)
        insert_rows(conn, lead_score_state, [_state(k, inputs, config) for k, inputs in known.items()])


def _config(terms: dict[str, Any]) -> ScoringConfig:
    return ScoringConfig(
        points=terms["points"], half_life_days=terms["half_life_days"], threshold=terms["threshold"]
    )


def _recompute(conn: Connection, lead_ids: list[str], terms: dict[str, Any]) -> None:
    """Rewrite the state rows of these leads (all in stage Lead) from their stored inputs."""
    config = _config(terms)
    for chunk in chunks(lead_ids):
        inputs: dict[str, list[tuple[str, datetime]]] = {lead_id: [] for lead_id in chunk}
        # Event order, not storage order: the score is a float sum, so the order of its
        # terms must not depend on how the rows were written (batching, two projectors).
        for lead_id, kind, at in conn.execute(
            select(score_state_inputs.c.lead_id, score_state_inputs.c.kind, score_state_inputs.c.occurred_at)
            .where(score_state_inputs.c.lead_id.in_(chunk))
            .order_by(score_state_inputs.c.lead_id, score_state_inputs.c.version)
        ):
            inputs[lead_id].append((kind, from_db(at)))
        conn.execute(delete(lead_score_state).where(lead_score_state.c.lead_id.in_(chunk)))
        insert_rows(conn, lead_score_state, [_state(lead_id, inputs[lead_id], config) for lead_id in chunk])


def _state(lead_id: str, interactions: list[tuple[str, datetime]], config: ScoringConfig) -> dict[str, Any]:
    total = decayed_total(interactions, config)
    if total is None:
        return {"lead_id": lead_id, "last_at": None, "score_at_last": 0.0, "falls_below_at": None}
    last, value = total
    return {
        "lead_id": lead_id,
        "last_at": to_db(last),
        "score_at_last": value,
        "falls_below_at": to_db(falls_below_at(value, last, config)),
    }


def is_current(conn: Connection, config: ScoringConfig) -> bool:
    """Whether the rows were computed with these terms (false while this model lags
    behind the agreement's read model, just after the terms changed)."""
    return _stored_terms(conn) == terms_key(config)


def count_ready(conn: Connection, now: datetime) -> int:
    """Leads in stage Lead whose score at ``now`` reaches the threshold.

    ``falls_below_at >= last_at`` is "ready at its latest interaction": it keeps a
    lead whose interactions are dated after ``now`` from being scored above their points.
    """
    at = to_db(now)
    statement = select(func.count()).where(
        lead_score_state.c.falls_below_at > at,
        lead_score_state.c.falls_below_at >= lead_score_state.c.last_at,
    )
    return int(conn.execute(statement).scalar_one())
