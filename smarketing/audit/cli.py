"""``flask audit``: verify the log chain, anchor its head, seal a month, erase a
person's data, and replay the figures as of a moment."""

import getpass
import json
import sys
import time
from datetime import UTC, datetime
from typing import NoReturn, TextIO

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import format_decimal
from flask_babel import gettext as _

from domain.actor import current_actor
from domain.agreement import add_months
from domain.errors import DomainError, InvalidInput
from smarketing.audit.anchor import AnchorError, anchor_text, read_anchor
from smarketing.audit.as_of import HAPPENED, MODES, figures_as_of, parse_at
from smarketing.audit.chain import SealError, VerifyResult, seal_month, verify
from smarketing.audit.erasure import erase_person
from smarketing.audit.erasure import reapply as reapply_erasures
from smarketing.audit.history import lead_as_of
from smarketing.extensions import services
from smarketing.present.periods import month_arg

# Verify and anchor speak the configured locale (BABEL_DEFAULT_LOCALE, set with
# SMARKETING_BABEL_DEFAULT_LOCALE=es): a command line has no browser to ask.
audit_cli = AppGroup("audit", help="Integrity of the event log, monthly seals and erasure.")


def _broken(result: VerifyResult) -> NoReturn:
    problem = _(result.template, **result.params)
    click.echo(
        _("Log broken at position %(position)s: %(problem)s", position=result.broken_at, problem=problem),
        err=True,
    )
    sys.exit(1)


@audit_cli.command("verify")
@click.option(
    "--against",
    "against",
    type=click.File("r", encoding="utf-8"),
    default=None,
    help="An anchor written by `flask audit anchor`: the log must still extend it.",
)
def verify_command(against: TextIO | None) -> None:
    """Walk every stored event and its chain link, reading only; exit 1 at the first break."""
    anchor = None
    if against is not None:
        try:
            anchor = read_anchor(against.read(), current_app.config["SECRET_KEY"])
        except AnchorError as error:
            click.echo(_("Error: %(message)s", message=_(error.template, **error.params)), err=True)
            sys.exit(2)
    result = verify(services(), anchor)
    if not result.intact:
        _broken(result)
    click.echo(
        _(
            "Log intact up to position %(position)s (%(count)s events, %(seals)s seals checked, "
            "%(speed)s events/s).",
            position=result.position,
            count=result.checked,
            seals=result.seals_checked,
            speed=format_decimal(round(result.events_per_second)),
        )
    )
    if anchor is not None:
        click.echo(
            _("It still extends the anchored head at position %(position)s.", position=anchor.position)
        )


@audit_cli.command("anchor")
@click.option(
    "--output", "-o", type=click.File("w", encoding="utf-8"), default=None, help="Write it to FILE."
)
def anchor_command(output: TextIO | None) -> None:
    """Verify the log, then print (or write) its head as a signed anchor, to keep outside the database."""
    result = verify(services())
    if not result.intact:
        _broken(result)
    if result.head is None:
        click.echo(_("The log is empty: there is nothing to anchor."), err=True)
        sys.exit(1)
    text = anchor_text(result.head, current_app.config["SECRET_KEY"], datetime.now(UTC))
    if output is None:
        click.echo(text)
        return
    output.write(text + "\n")
    click.echo(
        _(
            "Anchor of position %(position)s written to %(file)s.",
            position=result.head.position,
            file=output.name,
        )
    )


@audit_cli.command("seal")
@click.option("--month", default="", help="YYYY-MM (default: the month that just ended).")
def seal_command(month: str) -> None:
    """Record the chain digest at the last event recorded before the month ended."""
    svc = services()
    now = datetime.now(UTC)
    month = month or add_months(now.astimezone(svc.settings.tz).strftime("%Y-%m"), -1)
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
