"""Web import: upload a CSV, map its columns with a preview, then import it in a
background thread while an htmx-polled progress bar shows how far it got.

Uploads are kept in instance/imports/<random id>.csv (MAX_CONTENT_LENGTH caps
their size); job progress lives in this process's memory, so a restart forgets
running jobs but never half-writes a lead (each chunk is one transaction).
"""

import re
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.lists import format_list
from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _

from domain.actor import current_actor
from smarketing.extensions import services
from smarketing.formatting import stored_money
from smarketing.importing import mapping as mappings
from smarketing.importing.parse import (
    DATE_FORMATS,
    CsvData,
    ImportFileError,
    decode,
    read_csv,
    read_csv_text,
    zone,
)
from smarketing.importing.plan import PlannedRow, make_plan
from smarketing.importing.run import ImportResult, run_plan, save_rejects, save_warnings
from smarketing.labels import label
from smarketing.source_words import resolver

bp = Blueprint("imports", __name__, url_prefix="/import")

_ID = re.compile(r"^[0-9a-f]{32}$")
PREVIEW_ROWS = 5
WARNING_EXAMPLES = 20  # warnings listed per kind on the page; the warnings CSV has every row


@dataclass
class Job:
    upload: str
    total: int
    done: int = 0
    result: ImportResult | None = None
    failure: str = ""
    header: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.result is not None or bool(self.failure)


JOBS: dict[str, Job] = {}
_LOCK = threading.Lock()


def _folder() -> Path:
    folder = Path(current_app.instance_path) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _upload_path(upload: str) -> Path:
    if not _ID.match(upload):
        abort(404)
    path = _folder() / f"{upload}.csv"
    if not path.is_file():
        abort(404)
    return path


@bp.get("/")
def index() -> str:
    return render_template("imports/index.html", error="")


@bp.post("/")
def upload() -> ResponseReturnValue:
    file = request.files.get("file")
    if file is None or not file.filename:
        return render_template("imports/index.html", error=_("Choose a CSV file.")), 422
    raw = file.read()
    try:
        read_csv_text(decode(raw))
    except ImportFileError as error:
        return render_template("imports/index.html", error=str(error)), 422
    upload_id = secrets.token_hex(16)  # unguessable: the id is the only handle on the file
    (_folder() / f"{upload_id}.csv").write_bytes(raw)
    preset = request.form.get("preset", "leads")
    return redirect(url_for("imports.mapping", upload=upload_id, preset=preset), code=303)


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


def _load(upload: str) -> CsvData:
    try:
        return read_csv(_upload_path(upload))
    except ImportFileError as error:
        abort(422, str(error))


@bp.get("/<upload>/mapping")
def mapping(upload: str) -> ResponseReturnValue:
    data = _load(upload)
    tz_name = request.args.get("tz", "") or services().settings.timezone
    context: dict = {"upload": upload, "header": data.header, "tz": tz_name, "total": len(data.rows)}
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
        context |= {"error": str(error), "fields": mappings.FIELDS[preset.kind], "columns": preset.columns}
        return render_template("imports/mapping.html", preview=[], **context), 422
    sample = CsvData(data.header, data.rows[:PREVIEW_ROWS])
    plan = make_plan(sample, chosen, tz, sources=resolver(), email_key=services().app.email_key)
    planned = {p.row: _preview(p, tz) for p in plan.rows}
    errors = {e.row: f"{e.column}: {e.reason}" for e in plan.errors}
    preview = [
        {"row": n, "values": values, "becomes": planned.get(n, []), "error": errors.get(n, "")}
        for n, values in sample.rows
    ]
    context |= {"fields": mappings.FIELDS[chosen.kind], "columns": chosen.columns}
    return render_template("imports/mapping.html", preview=preview, **context)


@bp.post("/<upload>/run")
def run(upload: str) -> ResponseReturnValue:
    data = _load(upload)
    try:
        chosen = _mapping_from_args(request.form, data.header)
        tz = zone(request.form.get("tz", "") or services().settings.timezone)
    except (mappings.MappingError, ImportFileError) as error:
        abort(422, str(error))
    job_id = secrets.token_hex(16)
    job = Job(upload=upload, total=len(data.rows) * 2, header=data.header)
    with _LOCK:
        JOBS[job_id] = job
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    actor = current_actor.get()
    thread = threading.Thread(
        target=_work, args=(app, job, data, chosen, tz, actor), name=f"import-{job_id[:8]}", daemon=True
    )
    thread.start()
    return redirect(url_for("imports.job", job_id=job_id), code=303)


def _work(app: Flask, job: Job, data: CsvData, chosen: mappings.Mapping, tz: ZoneInfo, actor: str) -> None:
    current_actor.set(actor)  # threads do not inherit context variables

    def advance(n: int) -> None:
        job.done += n

    with app.app_context():
        svc = services(app)
        try:
            plan = make_plan(
                data, chosen, tz, progress=advance, sources=resolver(), email_key=svc.app.email_key
            )
            result = run_plan(svc.app, plan, progress=advance)
            if result.errors:
                save_rejects(_folder() / f"{job.upload}.rejects.csv", data.header, result.errors)
            if result.warnings:
                save_warnings(_folder() / f"{job.upload}.warnings.csv", result.warnings)
            svc.projector.catch_up()
            job.result = result
        except Exception as error:  # reported on the page, not lost with the thread
            app.logger.exception("Import %s failed", job.upload)
            job.failure = str(error) or type(error).__name__


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
    return _job_file(job_id, "rejects.csv", "rejected-rows.csv")


@bp.get("/jobs/<job_id>/warnings.csv")
def warnings(job_id: str) -> ResponseReturnValue:
    """Every warning of the import, grouped by kind (the page lists a few of each)."""
    return _job_file(job_id, "warnings.csv", "import-warnings.csv")


def _job_file(job_id: str, suffix: str, download_name: str) -> ResponseReturnValue:
    job = _job(job_id)
    path = _folder() / f"{job.upload}.{suffix}"
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="text/csv", as_attachment=True, download_name=download_name)


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
    import_cli.init_app(app)
