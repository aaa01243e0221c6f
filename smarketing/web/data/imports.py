"""Web import: upload a CSV, map its columns with a preview, then import it in a
background thread while an htmx-polled progress bar shows how far it got.

Uploads are kept in instance/imports/<random id>.csv, at most
SMARKETING_IMPORT_MAX_MB (a larger one is answered 413 in the reader's language),
readable by the app's user only; an upload is deleted when its import finishes, and
anything left in the folder (an upload never imported) a day after it was written.
Job progress lives in this process's memory, so a restart forgets running jobs but
never half-writes a lead (each chunk is one transaction). Reasons for rejected rows
and warnings are put into words when read: the page and the CSV files speak the
reader's language.
"""

import io
import os
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.lists import format_list
from babel.numbers import format_decimal
from flask import Blueprint, Flask, Response, abort, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import Engine
from werkzeug.exceptions import RequestEntityTooLarge

from domain.actor import current_actor
from smarketing.extensions import services
from smarketing.importing import mapping as mappings
from smarketing.importing.messages import Message, say
from smarketing.importing.parse import (
    BATCH_ROWS,
    DATE_FORMATS,
    CsvData,
    FileTooLarge,
    ImportFileError,
    csv_batches,
    max_file_bytes,
    survey,
    zone,
)
from smarketing.importing.plan import PlannedRow, make_plan
from smarketing.importing.run import (
    STORE_ERRORS,
    ImportResult,
    import_batches,
    store_refused,
    write_rejects,
    write_warnings,
)
from smarketing.notifications.import_done import import_finished
from smarketing.present.formatting import stored_money
from smarketing.present.labels import label
from smarketing.present.source_words import resolver
from smarketing.store.private_files import open_private_bytes, private_dir
from smarketing.web.data.exports import reader_style

bp = Blueprint("imports", __name__, url_prefix="/import")

_ID = re.compile(r"^[0-9a-f]{32}$")
PREVIEW_ROWS = 5
WARNING_EXAMPLES = 20  # warnings listed per kind on the page; the warnings CSV has every row
KEEP_SECONDS = 24 * 3600  # rows of personal data wait no longer than a day in the folder


@dataclass
class Job:
    upload: str
    total: int
    done: int = 0
    result: ImportResult | None = None
    failure: Message | None = None  # why the import stopped, put into words when shown
    header: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.result is not None or self.failure is not None


JOBS: dict[str, Job] = {}
_LOCK = threading.Lock()


def _folder(app: Flask | None = None) -> Path:
    return private_dir(Path((app or current_app).instance_path) / "imports")


def sweep(folder: Path, now: float) -> list[str]:
    """Delete the files written more than a day before ``now`` (epoch seconds); their names."""
    swept = []
    for path in folder.iterdir():
        try:
            if path.is_file() and now - path.stat().st_mtime > KEEP_SECONDS:
                path.unlink()
                swept.append(path.name)
        except FileNotFoundError:  # another worker swept it first
            continue
    return swept


def _stamp(path: Path) -> None:
    """Date the file by the app's clock, the one ``sweep`` reads (not the file system's)."""
    now = time.time()
    os.utime(path, (now, now))


@bp.before_request
def _sweep() -> None:
    sweep(_folder(), time.time())


def _upload_path(upload: str) -> Path:
    if not _ID.match(upload):
        abort(404)
    path = _folder() / f"{upload}.csv"
    if not path.is_file():
        abort(404)
    return path


def _index(error: str = "", status: int = 200) -> tuple[str, int]:
    largest = format_decimal(max_file_bytes() / 1048576, "#,##0.#", locale=get_locale())
    return render_template("imports/index.html", error=error, largest=largest), status


@bp.get("/")
def index() -> ResponseReturnValue:
    return _index()


@bp.post("/")
def upload() -> ResponseReturnValue:
    try:
        file = request.files.get("file")
    except RequestEntityTooLarge:  # the request as a whole is over the limit: not read at all
        return _index(say(FileTooLarge(request.content_length or 0).message), 413)
    if file is None or not file.filename:
        return _index(_("Choose a CSV file."), 422)
    upload_id = secrets.token_hex(16)  # unguessable: the id is the only handle on the file
    path = _folder() / f"{upload_id}.csv"
    try:
        _save_capped(file.stream, path)
        _stamp(path)
        survey(path)
    except ImportFileError as error:
        path.unlink(missing_ok=True)
        return _index(say(error.message), 413 if isinstance(error, FileTooLarge) else 422)
    preset = request.form.get("preset", "leads")
    return redirect(url_for("imports.mapping", upload=upload_id, preset=preset), code=303)


