"""Audit pages: the log's integrity and seals, a lead's replay step by step,
anything as of a recorded time, the agreement's trail and full-history exports.

Everything here is a GET and changes nothing (auditors read, never write);
states are rebuilt from the event log, never read from a read model.
"""

from flask import Blueprint, Flask, Response, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from domain.errors import InvalidInput, LeadNotFound
from smarketing.audit import history
from smarketing.audit.as_of import (
    HAPPENED,
    MODES,
    WEB_REPLAY_LIMIT,
    figures_as_of,
    parse_at,
    parse_mode,
    replay_size,
)
from smarketing.audit.chain import all_seals, verify
from smarketing.audit.cli import audit_cli
from smarketing.extensions import services
from smarketing.service.application import parse_lead_id
from smarketing.web.core.errors import render_error, translated
from smarketing.web.core.hx import HX_PUSH_URL, page_or_fragment, vary_on_htmx, wants_fragment

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.get("/")
def index() -> str:
    return _index(result=None)


@bp.get("/verify")
def verify_log() -> Response | str:
    """Walks the whole log: only when an auditor asks, never on an ordinary page load."""
    result = verify(services())
    if wants_fragment("integrity-result"):
        return vary_on_htmx(Response(render_template("partials/audit_verify.html", result=result)))
    return _index(result=result)


def _index(result: object) -> str:
    svc = services()
    with svc.read_engine.connect() as conn:
        seals = all_seals(conn)
    return render_template("audit_index.html", result=result, seals=seals, status=svc.projector.status())


@bp.get("/leads")
def find_lead() -> ResponseReturnValue:
    raw = request.args.get("lead_id", "").strip()[:80]
    try:
        lead_id = str(parse_lead_id(raw))
    except LeadNotFound as error:
        return render_error(translated(error), 404)
    return redirect(url_for("audit.lead", lead_id=lead_id))


def _step() -> int | None:
    raw = request.args.get("step", "")
    return int(raw) if raw.isdigit() else None


@bp.get("/leads/<lead_id>")
def lead(lead_id: str) -> Response:
    replay = history.replay_step(services(), lead_id, _step())
    response = page_or_fragment("audit_lead.html", "partials/audit_replay.html", ("replay",), r=replay)
    # Each step is a page of its own: back, reload and sharing land on the same step.
    response.headers[HX_PUSH_URL] = url_for("audit.lead", lead_id=replay["lead_id"], step=replay["step"])
    return response


def _download(body: str, mimetype: str, lead_id: str, ext: str) -> Response:
    name = f"lead-{parse_lead_id(lead_id)}-history.{ext}"
    disposition = f'attachment; filename="{name}"'
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": disposition})


@bp.get("/leads/<lead_id>/history.json")
def history_json(lead_id: str) -> Response:
    return _download(history.history_json(services(), lead_id), "application/json", lead_id, "json")


@bp.get("/leads/<lead_id>/history.csv")
def history_csv(lead_id: str) -> Response:
    return _download(history.history_csv(services(), lead_id), "text/csv", lead_id, "csv")


@bp.get("/as-of")
def as_of() -> ResponseReturnValue:
    svc = services()
    at_text = request.args.get("at", "").strip()[:40]
    lead_text = request.args.get("lead_id", "").strip()[:80]
    by_text = request.args.get("by", "").strip()[:20]
    context: dict = {"at_text": at_text, "lead_text": lead_text, "figures": None, "lead": None}
    context |= {"by": by_text or HAPPENED, "modes": MODES}
    if not at_text:
        return render_template("audit_as_of.html", **context)
    try:
        mode = parse_mode(by_text)
    except ValueError:
        return render_error(_("Choose “as it had happened” or “as it was recorded”."), 422)
    try:
        at = parse_at(at_text, svc)
    except InvalidInput as error:
        return render_error(translated(error), 422)
    context |= {"at": at, "by": mode}
    position = replay_size(svc, at, mode)
    context["position"] = position
    if position <= current_app.config.get("AS_OF_WEB_REPLAY_LIMIT", WEB_REPLAY_LIMIT):
        context["figures"] = figures_as_of(svc, at, position, mode)
    if lead_text:
        context["lead"] = history.lead_as_of(svc, lead_text, at, mode)
        context["lead_missing"] = context["lead"] is None
    return render_template("audit_as_of.html", **context)


@bp.get("/agreement")
def agreement() -> str:
    return render_template("audit_agreement.html", trail=history.agreement_trail(services()))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.cli.add_command(audit_cli)
