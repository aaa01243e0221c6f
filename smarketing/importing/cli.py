"""``flask import leads|deals FILE``: the same plan and run as the web import."""

import sys
import time
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from smarketing.extensions import services
from smarketing.importing import mapping as mappings
from smarketing.importing.parse import ImportFileError, read_csv, zone
from smarketing.importing.plan import make_plan
from smarketing.importing.run import ImportResult, run_plan, save_rejects, save_warnings
from smarketing.source_words import resolver

import_cli = AppGroup("import", help="Import leads and their history from CSV files.")
SHOWN = 20  # rejected rows printed; the rejects file has them all
EXAMPLES = 3  # warnings printed per kind; the warnings file has them all


def _import(
    kind: str, file: str, mapping_spec: str, tz_name: str, dry_run: bool, rejects: str, warnings: str
) -> None:
    svc = services()
    try:
        mapping = mappings.load(mapping_spec, kind)
        tz = zone(tz_name or svc.settings.timezone)
        data = read_csv(file)
        mapping = mappings.fit_to_header(mapping, data.header)
    except (ImportFileError, mappings.MappingError) as error:
        click.echo(f"Error: {error}", err=True)
        sys.exit(2)
    started = time.perf_counter()
    with click.progressbar(length=len(data.rows), label="Checking rows", file=sys.stderr) as bar:
        plan = make_plan(
            data, mapping, tz, progress=bar.update, sources=resolver(), email_key=svc.app.email_key
        )
    with click.progressbar(length=len(data.rows), label="Importing   ", file=sys.stderr) as bar:
        result = run_plan(svc.app, plan, dry_run=dry_run, progress=bar.update)
    imported_in = time.perf_counter() - started
    projected = 0 if dry_run else svc.projector.catch_up()
    _summary(result, imported_in, time.perf_counter() - started, projected)
    if result.errors and rejects:
        save_rejects(Path(rejects), data.header, result.errors)
        click.echo(f"Rejected rows written to {rejects}.")
    if result.warnings and warnings:
        save_warnings(Path(warnings), result.warnings)
        click.echo(f"Warnings written to {warnings} (every row, by kind).")


def _summary(result: ImportResult, imported_in: float, total: float, projected: int) -> None:
    verb = "Would import" if result.dry_run else "Imported"
    click.echo(
        f"{verb} {result.imported} of {result.total} rows ({result.events} events) in {imported_in:.1f}s; "
        f"skipped {result.skipped} already present; rejected {len(result.errors)}; "
        f"{len(result.warnings)} data-quality warnings."
    )
    if projected:
        click.echo(f"Read models updated ({projected} event applications); {total:.1f}s in all.")
    for error in result.errors[:SHOWN]:
        click.echo(f"  row {error.row}, column {error.column or '-'}: {error.reason}")
    if len(result.errors) > SHOWN:
        click.echo(f"  … and {len(result.errors) - SHOWN} more rejected rows (use --rejects FILE).")
    if result.warnings:
        click.echo("Data-quality warnings by kind:")
    for kind, count in result.warning_counts().items():
        click.echo(f"  {kind}: {count}")
        for warning in result.warnings_of(kind)[:EXAMPLES]:
            click.echo(f"    row {warning.row}, column {warning.column}: {warning.message}")
        if count > EXAMPLES:
            click.echo(f"    … and {count - EXAMPLES} more of this kind (use --warnings FILE).")


def _options(default_mapping: str):  # type: ignore[no-untyped-def]
    def decorate(f):  # type: ignore[no-untyped-def]
        f = click.argument("file", type=click.Path(dir_okay=False))(f)
        f = click.option(
            "--mapping",
            "mapping_spec",
            default=default_mapping,
            show_default=True,
            help=f"A preset ({', '.join(mappings.PRESETS)}) or a JSON mapping file.",
        )(f)
        f = click.option("--tz", "tz_name", default="", help="Time zone of times without an offset.")(f)
        f = click.option("--dry-run", is_flag=True, help="Check every row; save nothing.")(f)
        f = click.option("--rejects", default="", help="Write rejected rows (with reasons) to this CSV.")(f)
        f = click.option("--warnings", default="", help="Write every warning (by kind) to this CSV.")(f)
        return f

    return decorate


@import_cli.command("leads")
@_options("leads")
def import_leads(
    file: str, mapping_spec: str, tz_name: str, dry_run: bool, rejects: str, warnings: str
) -> None:
    """Import leads (new leads only; leads already imported are skipped)."""
    _import("leads", file, mapping_spec, tz_name, dry_run, rejects, warnings)


@import_cli.command("deals")
@_options("deals")
def import_deals(
    file: str, mapping_spec: str, tz_name: str, dry_run: bool, rejects: str, warnings: str
) -> None:
    """Import later history of imported leads: owner, stage reached, deal won."""
    _import("deals", file, mapping_spec, tz_name, dry_run, rejects, warnings)


def init_app(app: Flask) -> None:
    app.cli.add_command(import_cli)
