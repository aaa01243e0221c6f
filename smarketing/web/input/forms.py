"""Parsing of form input into plain values for the service layer.

Numbers are read as the user writes them, in the request's locale (Babel's
strict parsing): in Spanish ``12.000`` is twelve thousand and ``18.500,00`` has
two decimals; in English ``12,000.50``. Text that is ambiguous or malformed in
that locale is refused with an example written the local way, never guessed.
The domain receives Decimals and ints and still checks their ranges.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.numbers import NumberFormatError, format_decimal, parse_decimal
from flask_babel import get_locale

from domain.errors import N_, InvalidInput

_EXAMPLE = Decimal("12000.5")


def text(form: dict, name: str) -> str:
    return (form.get(name) or "").strip()


def _locale() -> str:
    return str(get_locale() or "es")


def parse_number(raw: str, field: str) -> Decimal:
    """``raw`` as the user's locale writes numbers; InvalidInput if it is not one there."""
    value = raw.strip().replace("\u00a0", " ").replace("\u202f", " ")
    locale = _locale()
    refused = InvalidInput(
        field,
        N_("“%(value)s” is not a number as written here; write it like %(example)s"),
        value=value[:40],
        example=format_decimal(_EXAMPLE, "#,##0.00", locale=locale),
    )
    # Babel also reads exponents, NaN and Infinity: none of them is a figure a person types.
    if not value or any(c.isalpha() for c in value):
        raise refused
    try:
        number = parse_decimal(value, locale, strict=True)
    except NumberFormatError:
        raise refused from None
    if not number.is_finite():
        raise refused
    return number


def number(form: dict, name: str) -> Decimal | None:
    """An amount, percentage or measure typed in a form; empty means not given."""
    raw = text(form, name)
    return parse_number(raw, name) if raw else None


def whole_number(form: dict, name: str) -> int | None:
    """A count typed in a form (``1.500`` in Spanish is 1500); empty means not given."""
    value = number(form, name)
    if value is None:
        return None
    if value != value.to_integral_value():
        raise InvalidInput(name, N_("must be a whole number"))
    return int(value)


def shown_number(value: Any) -> str:
    """A stored number as an input shows it again, in the locale, every decimal kept,
    so that submitting the form unchanged reads back the same value."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value  # what the user typed, shown back as typed
    return format_decimal(Decimal(str(value)), locale=_locale(), decimal_quantization=False)


def optional_int(form: dict, name: str) -> int | None:
    raw = text(form, name)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(name, N_("must be a whole number")) from None


def business_time(form: dict, tz: ZoneInfo, name: str = "occurred_at") -> datetime | None:
    """A ``datetime-local`` field, read in the team's time zone; empty means now."""
    raw = text(form, name)
    if not raw:
        return None
    try:
        # Its range (1900 to now) is the domain's rule, checked in every command.
        return datetime.fromisoformat(raw).replace(tzinfo=tz)
    except ValueError:
        raise InvalidInput(name, N_("must be a date and time such as 2026-10-03T14:30")) from None
