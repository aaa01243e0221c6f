"""More of the agreement, on the same blueprint: the shared vocabulary (personas
and MQL/SQL criteria), the standing terms (scoring, calendar, meetings), the
"Needs attention" list and the "Ready for MQL" list."""

from datetime import UTC, datetime
from typing import Any

from flask import redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from domain.agreement_terms import CALENDAR, DEFAULTS, MEETINGS, SCORING, SECTIONS, section_values
from domain.errors import InvalidInput
from domain.scoring import DEFAULT_POINTS, MODES
from domain.vocabulary_book import CRITERIA_STAGES
from projections.agreement_docs import CRITERIA, PERSONA, TERMS, current_docs, doc_history
from projections.attention import count_attention, needs_attention
from projections.scoring import lead_scores
from smarketing.extensions import services
from smarketing.sla_terms import sla_in_force
from smarketing.web import forms
from smarketing.web.agreement import bp
from smarketing.web.hx import HX_REQUEST

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _page(page: str, body: str, status: int = 200, **context: Any) -> tuple[str, int]:
    template = body if request.headers.get(HX_REQUEST) else page
    return render_template(template, **context), status


# --- vocabulary -------------------------------------------------------------


def _vocabulary_context() -> dict[str, Any]:
    with services().read_engine.connect() as conn:
        return {
            "personas": current_docs(conn, PERSONA),
            "criteria": current_docs(conn, CRITERIA),
            "history": doc_history(conn, PERSONA, CRITERIA),
            "stages": CRITERIA_STAGES,
        }


def _vocabulary(status: int = 200, **extra: Any) -> tuple[str, int]:
    context = _vocabulary_context() | {"errors": {}, "form": {}} | extra
    return _page("agreement_vocabulary.html", "partials/vocabulary_body.html", status, **context)


@bp.get("/vocabulary")
def vocabulary() -> tuple[str, int]:
    return _vocabulary()


@bp.post("/vocabulary/<part>")
def vocabulary_write(part: str) -> BaseResponse | tuple[str, int]:
    app, form = services().app, request.form
    fields = {
        k: forms.text(form, k) for k in ("name", "description", "pains", "signals", "stage", "text", "reason")
    }
    try:
        if part == "criteria":
            app.set_criteria(fields["stage"], fields["text"], fields["reason"])
        elif part == "persona":
            app.save_persona(
                fields["name"],
                fields["reason"],
                description=fields["description"],
                pains=fields["pains"],
                signals=fields["signals"],
            )
        elif part == "persona-remove":
            app.remove_persona(fields["name"], fields["reason"])
        else:
            raise InvalidInput("part", "must be criteria, persona or persona-remove")
    except InvalidInput as error:
        return _vocabulary(422, errors={part: f"{error.field}: {error.message}"}, form={part: fields})
    services().projector.catch_up()
    if not request.headers.get(HX_REQUEST):
        return redirect(url_for("agreement.vocabulary"), code=303)
    return _vocabulary(message=_("Saved. The change is in the history below."))


# --- standing terms ----------------------------------------------------------------


def _terms(status: int = 200, **extra: Any) -> tuple[str, int]:
    with services().read_engine.connect() as conn:
        terms = current_docs(conn, TERMS)
        history = doc_history(conn, TERMS)
    context = {
        "values": {s: section_values(terms, s) for s in SECTIONS},
        "set": set(terms),
        "history": history,
        "kinds": list(DEFAULT_POINTS),
        "modes": MODES,
        "weekdays": WEEKDAYS,
        "errors": {},
        "tz_default": services().settings.timezone,
    } | extra
    return _page("agreement_terms.html", "partials/terms_body.html", status, **context)


@bp.get("/terms")
def terms() -> tuple[str, int]:
    return _terms()


def _section_from_form(section: str) -> dict[str, Any]:
    form = request.form
    if section == SCORING:
        values: dict[str, Any] = {k: forms.text(form, k) for k in ("half_life_days", "threshold", "mode")}
        values["points"] = {k: forms.text(form, f"points_{k}") for k in DEFAULT_POINTS}
        return values
    if section == CALENDAR:
        values = {k: forms.text(form, k) for k in ("timezone", "opens", "closes")}
        values["workdays"] = form.getlist("workdays")
        values["nights_count"] = form.get("nights_count") == "1"
        values["weekends_count"] = form.get("weekends_count") == "1"
        return values
    return {k: forms.text(form, k) for k in DEFAULTS.get(section, DEFAULTS[MEETINGS])}


@bp.post("/terms/<section>")
def terms_write(section: str) -> BaseResponse | tuple[str, int]:
    try:
        services().app.set_terms(section, _section_from_form(section), forms.text(request.form, "reason"))
    except InvalidInput as error:
        return _terms(422, errors={section: f"{error.field}: {error.message}"})
    services().projector.catch_up()
    if not request.headers.get(HX_REQUEST):
        return redirect(url_for("agreement.terms"), code=303)
    return _terms(message=_("Terms saved."))


# --- follow-up discipline and scoring lists -------------------------------------------


def attention_now() -> tuple[list[dict[str, Any]], Any]:
    svc, now = services(), datetime.now(UTC)
    with svc.read_engine.connect() as conn:
        sla = sla_in_force(conn, now, svc.settings.tz)
        groups = needs_attention(
            conn,
            now,
            follow_up_hours=sla.follow_up_hours,
            attempts_per_mql=sla.attempts_per_mql,
            window_days=sla.window_days,
            calendar=sla.calendar,
        )
    return groups, sla


@bp.get("/attention")
def attention() -> str:
    groups, sla = attention_now()
    return render_template("agreement_attention.html", groups=groups, counts=count_attention(groups), sla=sla)


@bp.get("/ready")
def ready() -> str:
    svc, now = services(), datetime.now(UTC)
    with svc.read_engine.connect() as conn:
        sla = sla_in_force(conn, now, svc.settings.tz)
        scores = lead_scores(conn, now, sla.scoring)
    threshold = sla.scoring.threshold
    return render_template(
        "agreement_ready.html",
        ready=[s for s in scores if s["score"] >= threshold],
        warming=[s for s in scores if s["score"] < threshold][:20],
        scoring=sla.scoring,
    )
