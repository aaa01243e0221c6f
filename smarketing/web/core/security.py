"""Browser-facing protections, configured once: session cookies, CSRF, security
headers and the login rate limit. See docs/SECURITY.md for the threat model."""

from flask import Flask, Response, current_app, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import TooManyRequests

from smarketing.extensions import services
from smarketing.present.labels import label
from smarketing.service import login_limit
from smarketing.web.core.errors import render_error
from smarketing.web.input.form_text import invalid_field

# htmx 2 runs under this policy: its script is a file from 'self', and its
# indicator styles are switched off in base.html (includeIndicatorStyles:false).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

LIMIT_KEY = "smarketing.login_limit"


def configure_cookies(app: Flask) -> None:
    """Secure cookies by default; ``SMARKETING_INSECURE_COOKIES=1`` for plain-http
    development (``make run`` sets it), and debug/testing never need HTTPS."""
    insecure = bool(app.config.get("INSECURE_COOKIES")) or app.debug or app.testing
    # Assigned, not defaulted: Flask pre-fills these keys with its weaker defaults.
    app.config["SESSION_COOKIE_SECURE"] = not insecure
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    # Flask-Login's "remember me" cookie is not offered, but harden it should it appear.
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config["SESSION_COOKIE_SECURE"])
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")


def _headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def login_rate_limit(username: str) -> None:
    """Counts one login attempt for (client address, user name); 429 past the limit.

    Keyed on both, so one attacker cannot lock a colleague out from another address,
    and guessing many names from one address is still throttled per name. Counted in
    the app's database (smarketing/service/login_limit.py): every worker shares the count.
    Behind a proxy, ProxyFix must make ``remote_addr`` the client's.
    """
    key = f"{request.remote_addr or '-'}|{username.strip().lower()}"
    if not login_limit.attempt(services().write_engine, key, current_app.extensions[LIMIT_KEY]):
        raise TooManyRequests()


def _refuse_invalid_text() -> tuple[str, int] | None:
    """Broken text in a form or query is refused before any view stores it (form_text.py).
    The JSON API answers for its own bodies, in JSON."""
    if request.blueprint == "api":
        return None
    field = invalid_field(request)
    if field is None:
        return None
    message = _(
        "The field “%(field)s” holds text that cannot be read (a broken or invisible character). "
        "Type it again and resend the form.",
        field=label("field", field),
    )
    return render_error(message, 400)


def init_app(app: Flask) -> None:
    configure_cookies(app)
    app.before_request(_refuse_invalid_text)
    # A token per session, not per hour: htmx pages stay open all day and send the
    # token set once on <body>; it is still bound to the (signed) session.
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    app.config.setdefault("LOGIN_RATE_LIMIT", "5 per minute")
    app.extensions[LIMIT_KEY] = login_limit.parse_limit(app.config["LOGIN_RATE_LIMIT"])  # bad: fail at start
    CSRFProtect(app)
    app.after_request(_headers)

    @app.errorhandler(CSRFError)
    def csrf_error(_error: CSRFError) -> tuple[str, int]:
        message = _("This form has expired or did not come from this site. Reload the page and try again.")
        return render_error(message, 400)

    @app.errorhandler(TooManyRequests)
    def too_many(_error: TooManyRequests) -> tuple[str, int]:
        return render_error(_("Too many attempts. Wait a minute and try again."), 429)
