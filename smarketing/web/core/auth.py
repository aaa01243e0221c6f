"""Logging in and out (Flask-Login), and the acting user for every event.

The signed cookie holds a random session id, looked up server-side on every request
(smarketing/service/sessions.py): signing out, a new password, deactivation and an admin's
"sign out everywhere" end it at once, and so do the idle timeout and the absolute
lifetime. Roles are read from the database on every request, so a role change
applies at once.
"""

from contextvars import Token

from flask import Blueprint, Flask, current_app, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user

from domain.actor import current_actor
from smarketing.extensions import services
from smarketing.service import sessions
from smarketing.service import users as user_store
from smarketing.web.core.access import landing_endpoint
from smarketing.web.core.security import login_rate_limit
from smarketing.web.input.redirects import safe_next

bp = Blueprint("auth", __name__)


class LoginUser(UserMixin):
    """Flask-Login's view of a stored user."""

    def __init__(self, user: user_store.User, session_id: str) -> None:
        self.user = user
        self.session_id = session_id
        self.username = user.username
        self.display_name = user.display_name
        self.role = user.role

    def get_id(self) -> str:
        return self.session_id


def session_limits(app: Flask | None = None) -> sessions.Limits:
    """SMARKETING_SESSION_IDLE_HOURS (default 8) and SMARKETING_SESSION_MAX_HOURS (default 24)."""
    config = (app or current_app).config
    return sessions.Limits.from_hours(float(config["SESSION_IDLE_HOURS"]), float(config["SESSION_MAX_HOURS"]))


def _load_user(session_id: str) -> LoginUser | None:
    svc = services()
    username = sessions.owner(svc.read_engine, svc.write_engine, session_id, session_limits())
    user = user_store.get_user(svc.read_engine, username) if username else None
    if user is None or not user.active:
        return None
    return LoginUser(user, session_id)


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    username = request.form.get("username", "").strip()[:100]
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_url or url_for(landing_endpoint(current_user.role)), code=303)
        return render_template("login.html", username="", next_url=next_url, error="")
    login_rate_limit(username)
    user = user_store.authenticate(services().read_engine, username, request.form.get("password", ""))
    if user is None:
        error = _("Unknown user name or wrong password.")
        return render_template("login.html", username=username, next_url=next_url, error=error), 401
    # A fresh session at login: nothing from before (e.g. a planted value) survives.
    if current_user.is_authenticated:
        sessions.end(services().write_engine, current_user.session_id)
    session.clear()
    login_user(LoginUser(user, sessions.start(services().write_engine, user.username, session_limits())))
    return redirect(next_url or url_for(landing_endpoint(user.role)), code=303)


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    if current_user.is_authenticated:
        sessions.end(services().write_engine, current_user.session_id)
    logout_user()
    session.clear()
    return redirect(url_for("auth.login"), code=303)


def _set_actor() -> None:
    """Every event recorded during this request names the logged-in user."""
    if current_user.is_authenticated:
        g.session_actor_token = current_actor.set(current_user.username)


def _reset_actor(_error: BaseException | None = None) -> None:
    """Undo every actor set during the request, newest first (ContextVar resets are
    LIFO): ``actor_token`` is set later by blueprint hooks such as the API's."""
    for name in ("actor_token", "session_actor_token"):
        token: Token[str] | None = g.pop(name, None)
        if token is not None:
            current_actor.reset(token)


def init_app(app: Flask) -> None:
    app.config.setdefault("SESSION_IDLE_HOURS", 8)
    app.config.setdefault("SESSION_MAX_HOURS", 24)
    session_limits(app)  # a bad SMARKETING_SESSION_*_HOURS stops the start, not a request
    manager = LoginManager()
    manager.session_protection = "strong"  # a copied cookie used from another browser is dropped
    manager.user_loader(_load_user)
    manager.init_app(app)
    app.before_request(_set_actor)
    app.teardown_request(_reset_actor)
    app.register_blueprint(bp)
