"""More of the agreement, on the same blueprint: the shared vocabulary (personas
and MQL/SQL criteria), the standing terms (scoring, calendar, meetings), the
"Needs attention" list and the "Ready for MQL" list."""

from datetime import UTC, datetime, tzinfo
from typing import Any

from babel.dates import format_datetime, get_day_names
from flask import abort, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as BaseResponse

from domain.agreement_terms import CALENDAR, DEFAULTS, MEETINGS, SCORING, SECTIONS, section_values
from domain.errors import N_, InvalidInput
from domain.scoring import DEFAULT_POINTS, MODES
from domain.validation import check_business_range
from domain.vocabulary_book import CRITERIA_STAGES
from projections.models import score_state
from projections.models.agreement_docs import CRITERIA, PERSONA, TERMS, current_docs, doc_history
from projections.models.scoring import lead_scores
from projections.queries.attention_query import LISTS, FollowUpTerms, attention_overview, attention_page
from projections.queries.ready_query import ready_page, warming_up
from smarketing.extensions import services
from smarketing.present import labels, source_words
from smarketing.present.source_words import SOURCE_KINDS, SOURCE_PARTS
from smarketing.service.sla_terms import sla_in_force
from smarketing.web.core.catch_up import catch_up_after_write
from smarketing.web.core.errors import translated
from smarketing.web.core.hx import wants_fragment
from smarketing.web.input import forms
from smarketing.web.sla.agreement_blueprint import bp

VOCABULARY_PARTS = ("criteria", "persona", "persona-remove", *SOURCE_PARTS)
ATTENTION_TITLES = {"overdue": _l("Overdue first contact"), "under_contacted": _l("Under-contacted")}


def weekdays() -> list[str]:
    """Monday to Sunday, abbreviated in the reader's language (Babel: 0 is Monday)."""
    names = get_day_names("abbreviated", locale=get_locale())
    return [names[day] for day in range(7)]


# The ids the pages' htmx forms and "More" rows aim at (hx-target; "this" is the row itself).
VOCABULARY_TARGET = "vocabulary-body"
TERMS_TARGET = "terms-body"
MORE_ATTENTION = "more-attention"
MORE_READY = "more-ready"


def _page(page: str, body: str, target: str, status: int = 200, **context: Any) -> tuple[str, int]:
    template = body if wants_fragment(target) else page
    return render_template(template, **context), status


# --- vocabulary -------------------------------------------------------------


def _vocabulary_context() -> dict[str, Any]:
    with services().read_engine.connect() as conn:
        return {
            "personas": current_docs(conn, PERSONA),
            "criteria": current_docs(conn, CRITERIA),
            "history": doc_history(conn, PERSONA, CRITERIA, *SOURCE_KINDS),
            "stages": CRITERIA_STAGES,
        } | source_words.vocabulary_context(conn)


def _vocabulary(status: int = 200, **extra: Any) -> tuple[str, int]:
    context = _vocabulary_context() | {"errors": {}, "form": {}} | extra
    return _page(
        "agreement_vocabulary.html", "partials/vocabulary_body.html", VOCABULARY_TARGET, status, **context
    )


@bp.get("/vocabulary")
def vocabulary() -> tuple[str, int]:
    return _vocabulary()


@bp.post("/vocabulary/<part>")
def vocabulary_write(part: str) -> BaseResponse | tuple[str, int]:
    if part not in VOCABULARY_PARTS:
        abort(404)  # no such form: nothing on the page could show the refusal
    app, form = services().app, request.form
    fields = {
        k: forms.text(form, k) for k in ("name", "description", "pains", "signals", "stage", "text", "reason")
    }
    if part in SOURCE_PARTS:
        fields = source_words.typed(form)
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
            source_words.write(app, part, fields)
    except InvalidInput as error:
        return _vocabulary(422, errors={part: translated(error)}, form={part: fields})
    catch_up_after_write()
    if not wants_fragment(VOCABULARY_TARGET):
        return redirect(url_for("agreement.vocabulary"), code=303)
    return _vocabulary(message=_("Saved. The change is in the history below."))


# --- standing terms ----------------------------------------------------------------


def _terms(status: int = 200, **extra: Any) -> tuple[str, int]:
    with services().read_engine.connect() as conn:
        terms = current_docs(conn, TERMS)
        history = doc_history(conn, TERMS)
    context = {
        "values": {s: section_values(terms, s) for s in SECTIONS}
        | {MEETINGS: labels.meetings_terms(section_values(terms, MEETINGS))},
        "set": set(terms),
        "history": history,
        "kinds": list(DEFAULT_POINTS),
        "modes": MODES,
        "weekdays": weekdays(),
        "errors": {},
        "tz_default": services().settings.timezone,
    } | extra
    return _page("agreement_terms.html", "partials/terms_body.html", TERMS_TARGET, status, **context)


@bp.get("/terms")
def terms() -> tuple[str, int]:
    return _terms()


def _count(name: str, field: str | None = None) -> int | str:
    """A count typed in the user's notation; empty stays empty for the domain to refuse."""
    try:
        value = forms.whole_number(request.form, name)
    except InvalidInput as error:
        raise InvalidInput(field or name, error.template, **error.params) from None
    return "" if value is None else value


