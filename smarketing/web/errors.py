"""How errors travel, decided once: a readable page for full loads, the same
message as a fragment (with the real 4xx status) for htmx requests; htmx is
configured in base.html to swap 4xx responses."""

from flask import Flask, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from domain.errors import (
    DomainError,
    DuplicateEmail,
    IllegalTransition,
    InvalidInput,
    LeadNotFound,
    StaleLead,
)
from smarketing.labels import label
from smarketing.web.hx import HX_REQUEST

STATUS = {
    InvalidInput: 422,
    IllegalTransition: 409,
    DuplicateEmail: 409,
    StaleLead: 409,
    LeadNotFound: 404,
}


def status_for(error: DomainError) -> int:
    for kind, status in STATUS.items():
        if isinstance(error, kind):
            return status
    return 400


def translated(error: DomainError) -> str:
    """The error in the user's language (domain messages are catalog templates)."""
    message = _(error.template, **error.params)
    if isinstance(error, InvalidInput):
        return _("%(field)s: %(message)s", field=label("field", error.field), message=message)
    return message


def field_message(error: InvalidInput) -> str:
    """Just the message, for showing beside the field it concerns."""
    return _(error.template, **error.params)


def render_error(message: str, status: int) -> tuple[str, int]:
    template = "partials/error.html" if request.headers.get(HX_REQUEST) else "error.html"
    return render_template(template, message=message, status=status), status


def init_app(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError) -> tuple[str, int]:
        return render_error(translated(error), status_for(error))

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        messages = {
            400: _("The request could not be understood."),
            403: _("You are not allowed to do this."),
            404: _("There is nothing at this address."),
            405: _("This address does not accept that kind of request."),
            413: _("What you sent is too large."),
        }
        return render_error(messages.get(error.code or 400, error.description or ""), error.code or 400)
