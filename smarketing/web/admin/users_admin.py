"""User administration for the admin role: list, add, change role, (de)activate,
reset a password. Every change lands in the append-only ``user_audit`` table."""

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from domain.errors import InvalidInput
from smarketing.extensions import services
from smarketing.present.formatting import ngettext
from smarketing.service import users as user_store
from smarketing.service.away import away_users, set_away
from smarketing.web.core.errors import translated
from smarketing.web.input import forms

bp = Blueprint("users", __name__, url_prefix="/users")


def _page(message: str = "", error: str = "", status: int = 200) -> tuple[str, int]:
    svc = services()
    return render_template(
        "users.html",
        users=user_store.list_users(svc.read_engine),
        away=away_users(svc.read_engine),
        audit=user_store.audit_trail(svc.read_engine),
        roles=user_store.ROLES,
        message=message,
        error=error,
    ), status


@bp.get("/")
def index() -> tuple[str, int]:
    return _page()


@bp.post("/")
def create() -> tuple[str, int]:
    try:
        user = user_store.create_user(
            services().write_engine,
            actor=current_user.username,
            username=forms.text(request.form, "username"),
            role=forms.text(request.form, "role"),
            password=request.form.get("password", ""),
            display_name=forms.text(request.form, "display_name"),
        )
    except InvalidInput as error:
        return _page(error=translated(error), status=422)
    return _page(message=_("User %(name)s added.", name=user.username))


@bp.post("/<username>")
def update(username: str) -> tuple[str, int]:
    role = forms.text(request.form, "role") or None
    active = request.form.get("active") == "1"
    if user_store.same_user(username, current_user.username) and (role != "admin" or not active):
        # An admin demoting or deactivating themselves could leave nobody to undo it.
        return _page(error=_("You cannot remove your own admin access."), status=422)
    try:
        user_store.update_user(
            services().write_engine,
            actor=current_user.username,
            username=username,
            role=role,
            active=active,
            password=request.form.get("password") or None,
        )
    except InvalidInput as error:
        return _page(error=translated(error), status=422)
    return _page(message=_("User %(name)s saved.", name=username.strip().lower()))


@bp.post("/<username>/sign-out")
def sign_out(username: str) -> tuple[str, int]:
    """Every browser of the user must sign in again (a lost laptop, a shared password)."""
    try:
        ended = user_store.sign_out_everywhere(
            services().write_engine, actor=current_user.username, username=username
        )
    except InvalidInput as error:
        return _page(error=translated(error), status=404)
    name = username.strip().lower()
    return _page(
        message=ngettext(
            "%(name)s signed out of %(num)d session.",
            "%(name)s signed out of %(num)d sessions.",
            ended,
            name=name,
        )
    )


@bp.post("/<username>/away")
def away(username: str) -> tuple[str, int]:
    """Mark a user out of office (the assignment rules skip them) or back."""
    on = request.form.get("away") == "1"
    set_away(services().write_engine, actor=current_user.username, username=username, away=on)
    return _page(_("%(name)s is away.", name=username) if on else _("%(name)s is back.", name=username))