def _section_from_form(section: str) -> dict[str, Any]:
    form = request.form
    if section == SCORING:
        values: dict[str, Any] = {k: _count(k) for k in ("half_life_days", "threshold")}
        values["mode"] = forms.text(form, "mode")
        values["points"] = {k: _count(f"points_{k}", k) for k in DEFAULT_POINTS}
        return values
    if section == CALENDAR:
        values = {k: forms.text(form, k) for k in ("timezone", "opens", "closes")}
        values["workdays"] = form.getlist("workdays")
        values["nights_count"] = form.get("nights_count") == "1"
        values["weekends_count"] = form.get("weekends_count") == "1"
        return values
    return {
        k: _count(k) if k.endswith("_minutes") else forms.text(form, k)
        for k in DEFAULTS.get(section, DEFAULTS[MEETINGS])
    }


@bp.post("/terms/<section>")
def terms_write(section: str) -> BaseResponse | tuple[str, int]:
    if section not in SECTIONS:
        abort(404)
    try:
        services().app.set_terms(section, _section_from_form(section), forms.text(request.form, "reason"))
    except InvalidInput as error:
        return _terms(422, errors={section: translated(error)})
    catch_up_after_write()
    if not wants_fragment(TERMS_TARGET):
        return redirect(url_for("agreement.terms"), code=303)
    return _terms(message=_("Terms saved."))


# --- follow-up discipline and scoring lists -------------------------------------------


def _after(raw: str | None) -> tuple[datetime, str] | None:
    """A page cursor: ``<ISO time>|<lead id>``, as ``_cursor`` writes it."""
    if not raw:
        return None
    at, _sep, lead_id = raw.partition("|")
    try:
        moment = datetime.fromisoformat(at)
        return check_business_range(moment, "after"), lead_id
    except (ValueError, InvalidInput):
        raise InvalidInput("after", N_("This page link is damaged; go back to the first page.")) from None


def _cursor(after: tuple[datetime, str] | None) -> str | None:
    return None if after is None else f"{after[0].isoformat()}|{after[1]}"


def _attention_rows(leads: list[dict[str, Any]], tz: tzinfo) -> list[dict[str, Any]]:
    """The leads with the link and local times the rows partial prints.

    Made here once per row rather than by three or four template calls each (url_for,
    astimezone, Babel): the overview shows 80 rows, and those calls were a third of
    its render."""
    shown, locale = [], get_locale()
    for lead in leads:
        row = lead | {
            "href": url_for("lead_page.show", lead_id=lead["lead_id"]),
            "since": format_datetime(lead["mql_at"], "short", tzinfo=tz, locale=locale),
        }
        if "due" in lead:
            row["was_due"] = format_datetime(lead["due"], "short", tzinfo=tz, locale=locale)
        shown.append(row)
    return shown


def _rows_or_page(page: str, rows: str, more: str, **context: Any) -> str:
    # htmx asks for the next rows of a list (the "More" row ``more`` revealed); a browser for the page.
    return render_template(rows if wants_fragment(more) else page, **context)


@bp.get("/attention")
def attention() -> str:
    svc, now = services(), datetime.now(UTC)
    owner, kind = request.args.get("owner"), request.args.get("list")
    if kind is not None and kind not in LISTS:
        raise InvalidInput("list", N_("There is no list called %(list)s."), list=repr(kind[:30]))
    after = _after(request.args.get("after"))
    with svc.read_engine.connect() as conn:
        sla = sla_in_force(conn, now, svc.settings.tz)
        terms = FollowUpTerms(sla.follow_up_hours, sla.attempts_per_mql, sla.window_days, sla.calendar)
        if kind is None:
            groups = attention_overview(conn, now, terms)
            counts = {k: sum(g[f"{k}_count"] for g in groups) for k in LISTS}
            for g in groups:
                for k in LISTS:
                    g[k] = _attention_rows(g[k], sla.calendar.tz)
            return render_template(
                "agreement_attention.html",
                groups=groups,
                counts=counts,
                sla=sla,
                attention_titles=ATTENTION_TITLES,
            )
        page = attention_page(conn, now, terms, owner=owner or "", kind=kind, after=after)
    following = _cursor(page["next"])
    next_url = following and url_for("agreement.attention", owner=owner or "", list=kind, after=following)
    return _rows_or_page(
        "agreement_attention_list.html",
        "partials/attention_rows.html",
        MORE_ATTENTION,
        owner=owner or "",
        kind=kind,
        leads=_attention_rows(page["leads"], sla.calendar.tz),
        total=page["total"],
        next_url=next_url,
        sla=sla,
        attention_titles=ATTENTION_TITLES,
    )


@bp.get("/ready")
def ready() -> str:
    svc, now = services(), datetime.now(UTC)
    after = _after(request.args.get("after"))
    with svc.read_engine.connect() as conn:
        sla = sla_in_force(conn, now, svc.settings.tz)
        if score_state.is_current(conn, sla.scoring):
            page = ready_page(conn, now, sla.scoring, after=after)
            warming = warming_up(conn, now, sla.scoring) if after is None else []
        else:  # the terms just changed and the projector has not re-scored yet: the slow, exact list
            scores = lead_scores(conn, now, sla.scoring)
            ready_now = [s for s in scores if s["score"] >= sla.scoring.threshold]
            page = {"leads": ready_now, "total": len(ready_now), "next": None}
            warming = [s for s in scores if s["score"] < sla.scoring.threshold][:20]
    following = _cursor(page["next"])
    return _rows_or_page(
        "agreement_ready.html",
        "partials/ready_rows.html",
        MORE_READY,
        ready=page["leads"],
        total=page["total"],
        warming=warming,
        scoring=sla.scoring,
        next_url=following and url_for("agreement.ready", after=following),
    )
