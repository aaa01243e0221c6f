"""Flask CLI: set-up, demo data, projections and a lead's timeline in the terminal."""

import functools
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from domain.errors import DomainError, InvalidInput
from projections.engine.quarantine import UNAVAILABLE
from projections.queries import leads_query
from smarketing.bootstrap import bootstrap, init_schema, schema_exists
from smarketing.cli import parallel_rebuild
from smarketing.cli.backup_cli import backup_cli
from smarketing.cli.demo_data import CRITERIA_TEXTS, PERSONA_TEXTS, demo_leads, demo_targets, target_set_at
from smarketing.cli.demo_loop import demo_loop, demo_mail
from smarketing.cli.users_cli import create_demo_users, echo_demo_users, users_cli
from smarketing.extensions import KEY, services
from smarketing.notifications.transport import app_mailbox
from smarketing.present.periods import month_arg
from smarketing.present.timeline_text import describe

db_cli = AppGroup("db", help="Database set-up.")
projections_cli = AppGroup("projections", help="Read models built from the event log.")
lead_cli = AppGroup("lead", help="Look at one lead.")


@db_cli.command("init")
def db_init() -> None:
    """Create the event store and read-model tables (run once, before any worker)."""
    settings = services().settings
    init_schema(settings)
    # Recorders built before the tables existed cache what they found (on PostgreSQL,
    # the stored-event row type): rebuild this process's services on the new schema.
    current_app.extensions[KEY].close()
    current_app.extensions[KEY] = bootstrap(settings)
    click.echo("Schema ready.")


@click.command("demo-data")
@with_appcontext
@click.option("--if-empty", is_flag=True, help="Do nothing when the store already holds leads.")
@click.option("--seed", default=42, show_default=True)
@click.option("--months", default=6, show_default=True)
@click.option("--end-month", default="", help="YYYY-MM (default: the current month).")
def demo_data(if_empty: bool, seed: int, months: int, end_month: str) -> None:
    """Load a seeded, deterministic demo history."""
    svc = services()
    if not schema_exists(svc):
        raise click.ClickException("The database is not set up: run `flask db init` first.")
    if if_empty and (svc.app.recorder.max_notification_id() or 0) > 0:
        click.echo("Store already holds events; demo data not loaded.")
        return
    now = datetime.now(UTC)
    try:
        end_month = (
            month_arg(end_month, "end-month", now)
            if end_month
            else now.astimezone(svc.settings.tz).strftime("%Y-%m")
        )
    except InvalidInput as error:
        raise click.ClickException(str(error)) from None
    started = time.perf_counter()
    batch, saved = [], 0
    for lead in demo_leads(end_month, now, svc.settings.tz, seed=seed, months=months):
        batch.append(lead)
        if len(batch) == 100:
            saved += svc.app.capture_many(batch)
            batch = []
    saved += svc.app.capture_many(batch)
    targets = demo_targets(end_month, months)
    for month, metric, value, reason in targets:
        at = target_set_at(month, svc.settings.tz, now)
        svc.app.set_target(month, metric, value, reason, occurred_at=at)
    agreed = target_set_at(targets[0][0], svc.settings.tz, now)  # the vocabulary, with the first SLA
    for stage, text in CRITERIA_TEXTS.items():
        svc.app.set_criteria(stage, text, occurred_at=agreed)
    for name, texts in PERSONA_TEXTS.items():
        svc.app.save_persona(name, occurred_at=agreed, **texts)
    events = svc.projector.catch_up()
    click.echo(
        f"Loaded {saved} leads ({svc.app.recorder.max_notification_id()} events) "
        f"and projected {events} event applications in {time.perf_counter() - started:.1f}s."
    )
    created = create_demo_users()
    echo_demo_users(created)  # only here: a store with real data gets no demo logins
    click.echo(f"Daily loop: {demo_loop(svc, now)} tasks for the demo users.")
    sent = demo_mail(svc, created, app_mailbox(current_app.config, Path(current_app.instance_path)))
    click.echo(f"Notifications: {sent} e-mails written to the local mailbox.")


@projections_cli.command("catch-up")
def catch_up() -> None:
    started = time.perf_counter()
    applied = services().projector.catch_up()
    click.echo(f"Applied {applied} events in {time.perf_counter() - started:.2f}s.")
    _fail_if_stuck()


@projections_cli.command("rebuild")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Processes replaying the log, each into its share of the read models "
    "[default: the number of CPUs on PostgreSQL, 1 on SQLite].",
)
def rebuild(jobs: int | None) -> None:
    """Empty the read models and replay the whole log into them."""
    settings = services().settings
    jobs = jobs or parallel_rebuild.default_jobs(settings)
    started = time.perf_counter()
    try:
        applied = parallel_rebuild.rebuild(settings, jobs)
    except Exception as error:  # any failure, in this process or in a share's
        raise click.ClickException(
            f"Rebuild stopped: {error!r}. The read models are partly rebuilt and each knows "
            "its position: `flask projections catch-up` (or the projector) finishes them."
        ) from error
    elapsed = time.perf_counter() - started
    processes = f"{jobs} process" if jobs == 1 else f"{jobs} processes"
    click.echo(f"Rebuilt from {applied} event applications in {elapsed:.2f}s ({processes}).")
    _fail_if_stuck()


