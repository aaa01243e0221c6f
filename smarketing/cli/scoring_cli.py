"""``flask scoring``: list the leads ready for MQL, and (in auto-promote mode)
promote them, each with a StageChanged attributed to the scoring rule."""

from datetime import UTC, datetime

import click
from flask import Flask
from flask.cli import AppGroup

from domain.errors import DomainError
from domain.scoring import AUTO_PROMOTE
from projections.models.scoring import ready_for_mql
from smarketing.extensions import services
from smarketing.service.sla_terms import sla_in_force

scoring_cli = AppGroup("scoring", help="Lead scoring from the SLA agreement.")


def promote_ready(now: datetime | None = None) -> list[tuple[str, float]]:
    """Promote every ready lead when the agreement says auto-promote; return what moved."""
    svc = services()
    now = now or datetime.now(UTC)
    svc.projector.catch_up()
    with svc.read_engine.connect() as conn:
        sla = sla_in_force(conn, now, svc.settings.tz)
        ready = ready_for_mql(conn, now, sla.scoring)
    if sla.scoring.mode != AUTO_PROMOTE:
        return []
    moved = []
    for lead in ready:
        try:
            svc.app.promote_by_rule(lead["lead_id"], lead["score"], sla.scoring.threshold)
        except DomainError:
            continue  # changed meanwhile (e.g. someone qualified it by hand): nothing to do
        moved.append((lead["lead_id"], lead["score"]))
    svc.projector.catch_up()
    return moved


@scoring_cli.command("promote")
def promote() -> None:
    """Promote the leads whose score reached the threshold (auto-promote mode only)."""
    svc = services()
    with svc.read_engine.connect() as conn:
        mode = sla_in_force(conn, datetime.now(UTC), svc.settings.tz).scoring.mode
    if mode != AUTO_PROMOTE:
        click.echo("Scoring mode is 'flag': nothing promoted (see /agreement/ready).")
        return
    moved = promote_ready()
    for lead_id, score in moved:
        click.echo(f"{lead_id}  score {score:g}  → MQL")
    click.echo(f"Promoted {len(moved)} lead(s).")


def init_app(app: Flask) -> None:
    app.cli.add_command(scoring_cli)
