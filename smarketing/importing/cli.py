"""``flask import leads|deals FILE``: the same plan and run as the web import."""

import os
import sys
import time
import uuid
from pathlib import Path
from typing import NoReturn

import click
from babel.numbers import format_decimal
from flask import Flask
from flask.cli import AppGroup
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _

from smarketing.extensions import services
from smarketing.importing import mapping as mappings
from smarketing.importing.messages import say
from smarketing.importing.parse import BATCH_ROWS, ImportFileError, csv_batches, survey, zone
from smarketing.importing.run import (
    STORE_ERRORS,
    ImportResult,
    import_batches,
    save_rejects,
    save_warnings,
    store_refused,
)
from smarketing.notifications.import_done import import_finished
from smarketing.present.source_words import resolver
from smarketing.web.core.i18n import LANGUAGES

import_cli = AppGroup("import", help="Import leads and their history from CSV files.")
SHOWN = 20  # rejected rows printed; the rejects file has them all
EXAMPLES = 3  # warnings printed per kind; the warnings file has them all
# Exit codes (docs/OPERATIONS.md): the file cannot be imported; the store cannot be written.
FILE_REFUSED = 2
STORE_REFUSED = 3


def reader_language() -> str:
    """The terminal's language (LC_ALL, LC_MESSAGES, LANG) when the app speaks it, else English."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        code = os.environ.get(variable, "")[:2].lower()
        if code:
            return code if code in LANGUAGES else "en"
    return "en"


def _import(
    kind: str,
    file: str,
    mapping_spec: str,
    tz_name: str,
    dry_run: bool,
    rejects: str,
    warnings: str,
    notify: str = "",
) -> None:
    svc = services()
    try:
        mapping = mappings.load(mapping_spec, kind)
        tz = zone(tz_name or svc.settings.timezone)
        first, total = survey(file)
        mapping = mappings.fit_to_header(mapping, first.header)
    except (ImportFileError, mappings.MappingError) as error:
        _fail(say(error.message), FILE_REFUSED)
    started = time.perf_counter()
    try:
        with click.progressbar(length=total, label=_("Importing"), file=sys.stderr) as bar:
            batches = csv_batches(file, BATCH_ROWS)
            result = import_batches(
                svc.app, batches, mapping, tz, sources=resolver(), dry_run=dry_run, progress=bar.update
            )
        imported_in = time.perf_counter() - started
        projected = 0 if dry_run else svc.projector.catch_up()
    except ImportFileError as error:  # the file changed since it was checked
        _fail(say(error.message), FILE_REFUSED)
    except STORE_ERRORS as error:
        _fail(say(store_refused(error)), STORE_REFUSED)
    _summary(result, imported_in, time.perf_counter() - started, projected)
    # A terminal has no logged-in user: --notify names who is told (a fresh id per run).
    import_finished(svc.projector.engine, notify, uuid.uuid4().hex, result)
    if result.errors and rejects:
        save_rejects(Path(rejects), first.header, result.errors)
        click.echo(_("Rejected rows written to %(file)s.", file=rejects))
    if result.warnings and warnings:
        save_warnings(Path(warnings), result.warnings)
        click.echo(_("Warnings written to %(file)s (every row, by kind).", file=warnings))


def _fail(message: str, code: int) -> NoReturn:
    click.echo(_("Not imported: %(message)s", message=message), err=True)
    sys.exit(code)


def _summary(result: ImportResult, imported_in: float, total: float, projected: int) -> None:
    counts = {
        "imported": result.imported,
        "total": result.total,
        "events": result.events,
        "seconds": format_decimal(round(imported_in, 1), locale=str(get_locale() or "en")),
        "skipped": result.skipped,
        "rejected": len(result.errors),
        "warnings": len(result.warnings),
    }
    if result.dry_run:
        line = _(
            "Would import %(imported)s of %(total)s rows (%(events)s events) in %(seconds)ss; skipped "
            "%(skipped)s already present; rejected %(rejected)s; %(warnings)s data-quality warnings.",
            **counts,
        )
    else:
        line = _(
            "Imported %(imported)s of %(total)s rows (%(events)s events) in %(seconds)ss; skipped "
            "%(skipped)s already present; rejected %(rejected)s; %(warnings)s data-quality warnings.",
            **counts,
        )
    click.echo(line)
    if projected:
        seconds = format_decimal(round(total, 1), locale=str(get_locale() or "en"))
        click.echo(
            _(
                "Read models updated (%(n)s event applications); %(seconds)ss in all.",
                n=projected,
                seconds=seconds,
            )
        )
    for error in result.errors[:SHOWN]:
        click.echo("  " + _row_line(error.row, error.column, say(error.why)))
    if len(result.errors) > SHOWN:
        more = len(result.errors) - SHOWN
        click.echo("  " + _("… and %(n)s more rejected rows (use --rejects FILE).", n=more))
    if result.warnings:
        click.echo(_("Data-quality warnings by kind:"))
    for kind, count in result.warning_counts().items():
        click.echo(f"  {kind}: {count}")
        for warning in result.warnings_of(kind)[:EXAMPLES]:
            click.echo("    " + _row_line(warning.row, warning.column, say(warning.why)))
        if count > EXAMPLES:
            more = count - EXAMPLES
            click.echo("    " + _("… and %(n)s more of this kind (use --warnings FILE).", n=more))


def _row_line(row: int, column: str, text: str) -> str:
    return _("row %(row)s, column %(column)s: %(reason)s", row=row, column=column or "-", reason=text)


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
        f = click.option("--notify", default="", help="User told (in-app and by e-mail) when it finishes.")(f)
        f = click.option("--tz", "tz_name", default="", help="Time zone of times without an offset.")(f)
        f = click.option("--dry-run", is_flag=True, help="Check every row; save nothing.")(f)
        f = click.option("--rejects", default="", help="Write rejected rows (with reasons) to this CSV.")(f)
        f = click.option("--warnings", default="", help="Write every warning (by kind) to this CSV.")(f)
        f = click.option(
            "--lang",
            type=click.Choice(LANGUAGES),
            default=None,
            help="Language of the messages and the rejects file [default: from LANG, else English].",
        )(f)
        return f

    return decorate


@import_cli.command("leads")
@_options("leads")
def import_leads(
    file: str,
    mapping_spec: str,
    tz_name: str,
    dry_run: bool,
    rejects: str,
    warnings: str,
    lang: str | None,
    notify: str,
) -> None:
    """Import leads (new leads only; leads already imported are skipped)."""
    with force_locale(lang or reader_language()):
        _import("leads", file, mapping_spec, tz_name, dry_run, rejects, warnings, notify)


@import_cli.command("deals")
@_options("deals")
def import_deals(
    file: str,
    mapping_spec: str,
    tz_name: str,
    dry_run: bool,
    rejects: str,
    warnings: str,
    lang: str | None,
    notify: str,
) -> None:
    """Import later history of imported leads: owner, stage reached, deal won."""
    with force_locale(lang or reader_language()):
        _import("deals", file, mapping_spec, tz_name, dry_run, rejects, warnings, notify)


def init_app(app: Flask) -> None:
    app.cli.add_command(import_cli)
