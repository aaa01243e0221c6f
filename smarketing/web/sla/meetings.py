"""The weekly and monthly joint meetings: a pack of what changed since the last
meeting with an agenda derived from it, and the decisions and action items
recorded as events (open action items follow into every later pack)."""

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from flask import Blueprint, Flask, abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from domain.errors import InvalidInput
from domain.meeting import MONTHLY, WEEKLY, clean_period, meeting_id
from projections.models import meetings as meetings_model
from smarketing.extensions import services
from smarketing.present import labels
from smarketing.present.periods import month_arg, week_arg
from smarketing.service import meeting_pack
from smarketing.service.sla_terms import sla_in_force
from smarketing.web.core.catch_up import catch_up_after_write
from smarketing.web.core.errors import translated
from smarketing.web.core.hx import wants_fragment
from smarketing.web.input import forms

bp = Blueprint("meetings", __name__, url_prefix="/meetings")

ARG = {WEEKLY: "week", MONTHLY: "month"}
RECORD_TARGET = "meeting-record"  # the record and "Mark done" forms post here (hx-target)


def _pack(kind: str, period: str) -> dict[str, Any]:
    svc, now = services(), datetime.now(UTC)
    tz = svc.settings.tz
    period = clean_period(kind, period)
    start, _end = meeting_pack.period_bounds(kind, meeting_pack.previous_period(kind, period), tz)
    review_end = meeting_pack.period_bounds(kind, period, tz)[0]
    key = meeting_id(kind, period).hex
    with svc.read_engine.connect() as conn:
        sla = sla_in_force(conn, now, tz)
        figures = meeting_pack.changes(conn, start, review_end, now, sla)
        carried = meetings_model.open_actions(conn, except_meeting=key)
        items = meetings_model.items_of(conn, key)
        month = meeting_pack.graded_month(kind, period, now, tz)
        agenda = meeting_pack.agenda(conn, figures, month, now, sla, len(carried))
    minutes = sla.meetings[f"{kind}_minutes"]
    return {
        "kind": kind,
        "period": period,
        "arg": ARG[kind],
        "previous": meeting_pack.previous_period(kind, period),
        "review": (start.astimezone(tz), (review_end - timedelta(seconds=1)).astimezone(tz)),  # inclusive
        "attendees": labels.attendees(sla.meetings[f"{kind}_attendees"]),
        "minutes": minutes,
        "figures": figures,
        "agenda": agenda,
        "graded_month": month,
        "carried": carried,
        "items": items,
        "meeting_key": key,
        "errors": {},
        "form": {},
    }


def _period(kind: str, text: str) -> str:
    """The week or month asked for, in range (smarketing.present.periods), else InvalidInput."""
    return week_arg(text) if kind == WEEKLY else month_arg(text)


def _show(kind: str, status: int = 200, **extra: Any) -> tuple[str, int]:
    default = meeting_pack.current_period(kind, datetime.now(UTC), services().settings.tz)
    asked = request.values.get(ARG[kind], "")
    context = _pack(kind, _period(kind, asked) if asked else default) | extra
    template = "partials/meeting_record.html" if wants_fragment(RECORD_TARGET) else "meeting.html"
    return render_template(template, **context), status


@bp.get("/weekly")
def weekly() -> tuple[str, int]:
    return _show(WEEKLY)


@bp.get("/monthly")
def monthly() -> tuple[str, int]:
    return _show(MONTHLY)


@bp.post("/<kind>/record")
def record(kind: str) -> BaseResponse | tuple[str, int]:
    if kind not in ARG:
        abort(404)
    period = forms.text(request.form, ARG[kind])
    fields = {k: forms.text(request.form, k) for k in ("decision", "action", "owner")}
    try:
        services().app.record_meeting(kind, _period(kind, period), **fields)
    except InvalidInput as error:
        return _show(kind, 422, errors={"record": translated(error)}, form=fields)
    catch_up_after_write()
    if not wants_fragment(RECORD_TARGET):
        return redirect(url_for(f"meetings.{kind}", **_period_arg(kind, period)), code=303)
    return _show(kind, message=_("Recorded."))


@bp.post("/<kind>/actions/<meeting_key>/<number>/done")
def done(kind: str, meeting_key: str, number: str) -> BaseResponse | tuple[str, int]:
    if kind not in ARG:
        abort(404)
    try:
        meeting, item = UUID(meeting_key), int(number)
    except ValueError:
        abort(404)
    try:
        services().app.mark_action_done(meeting, item, forms.text(request.form, "note"))
    except InvalidInput as error:
        return _show(kind, 422, errors={"done": translated(error)})
    catch_up_after_write()
    if not wants_fragment(RECORD_TARGET):
        return redirect(
            url_for(f"meetings.{kind}", **_period_arg(kind, forms.text(request.form, ARG[kind]))), code=303
        )
    return _show(kind, message=_("Action item marked done."))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _period_arg(kind: str, period: str) -> dict[str, Any]:
    # Typed Any: url_for's own keyword arguments (_external...) are not strings.
    return {ARG[kind]: period}
