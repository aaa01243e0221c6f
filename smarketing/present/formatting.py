"""How a figure reads in the user's locale, by its unit: one function for the
dashboard, the exports and the PDF, so the same number always looks the same."""

import re
from decimal import Decimal
from typing import Any

from babel import Locale
from babel.numbers import get_currency_symbol
from flask_babel import format_currency, format_decimal, format_percent, get_locale, get_translations
from flask_babel import gettext as _

from domain.agreement import METRICS
from domain.money import Money, MoneyFigure
from projections.cached.scorecard_view import ACTUAL_KEY


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """flask-babel's ngettext, with the count in the reader's notation ("7.158 MQLs",
    not "7158 MQLs"): the catalog's ``%(num)d`` stays, its number is formatted here.
    The templates' ``ngettext`` is this one too (``smarketing.web.core.i18n``)."""
    return plural_text(singular, plural, num) % variables


def plural_text(singular: str, plural: str, num: int) -> str:
    """The translated form for ``num`` with ``%(num)d`` already written as a count."""
    text = get_translations().ungettext(singular, plural, num)
    return text.replace("%(num)d", format_decimal(num, "#,##0"))


def money(amount: Any, currency: str) -> str:
    """An amount with its own currency's symbol (R$ for BRL, also in Spanish, whose
    locale data only has the code): the locale's symbol, else the English one."""
    text = format_currency(Decimal(amount), currency)
    if get_currency_symbol(currency, get_locale() or "en") == currency:
        symbol = get_currency_symbol(currency, "en")
        if symbol != currency:
            text = text.replace(currency, symbol)
    return text


def stored_money(amount: Any, currency: str) -> str:
    """A won amount as an event stored it: None (or the 0 of a v1 event read without
    upcasting, e.g. an old timeline row) is unknown."""
    if amount is None or amount == "" or Decimal(str(amount)) == 0:
        return _("amount unknown")
    return money(Decimal(str(amount)), currency or "EUR")


def money_amounts(figure: MoneyFigure) -> str:
    """Just the amounts of a money figure (one per currency when not converted)."""
    return " · ".join(money(p.amount, p.currency) for p in figure.parts) or "—"


def money_notes(figure: MoneyFigure) -> str:
    """What the amounts alone do not say: no rate, converted, wins without an amount."""
    notes = []
    if figure.unconverted:
        notes.append(
            _("no exchange rate to %(base)s", base=figure.base) + ": " + ", ".join(figure.unconverted)
        )
    if figure.converted and figure.parts:
        notes.append(
            _("converted at the recorded rates: %(currencies)s", currencies=", ".join(figure.converted))
        )
    if figure.unknown:
        without = ngettext("%(num)d without amount", "%(num)d without amount", figure.unknown)
        if figure.known:
            without = (
                _("%(known)d of %(wins)d with an amount", known=figure.known, wins=figure.wins)
                + ", "
                + without
            )
        notes.append(without)
    return " · ".join(notes)


def money_split(value: Any) -> tuple[str, str]:
    """(amounts, notes) of a money value, for layouts that set the notes apart."""
    if isinstance(value, MoneyFigure):
        return money_amounts(value), money_notes(value)
    return measure(value, "eur"), ""


def money_figure(figure: MoneyFigure) -> str:
    """A revenue or average: the amount (or one per currency with no rate, each noted),
    whether it was converted, and how many wins had no known amount."""
    parts = [
        money(p.amount, p.currency)
        + (
            " (" + _("no exchange rate to %(base)s", base=figure.base) + ")"
            if p.currency in figure.unconverted
            else ""
        )
        for p in figure.parts
    ]
    text = " · ".join(parts) or "—"
    if figure.converted and figure.parts:
        text += (
            " ("
            + _("converted at the recorded rates: %(currencies)s", currencies=", ".join(figure.converted))
            + ")"
        )
    if figure.unknown:
        without = ngettext("%(num)d without amount", "%(num)d without amount", figure.unknown)
        if figure.known:
            text += " · " + _("%(known)d of %(wins)d with an amount", known=figure.known, wins=figure.wins)
            text += ", " + without
        else:
            text += " · " + without
    return text


def comparable(value: Any) -> Any:
    """A figure as a number to compare with another month's (a money figure by its value
    in the base currency: None when not convertible)."""
    return value.value if isinstance(value, MoneyFigure) else value


def percent_pattern(places: int = 1) -> str:
    """The reader's locale percent pattern with ``places`` decimals ("#,##0.0 %" in Spanish),
    so pages and the PDF write a percentage alike."""
    pattern = (get_locale() or Locale.parse("en")).percent_formats[None].pattern
    # The integer part's last 0 is where decimals attach: "#,##0 %" -> "#,##0.0 %".
    return re.sub(r"0(?![0#,])", "0." + "0" * places, pattern, count=1) if places else pattern


def measure(value: Any, unit: str) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, MoneyFigure):
        return money_figure(value)
    if isinstance(value, Money):
        return money(value.amount, value.currency)
    if unit == "eur":  # a bare amount: in the default base currency
        return format_currency(Decimal(value), "EUR")
    if unit == "ratio":
        return format_percent(Decimal(value), percent_pattern())
    if unit == "hours":
        return format_decimal(Decimal(value), "#,##0.0") + " h"
    if unit == "days":
        return format_decimal(Decimal(value), "#,##0.#") + " d"
    if unit == "count":
        number = Decimal(value)
        return format_decimal(number, "#,##0" if number == number.to_integral() else "#,##0.0")
    return str(value)


# The scorecard's figures (projections.queries.scorecard_query) by unit, for a page listing them
# all: a scored metric's figure in its metric's unit, the rest counts but one.
FIGURE_UNITS = {ACTUAL_KEY[name]: metric.unit for name, metric in METRICS.items() if name in ACTUAL_KEY}
FIGURE_UNITS["follow_up_p95_hours"] = "hours"


def figure(key: str, value: Any) -> str:
    """A scorecard figure as the dashboard shows it: a number of no known unit is a count."""
    counted = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    if isinstance(value, MoneyFigure | Money):
        return measure(value, "eur")
    return measure(value, FIGURE_UNITS.get(key, "count" if counted else ""))


def target_value(value: Any, metric: str) -> str:
    """A target as the agreement pages show it, in its metric's unit (an unknown metric: as is)."""
    found = METRICS.get(metric)
    return measure(value, found.unit if found else "")
