"""``flask audit``: verify the log chain, seal a month, erase a person's data, and
replay the figures as of a moment."""

import getpass
import json
import sys
import time
from datetime import UTC, datetime

import click
from flask.cli import AppGroup

from domain.actor import current_actor
from domain.agreement import add_months
from domain.errors import DomainError, InvalidInput
from smarketing.audit.as_of import HAPPENED, MODES, figures_as_of, parse_at
from smarketing.audit.chain import SealError, seal_month, verify
from smarketing.audit.erasure import erase_person
from smarketing.audit.erasure import reapply as reapply_erasures
from smarketing.audit.history import lead_as_of
from smarketing.extensions import services
from smarketing.periods import month_arg

audit_cli = AppGroup("audit", help="Integrity of the event log, monthly seals and erasure.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Walk the stored events and the log chain; exit 1 at the first break."""
    svc = services()
    svc.projector.catch_up()  # chain what was recorded since the last catch-up first
    result = verify(svc)
    speed = f"{result.events_per_second:,.0f} events/s" if result.checked else "no events"
    if result.intact:
        click.echo(f"{result.message} Seals checked: {result.seals_checked}. ({speed})")
        return
    click.echo(result.message, err=True)
    sys.exit(1)


@audit_cli.command("seal")
@click.option("--month", default="", help="YYYY-MM (default: the month that just ended).")
def seal_command(month: str) -> None:
    """Record the chain digest at the last event recorded before the month ended."""
    svc = services()
    now = datetime.now(UTC)
    month = month or add_months(now.astimezone(svc.settings.tz).strftime("%Y-%m"), -1)
    svc.projector.catch_up()
    try:
        seal = seal_month(svc, month_arg(month, now=now), now)
    except (SealError, DomainError, ValueError) as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    click.echo(f"Seal {seal.month}: position {seal.position} digest {seal.digest}")


@audit_cli.command("erase")
@click.argument("lead_id", required=False, default="")
@click.option("--reason", default="", help="Why (e.g. the request reference); kept in the log.")
@click.option(
    "--reapply", is_flag=True, help="After a restore: erase again every lead in the erasure ledger."
)
def erase_command(lead_id: str, reason: str, reapply: bool) -> None:
    """Erase a lead's personal data (its key is deleted; stages and amounts stay)."""
    if reapply == bool(lead_id):
        raise click.UsageError("Give a lead id (with --reason), or --reapply alone.")
    if lead_id and not reason.strip():
        raise click.UsageError("--reason is required: why the data is erased (e.g. the request reference).")
    svc = services()
    # Reset afterwards: the CLI runner (and tests) share this context with later commands.
    token = current_actor.set(f"cli:{getpass.getuser()}")
    try:
        if reapply:
            done = reapply_erasures(svc)
        else:
            version = erase_person(svc, lead_id, reason)
    except DomainError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    finally:
        current_actor.reset(token)
    if not reapply:
        click.echo(f"Personal data of {lead_id} erased (version {version}).")
        return
    click.echo(
        f"Erasure ledger reapplied: {len(done.erased)} erased again, {len(done.keys_destroyed)} restored "
        f"keys destroyed, {len(done.unknown)} not in this log."
    )


@audit_cli.command("as-of")
@click.option("--at", "at_text", required=True, help="2026-10-03T12:00 (team time zone) or with an offset.")
@click.option("--lead-id", default="", help="Also show this lead as it stood then.")
@click.option(
    "--by",
    "mode",
    type=click.Choice(MODES),
    default=HAPPENED,
    show_default=True,
    help="happened: events whose business time is at or before --at (whenever recorded); "
    "recorded: the log as it was recorded by --at.",
)
def as_of_command(at_text: str, lead_id: str, mode: str) -> None:
    """Print the funnel, the scorecard with its targets and grades (and a lead) as of a moment, as JSON."""
    svc = services()
    try:
        at = parse_at(at_text, svc)
    except InvalidInput as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(2)
    started = time.perf_counter()
    result = figures_as_of(svc, at, mode=mode)
    if lead_id:
        try:
            result["lead"] = lead_as_of(svc, lead_id, at, mode)
        except DomainError as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(1)
    result["seconds"] = round(time.perf_counter() - started, 1)
    click.echo(json.dumps(result, indent=2, default=str, ensure_ascii=False))
