"""The report's sections, queried from a (replayed) read-model connection.

Plain dicts and lists only: the same figures feed the PDF template, tests and
anything else that wants them. Words for people live in the template, so the
"what to discuss" items are kinds plus numbers, translated when rendered.
"""

from collections import Counter
from datetime import date
from itertools import pairwise
from typing import Any

from sqlalchemy import Connection, select

from projections.cached import scorecard_view
from projections.engine.schema import from_db
from projections.models.lead_summary import lead_summary
from projections.models.scorecard import sla_facts
from projections.queries.stats import cents_to_money
from smarketing.reports.figures import MonthlyFigures

# Upper bounds in hours; the last band is open-ended (more than a day).
FOLLOW_UP_BANDS = (("0-5m", 5 / 60), ("5-60m", 1.0), ("1-24h", 24.0), (">24h", None))


def band_counts(delays: list[float]) -> list[dict[str, Any]]:
    """Each delay in exactly one band: (lower, upper], the first band also taking 0."""
    bands, lower = [], -1.0
    for key, upper in FOLLOW_UP_BANDS:
        count = sum(1 for d in delays if d > lower and (upper is None or d <= upper))
        bands.append({"band": key, "count": count})
        lower = upper if upper is not None else lower
    return bands


def follow_up(actuals: dict[str, Any]) -> dict[str, Any]:
    """Speed of the first contact after an MQL, as a distribution a manager can read."""
    delays: list[float] = actuals.get("follow_up_delays_hours") or []
    return {
        "contacted": len(delays),
        "median_hours": actuals.get("follow_up_median_hours"),
        "p95_hours": actuals.get("follow_up_p95_hours"),
        "within_target": actuals.get("follow_up_within_target"),
        "never_contacted": actuals.get("mqls_never_contacted", 0),
        "attempts_per_mql": actuals.get("attempts_per_mql"),
        "bands": band_counts(delays),
    }


def _with_lead(conn: Connection, month: str, kinds: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(
            sla_facts.c.lead_id,
            sla_facts.c.kind,
            sla_facts.c.occurred_at,
            sla_facts.c.amount_cents,
            sla_facts.c.currency,
            sla_facts.c.reason,
            sla_facts.c.owner,
            sla_facts.c.source,
            lead_summary.c.name,
            lead_summary.c.company,
        )
        .select_from(sla_facts.outerjoin(lead_summary, lead_summary.c.lead_id == sla_facts.c.lead_id))
        .where(sla_facts.c.month == month, sla_facts.c.kind.in_(kinds))
        .order_by(sla_facts.c.occurred_at, sla_facts.c.lead_id)
    ).all()
    return [
        {
            "lead_id": r.lead_id,
            "kind": r.kind,
            "occurred_at": from_db(r.occurred_at),
            "amount": None if r.amount_cents is None else cents_to_money(r.amount_cents),
            "currency": r.currency or "EUR",
            "reason": r.reason or "",
            "owner": r.owner,
            "source": r.source,
            "name": r.name or "",
            "company": r.company or "",
        }
        for r in rows
    ]


def rejected(conn: Connection, month: str) -> dict[str, Any]:
    """MQLs sales handed back in the month, and why (most frequent reason first)."""
    items = _with_lead(conn, month, ("rejected",))
    counts = Counter(item["reason"] for item in items)
    reasons = [{"reason": r, "count": c} for r, c in sorted(counts.items(), key=lambda rc: (-rc[1], rc[0]))]
    return {"items": items, "reasons": reasons}


def deals(conn: Connection, month: str) -> dict[str, list[dict[str, Any]]]:
    items = _with_lead(conn, month, ("won", "lost"))
    return {
        "won": [i for i in items if i["kind"] == "won"],
        "lost": [i for i in items if i["kind"] == "lost"],
    }


def scorecard(conn: Connection, month: str, today: date, calendar: Any = None) -> dict[str, Any]:
    """The SLA scorecard with targets, graded on the agreement's ``calendar`` as the
    dashboard grades it (every hour counts if None)."""
    if calendar is None:
        return scorecard_view.scorecard(conn, month, today=today)
    return scorecard_view.scorecard(conn, month, today=today, calendar=calendar)


def _breach_count(breaches: Any) -> int:
    if isinstance(breaches, int | float):
        return int(breaches)
    return len(breaches or ())


def discuss(figures: "MonthlyFigures") -> list[dict[str, Any]]:
    """What deserves ten minutes at the monthly meeting, most serious first."""
    items: list[dict[str, Any]] = []
    if not figures.has_data:
        return items
    card = figures.scorecard or {}
    for side in ("marketing", "sales"):
        for row in card.get(side, []):
            if row.get("status") == "missed":
                items.append({"kind": "missed", "side": side, **row})
    breaches = _breach_count(card.get("breaches"))
    if breaches:
        items.append({"kind": "breaches", "count": breaches})
    drop = biggest_drop_off(figures.funnel["stages"])
    if drop:
        items.append({"kind": "drop_off", **drop})
    never = figures.follow_up["never_contacted"]
    if never:
        items.append({"kind": "never_contacted", "count": never})
    late = next(b["count"] for b in figures.follow_up["bands"] if b["band"] == ">24h")
    if late:
        items.append({"kind": "late_follow_up", "count": late, "contacted": figures.follow_up["contacted"]})
    if figures.rejected["reasons"]:
        top = figures.rejected["reasons"][0]
        items.append({"kind": "top_rejection", "total": len(figures.rejected["items"]), **top})
    return items


def biggest_drop_off(stages: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The stage-to-stage step that lost the largest share of the leads entering it."""
    best = None
    for before, after in pairwise(stages):
        if not before["count"] or after["conversion"] is None:
            continue
        lost = before["count"] - after["count"]
        if best is None or after["conversion"] < best["conversion"]:
            best = {
                "from_stage": before["stage"],
                "to_stage": after["stage"],
                "conversion": after["conversion"],
                "lost": lost,
            }
    return best