def _fail_if_stuck() -> None:
    """Exit 1 when a read model is stuck: a catch-up that could not finish is not a success."""
    stuck = services().projector.stuck()
    if stuck:
        raise click.ClickException(
            "Stuck at an event they could not take: "
            + "; ".join(f"{name} at {s.position} ({s.error})" for name, s in stuck.items())
            + ". Fix the cause, then `flask projections retry NAME`."
        )


@projections_cli.command("run")
@click.option("--interval", default=0.5, show_default=True, help="Seconds to sleep between catch-ups.")
def run(interval: float) -> None:
    """Keep the read models caught up until SIGTERM (the single projector process)."""
    from smarketing.cli.projector_loop import run_projector

    run_projector(services(), interval=interval, report=click.echo)


@projections_cli.command("status")
def status() -> None:
    """Each read model's position in the log, and any event it is stuck at."""
    statuses = services().projector.status()
    for s in statuses:
        line = f"{s.name:<22} position {s.position:>9}  log {s.log_position:>9}  lag {s.lag}"
        if s.stuck is not None:
            line += f"  STUCK at {s.stuck.position} since {s.stuck.since:%Y-%m-%d %H:%M} UTC: {s.stuck.error}"
        click.echo(line)
    stuck = [s.name for s in statuses if s.stuck is not None]
    if stuck:
        click.echo(
            f"{len(stuck)} stuck: fix the cause, then `flask projections retry NAME` (or `all`); "
            "`flask projections skip NAME` leaves the event out of that read model for good."
        )


def _release(names: tuple[str, ...], *, skip: bool) -> None:
    svc = services()
    known = [p.name for p in svc.projector.projections]
    chosen = known if names == ("all",) else list(names)
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        raise click.ClickException(f"No such projection: {', '.join(unknown)} (known: {', '.join(known)}).")
    for name in chosen:
        was = svc.projector.release(name, skip=skip)
        if was is not None:
            verb = "skipped" if skip else "retrying"
            click.echo(f"{name}: {verb} the event at position {was.position}.")
    applied = svc.projector.catch_up()
    click.echo(f"Applied {applied} events.")
    still = {name: stuck for name, stuck in svc.projector.stuck().items() if name in chosen}
    for name, stuck in still.items():
        click.echo(f"{name}: stuck again at position {stuck.position}: {stuck.error}", err=True)
    if still:
        sys.exit(1)


@projections_cli.command("retry")
@click.argument("names", nargs=-1, required=True)
def retry(names: tuple[str, ...]) -> None:
    """Let stuck projections try their event again (after a fix); NAME or `all`."""
    _release(names, skip=False)


@projections_cli.command("skip")
@click.argument("names", nargs=-1, required=True)
def skip(names: tuple[str, ...]) -> None:
    """Leave a stuck projection's event out of it for good and go on; NAME or `all`."""
    _release(names, skip=True)


@lead_cli.command("show")
@click.argument("lead_id")
def show(lead_id: str) -> None:
    """Print a lead's header and timeline (oldest first)."""
    svc = services()
    try:
        lead = svc.app.get_lead(lead_id)
    except DomainError as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    click.echo(f"{lead['name']} <{lead['email']}> — {lead['company']}")
    click.echo(f"Stage {lead['stage']} · owner {lead['owner'] or '—'} · source {lead['source']}")
    with svc.read_engine.connect() as conn:
        entries = leads_query.timeline(conn, lead["id"].replace("-", ""), newest_first=False)
    if len(entries) < lead["version"]:
        click.echo("(timeline projection is behind; run `flask projections catch-up`)")
    for entry in entries:
        click.echo(
            f"{entry['version']:>3}  {entry['occurred_at']:%Y-%m-%d %H:%M}  {entry['actor']:<14} "
            f"{describe(entry['event_type'], entry['data'])}"
        )


def guard_store_faults(group: click.Group) -> None:
    """Every command under ``group``: a locked, read-only or unreachable store is a
    message and exit 1, not a traceback (run it again once the store is free)."""
    for command in group.commands.values():
        if isinstance(command, click.Group):
            guard_store_faults(command)
        elif command.callback is not None and not getattr(command.callback, "_guarded", False):
            command.callback = _guarded(command.callback)


def _guarded(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return callback(*args, **kwargs)
        except UNAVAILABLE as error:
            raise click.ClickException(
                f"The database is busy or cannot be written to ({type(error).__name__}: {error}). "
                "Nothing was half-done; run the command again in a moment "
                "(SMARKETING_LOCK_TIMEOUT sets how long a lock is waited for)."
            ) from None

    run._guarded = True  # type: ignore[attr-defined]
    return run


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(demo_data)
    app.cli.add_command(projections_cli)
    app.cli.add_command(lead_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(backup_cli)
