"""The user's own notifications: the bell's count, the list ("Notificaciones") with
mark-as-read, and the e-mail preferences ("Avisos por correo").

Every role has these pages (``notifications.own``): everyone is notified of
something, and each sees only their own rows (``recipient`` is the logged-in user,
never a parameter). The outbox is the projector's table (``services.projector.engine``).
"""

from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, Response, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from domain.errors import InvalidInput
from projections.engine.schema import to_db
from projections.models.lead_summary import lead_summary
from smarketing.extensions import services
from smarketing.notifications import outbox, preferences
from smarketing.present.labels import period_name
from smarketing.web.core.access import can
from smarketing.web.core.errors import field_message
from smarketing.web.core.hx import page_or_fragment, wants_fragment

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

LIST_TARGET = "notification-list"
PREFS_TARGET = "notification-preferences"
# What happened, in a few words, for the list (the e-mail subjects say it with the lead).
KIND_WORDS = {
    outbox.ASSIGNED: _l("Lead assigned to you"),
    outbox.REJECTED: _l("MQL rejected back to marketing"),
    outbox.DUE_SOON: _l("Follow-up due within an hour"),
    outbox.OVERDUE: _l("Follow-up overdue"),
    outbox.IMPORT_DONE: _l("Your import has finished"),
    outbox.MEETING_PACK: _l("The weekly meeting pack is ready"),
}
FIELD_WORDS = {
    "email": _l("E-mail address"),
    "language": _l("Language of the e-mails"),
    "kinds": _l("Notifications"),
}


def _engine() -> Any:
    return services().projector.engine


def unread() -> int:
    """The bell's count: one indexed COUNT per page, only for a logged-in user."""
    if not getattr(current_user, "is_authenticated", False):
        return 0
    return outbox.unread_count(_engine(), current_user.username)


def _lead_names(lead_ids: set[str]) -> dict[str, str]:
    # Names only for roles that read leads (access: lead.find), as the e-mails do.
    if not lead_ids or not can("lead.find"):
        return {}
    query = select(lead_summary.c.lead_id, lead_summary.c.name).where(lead_summary.c.lead_id.in_(lead_ids))
    with services().read_engine.connect() as conn:
        return {str(r.lead_id): r.name for r in conn.execute(query)}


def _items() -> list[dict[str, Any]]:
    notes = outbox.recent(_engine(), current_user.username)
    names = _lead_names({n["lead_id"] for n in notes if n["lead_id"]})
    for note in notes:
        note["words"] = KIND_WORDS.get(note["kind"], note["kind"])
        note["lead_name"] = names.get(note["lead_id"] or "")
        note["detail"] = _detail(note["kind"], note["detail"] or "")
    return notes


def _detail(kind: str, stored: str) -> str:
    """The stored detail in the reader's words: a deadline is a date and time in the
    team's zone, a week is "semana 50 de 2026"; an import's counts stay as they are."""
    if kind in (outbox.DUE_SOON, outbox.OVERDUE) and stored:
        try:
            due = datetime.fromisoformat(stored)
        except ValueError:
            return stored
        return _("due %(when)s", when=format_datetime(due, "short"))
    if kind == outbox.MEETING_PACK and stored:
        return period_name("weekly", stored)
    return stored


def _list() -> Response:
    return page_or_fragment(
        "notifications.html",
        "partials/notification_list.html",
        (LIST_TARGET,),
        notes=_items(),
        unread_count=unread(),
        may_see_leads=can("lead.find"),
        bell_out_of_band=wants_fragment(LIST_TARGET),  # the menu's count follows the swap
    )


@bp.get("/")
def index() -> Response:
    return _list()


def _after_marking() -> ResponseReturnValue:
    if wants_fragment(LIST_TARGET):
        return _list()
    return redirect(url_for("notifications.index"), code=303)  # a plain form: back to the list


@bp.post("/<id_>/read")
def read(id_: str) -> ResponseReturnValue:
    outbox.mark_read(_engine(), current_user.username, to_db(datetime.now(UTC)), id_[:32])
    return _after_marking()


@bp.post("/read")
def read_all() -> ResponseReturnValue:
    outbox.mark_read(_engine(), current_user.username, to_db(datetime.now(UTC)))
    return _after_marking()


# --- "Avisos por correo" ------------------------------------------------------------


def _preferences_page(
    form: dict[str, Any], message: str = "", error: str = "", status: int = 200
) -> Response:
    response = page_or_fragment(
        "notification_preferences.html",
        "partials/notification_preferences_form.html",
        (PREFS_TARGET,),
        form=form,
        kinds=[(k, outbox.KIND_LABELS[k]) for k in outbox.KINDS],
        languages=preferences.LANGUAGES,
        message=message,
        error=error,
    )
    response.status_code = status
    return response


def _saved_choices() -> dict[str, Any]:
    who = preferences.recipient(services().write_engine, current_user.username)
    if who is None:  # deactivated meanwhile: the session ends on the next request anyway
        return {"email": "", "language": preferences.DEFAULT_LANGUAGE, "enabled": set(outbox.KINDS)}
    return {"email": who.email, "language": who.language, "enabled": set(outbox.KINDS) - who.disabled}


@bp.get("/preferences")
def preferences_page() -> Response:
    return _preferences_page(_saved_choices())


@bp.post("/preferences")
def save_preferences() -> Response:
    email = request.form.get("email", "")[:254]
    language = request.form.get("language", "")
    enabled = set(request.form.getlist("kinds"))
    form = {"email": email, "language": language, "enabled": enabled}  # shown again as typed
    try:
        preferences.save(
            services().write_engine, current_user.username, email=email, language=language, enabled=enabled
        )
    except InvalidInput as error:
        words = FIELD_WORDS.get(error.field, error.field)
        text = _("%(field)s: %(message)s", field=words, message=field_message(error))
        return _preferences_page(form, error=text, status=422)
    return _preferences_page(_saved_choices(), message=_("Your e-mail preferences are saved."))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.jinja_env.globals["unread_notifications"] = unread
    app.after_request(_no_store)


def _no_store(response: Response) -> Response:
    # The list and the count change with every notification: never from a cache.
    if request.blueprint == "notifications":
        response.headers["Cache-Control"] = "no-store"
    return response