def _save_capped(stream: IO[bytes], path: Path) -> None:
    """Copy the upload to disk a chunk at a time, stopping as soon as it passes the limit."""
    limit, size = max_file_bytes(), 0
    with open_private_bytes(path) as out:  # rows of personal data
        while chunk := stream.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise FileTooLarge(size)
            out.write(chunk)


def _mapping_from_args(args: dict, header: list[str]) -> mappings.Mapping:
    preset = mappings.PRESETS.get(args.get("preset", ""), mappings.PRESETS["leads"])
    columns = {}
    for target in mappings.FIELDS[preset.kind]:
        chosen = args.get(f"col_{target}")
        if chosen is None:  # first visit: the preset's column, when the file has it
            chosen = preset.columns.get(target, "")
            chosen = chosen if chosen in header else ""
        if chosen:
            columns[target] = chosen
    data = preset.to_json() | {"columns": columns, "name": preset.name}
    return mappings.from_json(data, preset.kind)


def _survey(upload: str) -> tuple[CsvData, int]:
    """The upload's first rows and its number of rows, holding one batch at a time."""
    try:
        return survey(_upload_path(upload))
    except ImportFileError as error:
        abort(422, say(error.message))


@bp.get("/<upload>/mapping")
def mapping(upload: str) -> ResponseReturnValue:
    data, total = _survey(upload)
    tz_name = request.args.get("tz", "") or services().settings.timezone
    context: dict = {"upload": upload, "header": data.header, "tz": tz_name, "total": total}
    context |= {
        "presets": list(mappings.PRESETS),
        "formats": format_list(DATE_FORMATS, "or", get_locale()),
        "error": "",
    }
    context["preset"] = request.args.get("preset", "leads")
    try:
        chosen = _mapping_from_args(request.args, data.header)
        tz = zone(tz_name)
    except (mappings.MappingError, ImportFileError) as error:
        preset = mappings.PRESETS.get(context["preset"], mappings.PRESETS["leads"])
        context |= {"error": say(error.message), "fields": mappings.FIELDS[preset.kind]}
        context["columns"] = preset.columns
        return render_template("imports/mapping.html", preview=[], **context), 422
    rows = data.rows[:PREVIEW_ROWS]
    last = rows[-1][0] if rows else 0
    broken = [e for e in data.errors if e.row <= last or not rows][:PREVIEW_ROWS]
    sample = CsvData(data.header, rows, broken)
    plan = make_plan(sample, chosen, tz, sources=resolver(), email_key=services().app.email_key)
    planned = {p.row: _preview(p, tz) for p in plan.rows}
    errors = {e.row: f"{e.column}: {say(e.why)}" if e.column else say(e.why) for e in plan.errors}
    cells = dict(rows) | {e.row: e.values for e in broken}
    preview = [
        {"row": n, "values": cells[n], "becomes": planned.get(n, []), "error": errors.get(n, "")}
        for n in sorted(cells)
    ]
    context |= {"fields": mappings.FIELDS[chosen.kind], "columns": chosen.columns}
    return render_template("imports/mapping.html", preview=preview, **context)


@bp.post("/<upload>/run")
def run(upload: str) -> ResponseReturnValue:
    data, total = _survey(upload)
    try:
        chosen = _mapping_from_args(request.form, data.header)
        tz = zone(request.form.get("tz", "") or services().settings.timezone)
    except (mappings.MappingError, ImportFileError) as error:
        abort(422, say(error.message))
    job_id = secrets.token_hex(16)
    job = Job(upload=upload, total=total, header=data.header)
    with _LOCK:
        JOBS[job_id] = job
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    actor = current_actor.get()
    thread = threading.Thread(
        target=_work, args=(app, job, chosen, tz, actor, job_id), name=f"import-{job_id[:8]}", daemon=True
    )
    thread.start()
    return redirect(url_for("imports.job", job_id=job_id), code=303)


