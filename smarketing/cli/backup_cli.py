"""``flask backup create FILE`` and ``flask backup restore FILE`` (docs/OPERATIONS.md)."""

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from smarketing.bootstrap import bootstrap
from smarketing.cli.backup import BackupError, create_backup, restore_backup
from smarketing.extensions import KEY, services

backup_cli = AppGroup("backup", help="Back up the stores while the app runs; restore them.")

NEXT_STEPS = (
    "Next: `flask audit verify` (the restored log proves itself), then "
    "`flask audit erase --reapply` (erase again whoever was erased after this backup), "
    "then start the projector and the web processes."
)


@backup_cli.command("create")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def create(file: Path) -> None:
    """Write a consistent backup of every store to FILE while writes go on."""
    try:
        manifest = create_backup(services().settings, file)
    except (BackupError, OSError) as error:  # OSError: the file or folder cannot be written
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    for member in manifest.members:
        at = f", log position {member.log_position}" if member.log_position is not None else ""
        click.echo(f"  {member.name}: {member.bytes:,} bytes{at}")
    click.echo(f"Backup ({manifest.backend}) written to {file}.")


@backup_cli.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--replace",
    is_flag=True,
    help="Overwrite stores that hold data (SQLite keeps the old files as *.before-restore-*; "
    "PostgreSQL drops the backed-up objects first).",
)
def restore(file: Path, replace: bool) -> None:
    """Put the stores in FILE back where DATABASE_URL says. Stop every other process first."""
    settings = services().settings
    # This process's own connections must not outlive the files they point at.
    current_app.extensions[KEY].close()
    try:
        manifest = restore_backup(settings, file, replace=replace)
    except (BackupError, OSError) as error:  # OSError: the file or folder cannot be written
        click.echo(f"Error: {error}", err=True)
        sys.exit(1)
    finally:
        current_app.extensions[KEY] = bootstrap(settings)
    click.echo(f"Restored the {manifest.backend} backup taken at {manifest.created_at}.")
    click.echo(NEXT_STEPS)
