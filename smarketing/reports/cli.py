"""``flask report monthly 2026-10 -o report.pdf [--lang es|en] [--position N]``."""

import time
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from smarketing.extensions import services
from smarketing.reports.pdf import LANGUAGES, render_monthly_pdf
from smarketing.reports.replay import ReportError

report_cli = AppGroup("report", help="Reports for managers.")


@report_cli.command("monthly")
@click.argument("month")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Where to write the PDF."
)
@click.option("--lang", type=click.Choice(LANGUAGES), default="es", show_default=True)
@click.option("--position", type=int, default=None, help="Log position to report at (default: the latest).")
def monthly(month: str, output: Path | None, lang: str, position: int | None) -> None:
    """Write the monthly PDF report for MONTH (YYYY-MM), replayed from the event log."""
    started = time.perf_counter()
    try:
        pdf = render_monthly_pdf(services(), month, lang, log_position=position)
    except ReportError as error:
        # ClickException: message on stderr and exit status 1, no traceback.
        raise click.ClickException(str(error)) from None
    target = output or Path(f"smarketing-{month.strip()}-{lang}.pdf")
    target.write_bytes(pdf)
    elapsed = time.perf_counter() - started
    click.echo(f"Wrote {target} ({len(pdf) // 1024} KiB) in {elapsed:.2f}s.")


def init_app(app: Flask) -> None:
    app.cli.add_command(report_cli)