def _work(app: Flask, job: Job, chosen: mappings.Mapping, tz: ZoneInfo, actor: str, job_id: str) -> None:
    current_actor.set(actor)  # threads do not inherit context variables

    def advance(n: int) -> None:
        job.done += n

    with app.app_context():
        svc = services(app)
        try:
            batches = csv_batches(_folder() / f"{job.upload}.csv", BATCH_ROWS)
            result = import_batches(svc.app, batches, chosen, tz, sources=resolver(), progress=advance)
            svc.projector.catch_up()
            job.result = result
            _announce(app, svc.projector.engine, actor, job_id, result)
        except ImportFileError as error:  # the file changed since it was checked
            job.failure = error.message
        except STORE_ERRORS as error:
            app.logger.warning("Import %s stopped: the store cannot be written: %s", job.upload, error)
            job.failure = store_refused(error)
        except Exception as error:  # reported on the page, not lost with the thread
            app.logger.exception("Import %s failed", job.upload)
            job.failure = Message(str(error) or type(error).__name__)
        finally:
            # Its rows are now in the log (or refused with their reasons): the upload goes.
            (_folder() / f"{job.upload}.csv").unlink(missing_ok=True)


def _job(job_id: str) -> Job:
    with _LOCK:
        job = JOBS.get(job_id)
    if job is None:
        abort(404)
    return job


@bp.get("/jobs/<job_id>")
def job(job_id: str) -> str:
    return render_template("imports/job.html", job=_job(job_id), job_id=job_id, examples=WARNING_EXAMPLES)


@bp.get("/jobs/<job_id>/progress")
def progress(job_id: str) -> str:
    job = _job(job_id)
    return render_template("imports/progress.html", job=job, job_id=job_id, examples=WARNING_EXAMPLES)


@bp.get("/jobs/<job_id>/rejects.csv")
def rejects(job_id: str) -> ResponseReturnValue:
    """The rejected rows as they were, with where and why, in the reader's language and
    spreadsheet convention (``?format=raw``: the machine form, as every export)."""
    job = _job(job_id)
    if job.result is None or not job.result.errors:
        abort(404)
    out = io.StringIO()
    write_rejects(out, job.header, job.result.errors, reader_style())
    return _csv(out.getvalue(), "rejected-rows.csv")


@bp.get("/jobs/<job_id>/warnings.csv")
def warnings(job_id: str) -> ResponseReturnValue:
    """Every warning of the import, grouped by kind (the page lists a few of each)."""
    job = _job(job_id)
    if job.result is None or not job.result.warnings:
        abort(404)
    out = io.StringIO()
    write_warnings(out, job.result.warnings, reader_style())
    return _csv(out.getvalue(), "import-warnings.csv")


def _csv(text: str, download_name: str) -> Response:
    response = Response(text.encode("utf-8"), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{download_name}"'
    return response


def _preview(planned: PlannedRow, tz: ZoneInfo) -> list[str]:
    """What a row will become, in the reader's words: one line per event with its business time."""
    locale = get_locale()

    def when(at: datetime | None) -> str:
        return format_datetime(at, "short", tzinfo=tz, locale=locale) if at else _("now")

    lines = []
    for step in planned.steps:
        a = step.args
        if step.action == "capture":
            source = label("source", a["source"])
            line = _(
                "Captured: %(name)s <%(email)s>, from %(source)s",
                name=a["name"],
                email=a["email"],
                source=source,
            )
        elif step.action == "stage":
            line = _("Stage: %(stage)s", stage=label("stage", a["to_stage"]))
        elif step.action == "owner":
            line = _("Owner: %(owner)s (%(team)s)", owner=a["owner"], team=label("team", a["team"]))
        else:
            line = _("Deal won: %(amount)s", amount=stored_money(a["amount"], a["currency"]))
        lines.append(f"{line} · {when(step.at)}")
    return lines


def init_app(app: Flask) -> None:
    from smarketing.importing import cli as import_cli

    app.register_blueprint(bp)
    app.jinja_env.globals["import_reason"] = say  # a rejected row's or warning's reason, in words
    import_cli.init_app(app)
    if (Path(app.instance_path) / "imports").is_dir():
        sweep(_folder(app), time.time())  # what waited over a day while the app was down


def _announce(app: Flask, engine: Engine, actor: str, job_id: str, result: ImportResult) -> None:
    """The "import finished" notification, mailed by the sender. The rows are stored
    whatever happens here, so a notification that cannot be added is logged, never
    reported as the import failing."""
    try:
        import_finished(engine, actor, job_id, result)
    except Exception:
        app.logger.exception("Import %s: its notification could not be added", job_id)
