"""An amount typed in a form, read the way the user's language writes numbers
(``12.000,50`` in Spanish, ``12,000.50`` in English); ambiguous or invalid text
is refused, never guessed."""

from decimal import Decimal

from babel.numbers import NumberFormatError, parse_decimal
from flask_babel import get_locale

from domain.errors import N_, InvalidInput


def parse_amount(text: str, field: str = "amount") -> Decimal:
    text = text.strip()
    if not text:
        raise InvalidInput(field, N_("is required"))
    try:
        return parse_decimal(text, locale=get_locale() or "en", strict=True)
    except NumberFormatError:
        raise InvalidInput(field, N_("%(value)s is not a number"), value=repr(text)[:40]) from None
