"""What an import tells a person, kept as data until someone reads it.

A reason for a rejected row or a warning is a catalog template (marked with ``N_``) and
its parameters (text, numbers, times, a tuple of alternatives, or another message),
carried through the plan and the run as a ``Message``; it is put into words only where
it is read (the import page, the rejects and warnings CSV, the terminal), in that
reader's language, with numbers and times in the reader's notation.
``str(message)`` is the English text, for logs and tests.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_datetime
from babel.lists import format_list
from babel.numbers import format_decimal
from flask_babel import get_locale
from flask_babel import gettext as _

from domain.errors import DomainError

ENGLISH_TIME = "%Y-%m-%d %H:%M"


@dataclass
class Message:
    template: str
    params: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of_error(cls, error: DomainError) -> "Message":
        """A domain rule's refusal (its template is in the catalog too)."""
        return cls(error.template, dict(error.params))

    def __str__(self) -> str:
        if not self.params:
            return self.template
        return self.template % {name: _plain(value) for name, value in self.params.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):  # alternatives: "a, b, or c"
        return format_list(list(value), "or", "en")
    if isinstance(value, datetime):
        return value.strftime(ENGLISH_TIME)
    if isinstance(value, Message):
        return str(value)
    return value


def say(message: Message) -> str:
    """The message in the current reader's language (Flask-Babel's locale: the request's,
    or the one a command forces); English outside any app context."""
    locale = str(get_locale() or "en")
    params = {name: _shown(value, locale) for name, value in message.params.items()}
    return _(message.template, **params)


def _shown(value: Any, locale: str) -> Any:
    if isinstance(value, tuple):
        return format_list(list(value), "or", locale)
    if isinstance(value, Message):
        return say(value)
    if isinstance(value, datetime):
        # In the zone the import read it in (the plan's), not the app's.
        return format_datetime(value, "short", tzinfo=value.tzinfo, locale=locale)
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return format_decimal(value, locale=locale)
    return value
