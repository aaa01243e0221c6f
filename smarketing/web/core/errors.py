"""How errors travel, decided once: a readable page for full loads, the same
message as a fragment (with the real 4xx status) for htmx requests; htmx is
configured in base.html to swap 4xx responses."""

from decimal import Decimal
from typing import Any

from babel.lists import format_list
from babel.numbers import format_decimal
from flask import Flask, render_template
from flask_babel import get_locale
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
from smarketing.present.labels import label
from smarketing.web.core.hx import is_htmx

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


# Parameters that hold a stored key, shown as the reader's word for it (smarketing.present.labels).
KEYED_PARAMS = {"metric": "metric", "stage": "stage", "role": "role", "section": "document"}


# Fields whose "must be one of ..." lists stored keys (joined with ", " by the domain).
CHOICE_KINDS = {"metric": "metric", "role": "role", "slice_by": "field", "stage": "stage"}
CHOICES = ("choices", "stages")


def shown_params(params: dict[str, Any], field: str = "") -> dict[str, Any]:
    """An error's parameters as the reader writes them: keys in words, numbers by Babel."""
    shown = {}
    for name, value in params.items():
        if name in CHOICES and field in CHOICE_KINDS and isinstance(value, str):
            words = [label(CHOICE_KINDS[field], key) for key in value.split(", ")]
            value = format_list(words, style="or", locale=get_locale())
        elif name in KEYED_PARAMS and isinstance(value, str):
            value = label(KEYED_PARAMS[name], value)
        elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
            value = format_decimal(value, locale=get_locale(), decimal_quantization=False)
        shown[name] = value
    return shown


def message_of(error: Any) -> str:
    """Any error carrying a catalog template and its parameters, in the user's language."""
    return _(error.template, **shown_params(error.params, getattr(error, "field", "")))


def translated(error: DomainError) -> str:
    """The error in the user's language (domain messages are catalog templates)."""
    message = message_of(error)
    if isinstance(error, InvalidInput):
        return _("%(field)s: %(message)s", field=label("field", error.field), message=message)
    return message


def field_message(error: InvalidInput) -> str:
    """Just the message, for showing beside the field it concerns."""
    return message_of(error)


def render_error(message: str, status: int) -> tuple[str, int]:
    # Any htmx request: the refusal replaces whatever the request aimed at.
    template = "partials/error.html" if is_htmx() else "error.html"
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
