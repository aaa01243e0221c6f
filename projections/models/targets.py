"""SLA targets read model: the value currently set for each month and metric,
and every change to it.

Which target is in force for a month (``targets_for``): for each metric, the
value set for that month; otherwise the value of the latest earlier month that
set one (carried forward); otherwise none. So a target set for May applies to
May, June, ... until a later month sets its own, and revising June never
changes what May was measured against. Revising a past month's own value does
change that month (the revision is the agreement's current word for it).

A target binds the whole company (``slice_by`` and ``slice_value`` empty) or one
slice: a source's or an owner's leads. Each slice carries its own targets forward
the same way; a slice never inherits the company's (nor the company a slice's).
"""

from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, DateTime, Index, String, Table, delete, insert, select

from domain.agreement import WHOLE_COMPANY, SLAAgreement, target_change
from projections.engine.projector import Positioned, Projection
from projections.engine.schema import from_db, metadata, to_db

sla_targets = Table(
    "sla_targets",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("metric", String(40), primary_key=True),
    # The slice ("" and "" for the whole company): a column stores made before lack,
    # so they rebuild this read model on `flask db init`.
    Column("slice_by", String(20), primary_key=True),
    Column("slice_value", String(100), primary_key=True),
    # Decimal as text: exact on every backend, and a target is never summed in SQL.
    Column("value", String(40), nullable=False),
    Column("reason", String(2000), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("occurred_at", DateTime, nullable=False),
    Column("position", BigInteger, nullable=False),
)

sla_target_history = Table(
    "sla_target_history",
    metadata,
    Column("position", BigInteger, primary_key=True),
    Column("version", BigInteger, nullable=False),
    Column("month", String(7), nullable=False),
    Column("metric", String(40), nullable=False),
    Column("slice_by", String(20), nullable=False),
    Column("slice_value", String(100), nullable=False),
    Column("value", String(40), nullable=False),
    Column("previous_value", String(40)),
    Column("reason", String(2000), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("occurred_at", DateTime, nullable=False),
    Index("ix_sla_target_history_month_metric", "month", "metric"),
)


class TargetsProjection(Projection):
    name = "targets"
    tables = (sla_targets, sla_target_history)

    def process(self, conn: Connection, events: list[Positioned]) -> None:
        current: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        history: list[dict[str, Any]] = []
        for position, event in events:
            if not isinstance(event, SLAAgreement.TargetSet):
                continue
            change = target_change(event)
            row = {
                "position": position,
                "month": change["month"],
                "metric": change["metric"],
                "slice_by": change["slice_by"],
                "slice_value": change["slice_value"],
                "value": str(change["value"]),
                "reason": change["reason"],
                "actor": change["actor"],
                "occurred_at": to_db(change["occurred_at"]),
            }
            current[(row["month"], row["metric"], row["slice_by"], row["slice_value"])] = row
            previous = change["previous_value"]
            history.append(
                row
                | {
                    "version": change["version"],
                    "previous_value": None if previous is None else str(previous),
                }
            )
        t = sla_targets.c
        for month, metric, by, value in current:
            conn.execute(
                delete(sla_targets).where(
                    t.month == month, t.metric == metric, t.slice_by == by, t.slice_value == value
                )
            )
        if current:
            conn.execute(insert(sla_targets), list(current.values()))
        if history:
            conn.execute(insert(sla_target_history), history)


def targets_for(conn: Connection, month: str, slice_: tuple[str, str] = WHOLE_COMPANY) -> dict[str, Decimal]:
    """The targets in force for ``month`` (set for it, or carried forward), of the whole
    company or of one slice (``("source", "webinar")``, ``("owner", "lucia")``)."""
    rows = conn.execute(
        select(sla_targets.c.metric, sla_targets.c.value)
        .where(
            sla_targets.c.month <= month,  # "YYYY-MM" sorts as text in date order
            sla_targets.c.slice_by == slice_[0],
            sla_targets.c.slice_value == slice_[1],
        )
        .order_by(sla_targets.c.month)
    )
    return {metric: Decimal(value) for metric, value in rows}


def slice_targets_in_force(conn: Connection, month: str) -> list[dict[str, Any]]:
    """Every slice's targets in force for ``month`` (set for it, or carried forward),
    by slice then metric: what a filtered dashboard of that month grades against."""
    t = sla_targets.c
    rows = conn.execute(
        select(t.slice_by, t.slice_value, t.metric, t.month, t.value)
        .where(t.month <= month, t.slice_by != "")
        .order_by(t.slice_by, t.slice_value, t.metric, t.month)
    )
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for by, value, metric, set_for, number in rows:  # later months replace earlier ones
        latest[(by, value, metric)] = {
            "slice_by": by,
            "slice_value": value,
            "metric": metric,
            "value": Decimal(number),
            "carried": set_for != month,
        }
    return list(latest.values())


def target_history(conn: Connection) -> list[dict[str, Any]]:
    """Every change to the agreement, oldest first (log order)."""
    rows = conn.execute(select(sla_target_history).order_by(sla_target_history.c.position))
    return [
        {
            "position": row.position,
            "version": row.version,
            "month": row.month,
            "metric": row.metric,
            "slice_by": row.slice_by,
            "slice_value": row.slice_value,
            "value": Decimal(row.value),
            "previous_value": None if row.previous_value is None else Decimal(row.previous_value),
            "reason": row.reason,
            "actor": row.actor,
            "occurred_at": from_db(row.occurred_at),
        }
        for row in rows
    ]
