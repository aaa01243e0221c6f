"""Spanish and English: the user's choice (cookie), then the browser's."""

from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, Flask, has_request_context, redirect, request, url_for
from flask_babel import (
    Babel,
    format_currency,
    format_date,
    format_datetime,
    format_decimal,
    format_percent,
    format_timedelta,
    get_locale,
    get_translations,
)
from werkzeug.wrappers import Response

from smarketing.present import event_types
from smarketing.present.formatting import (
    comparable,
    figure,
    measure,
    money,
    percent_pattern,
    plural_text,
    stored_money,
    target_value,
)
from smarketing.present.labels import FIELD_VALUES, label, period_name
from smarketing.web.input.forms import shown_number
from smarketing.web.input.redirects import safe_next

LANGUAGES = ("es", "en")
COOKIE = "lang"

bp = Blueprint("i18n", __name__)


def select_locale() -> str | None:
    if not has_request_context():
        return None  # a CLI command: Babel's default (BABEL_DEFAULT_LOCALE)
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(LANGUAGES) or "es"


@bp.post("/language")
def choose_language() -> Response:
    lang = request.form.get("lang", "")
    target = safe_next(request.form.get("next")) or url_for("dashboard.index")
    response = redirect(target, code=303)
    if lang in LANGUAGES:
        response.set_cookie(COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def as_datetime(value: datetime | str) -> datetime:
    """Times arrive as datetimes or, from JSON-ready exports, as ISO 8601 text."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def shown_value(field: str, value: Any) -> str:
    """A lead field's value as the audit pages show it: the vocabulary's keys in words,
    times in the team's zone to the second, lists joined; numbers in the reader's notation
    with every stored decimal; text as stored."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(shown_value(field, item) for item in value)
    if field in FIELD_VALUES:
        return label(FIELD_VALUES[field], value)
    if field.endswith("_at") and isinstance(value, str | datetime):
        return format_datetime(as_datetime(value), "medium")
    if field in STORED_NUMBERS or (isinstance(value, int | float | Decimal) and not isinstance(value, bool)):
        return exact_number(value)
    return str(value)


# Fields holding amounts and rates, stored as text ("18350.00") in the JSON-ready history.
STORED_NUMBERS = frozenset({"amount", "won_amount", "old_amount", "rate"})


def exact_number(value: Any) -> str:
    """A stored number in the reader's notation with every stored decimal ("18.350,00"):
    auditors read the exact value, not a rounded one."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)  # not a number after all: as stored
    places = max(0, -int(number.as_tuple().exponent)) if number.is_finite() else 0
    return format_decimal(number, "#,##0" + ("." + "0" * places if places else ""))


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(app.root_path) + "/translations")
    Babel(
        app,
        locale_selector=select_locale,
        timezone_selector=lambda: app.extensions["smarketing"].settings.timezone,
    )
    app.register_blueprint(bp)
    # Counts in plural messages in the reader's notation, as every other figure.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: get_translations().ugettext(s),
        ngettext=plural_text,
        newstyle=True,
        pgettext=lambda c, s: get_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: get_translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.globals["LANGUAGES"] = LANGUAGES
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["measure"] = measure
    app.jinja_env.globals["target_value"] = target_value
    app.jinja_env.globals["figure"] = figure
    app.jinja_env.globals["comparable"] = comparable
    app.jinja_env.globals["money"] = money
    app.jinja_env.globals["stored_money"] = stored_money
    app.jinja_env.globals["label"] = label
    app.jinja_env.globals.update(
        event_headline=event_types.headline, event_icon=event_types.icon, event_label=event_types.event_label
    )
    app.jinja_env.globals["period_name"] = period_name
    app.jinja_env.globals["shown_value"] = shown_value
    app.jinja_env.globals["shown_number"] = shown_number  # a number put back in an input
    # Locale-aware formatting in templates; times shown in the team's time zone.
    app.jinja_env.filters.update(
        datetimeformat=lambda value, fmt="medium": format_datetime(as_datetime(value), fmt) if value else "—",
        dateformat=lambda value, fmt="medium": format_date(value, fmt) if value else "—",
        currencyformat=lambda value, currency="EUR": format_currency(value, currency or "EUR"),
        percentformat=lambda value: format_percent(value, percent_pattern()),
        decimalformat=lambda value, fmt=None: format_decimal(value, fmt),
        timedeltaformat=lambda value: format_timedelta(value, threshold=1.1),
    )
