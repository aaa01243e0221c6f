"""``flask notifications send`` (one round) and ``flask notifications run`` (the loop)."""

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from smarketing.extensions import KEY
from smarketing.notifications.loop import build_sender, run_notifications, turn
from smarketing.notifications.transport import app_mailbox


def _mailbox() -> Path:
    """Where the web's "Correo enviado" reads (SMARKETING_MAILBOX_DIR, else instance/mailbox)."""
    return app_mailbox(current_app.config, Path(current_app.instance_path))


group = AppGroup("notifications", help="E-mail and in-app notifications (issue #22).")


@group.command("send")
def send_command() -> None:
    """Schedule the due moments and deliver what is pending, once."""
    services = current_app.extensions[KEY]
    scheduled, done = turn(services, build_sender(services, _mailbox()))
    click.echo(f"{scheduled} scheduled, {done.sent} sent, {done.skipped} skipped, {done.failed} failed")
    for error in done.errors:
        click.echo(f"  {error}", err=True)


@group.command("run")
@click.option("--interval", default=5.0, show_default=True, help="Seconds between rounds.")
def run_command(interval: float) -> None:
    """Schedule and deliver every INTERVAL seconds until SIGTERM."""
    services = current_app.extensions[KEY]
    run_notifications(services, build_sender(services, _mailbox()), interval=interval)


def init_app(app: Flask) -> None:
    app.cli.add_command(group)
