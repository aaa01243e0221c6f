"""The "Ready for MQL" list, read from the score_state read model a page at a time.

``scoring.lead_scores`` scores every open lead per request (about a second at
100k leads). Here the ready leads are the rows whose ``falls_below_at`` is still
ahead (the dashboard's count, ``score_state.count_ready``), highest score first —
for leads scored up to ``now`` a later ``falls_below_at`` is a higher score now —
and only the leads on the page are scored exactly, from their stored inputs, the
way the full list scores them (``domain.scoring.score`` over the horizon).
"""

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, or_, select

from domain.scoring import ScoringConfig, score
from projections.engine.schema import from_db, to_db
from projections.models.lead_summary import lead_summary
from projections.models.score_state import lead_score_state, score_state_inputs
from projections.models.scoring import LISTED

_state = lead_score_state.c


def _scored(
    conn: Connection, lead_ids: list[str], now: datetime, config: ScoringConfig
) -> list[dict[str, Any]]:
    """These leads as ``scoring.lead_scores`` lists them (name, owner, source, score, interactions)."""
    if not lead_ids:
        return []
    since = to_db(now - timedelta(days=config.horizon_days))
    inputs: dict[str, list[tuple[str, datetime]]] = {lead_id: [] for lead_id in lead_ids}
    for lead_id, kind, at in conn.execute(
        select(score_state_inputs.c.lead_id, score_state_inputs.c.kind, score_state_inputs.c.occurred_at)
        .where(score_state_inputs.c.lead_id.in_(lead_ids), score_state_inputs.c.occurred_at >= since)
        .order_by(score_state_inputs.c.lead_id, score_state_inputs.c.version)
    ):
        inputs[lead_id].append((kind, from_db(at)))
    names = {
        r.lead_id: dict(r._mapping)
        for r in conn.execute(select(*LISTED).where(lead_summary.c.lead_id.in_(lead_ids)))
    }
    return [
        names[lead_id] | {"score": score(inputs[lead_id], now, config), "interactions": len(inputs[lead_id])}
        for lead_id in lead_ids
    ]


def _ready(now: datetime) -> list[Any]:
    # As count_ready: still above the threshold, and judged at its latest interaction.
    return [_state.falls_below_at > to_db(now), _state.falls_below_at >= _state.last_at]


def ready_page(
    conn: Connection,
    now: datetime,
    config: ScoringConfig,
    *,
    after: tuple[datetime, str] | None = None,
    limit: int = 50,
) -> dict[str, Any]:
    """``limit`` ready leads after the (falls_below_at, lead_id) cursor: ``{"leads", "total", "next"}``."""
    total = conn.execute(select(func.count()).where(*_ready(now))).scalar_one()
    page = select(_state.lead_id, _state.falls_below_at).where(*_ready(now))
    if after is not None:
        at, lead_id = to_db(after[0]), after[1]
        page = page.where(
            or_(_state.falls_below_at < at, and_(_state.falls_below_at == at, _state.lead_id > lead_id))
        )
    rows = conn.execute(page.order_by(_state.falls_below_at.desc(), _state.lead_id).limit(limit + 1)).all()
    leads = _scored(conn, [r.lead_id for r in rows[:limit]], now, config)
    following = (
        (from_db(rows[limit - 1].falls_below_at), rows[limit - 1].lead_id) if len(rows) > limit else None
    )
    return {"leads": leads, "total": int(total), "next": following}


def warming_up(
    conn: Connection, now: datetime, config: ScoringConfig, limit: int = 20
) -> list[dict[str, Any]]:
    """The ``limit`` highest-scored leads not yet ready, highest first."""
    not_ready = or_(_state.falls_below_at <= to_db(now), _state.falls_below_at < _state.last_at)
    # Ordered by falls_below_at the candidates are in score order except for leads with
    # interactions dated after now; a few spare candidates absorb those before re-sorting.
    candidates = conn.execute(
        select(_state.lead_id)
        .where(_state.falls_below_at.is_not(None), not_ready)
        .order_by(_state.falls_below_at.desc(), _state.lead_id)
        .limit(limit * 3)
    ).scalars()
    scored = [lead for lead in _scored(conn, list(candidates), now, config) if lead["score"] > 0]
    return sorted(scored, key=lambda lead: (-lead["score"], lead["lead_id"]))[:limit]
