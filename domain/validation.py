"""Input checks done in commands, before any event exists.

Whatever passes here can be stored by every backend: no lone surrogates or NUL
characters (PostgreSQL refuses both), bounded lengths, well-formed e-mails.
"""

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from enum import Enum
from functools import cache

from domain.errors import N_, InvalidInput

NAME_MAX = 200
EMAIL_MAX = 254
SHORT_MAX = 100
TEXT_MAX = 2000
MAX_AMOUNT = Decimal("1000000000")  # one billion per deal is already implausible
CLOCK_SKEW = timedelta(minutes=5)
# Business times a person or a file can mean: nothing before 1900 (a typo such as
# year 0001 would also overflow time-zone arithmetic), nothing more than a year ahead.
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
HORIZON = timedelta(days=366)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def clean_text(value: object, field: str, *, max_len: int, required: bool = False) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise InvalidInput(field, N_("is required"))
    if len(text) > max_len:
        raise InvalidInput(
            field, N_("must be at most %(max)s characters (got %(got)s)"), max=max_len, got=len(text)
        )
    if "\x00" in text:
        raise InvalidInput(field, N_("contains a NUL character"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(field, N_("contains characters that are not valid text")) from None
    return text


def clean_email(value: object, *, required: bool = True) -> str:
    email = clean_text(value, "email", max_len=EMAIL_MAX, required=required).lower()
    if email and not _EMAIL.match(email):
        raise InvalidInput("email", N_("%(email)s is not a valid e-mail address"), email=repr(email))
    return email


def clean_choice(value: object, field: str, choices: type[Enum]) -> str:
    # The common case first: an exact member value needs none of clean_text's checks.
    if type(value) is str and value in _values(choices):
        return value
    text = clean_text(value, field, max_len=SHORT_MAX, required=True)
    allowed = [c.value for c in choices]
    if text not in allowed:
        raise InvalidInput(field, N_("must be one of %(choices)s"), choices=", ".join(allowed))
    return text


@cache
def _values(choices: type[Enum]) -> frozenset[str]:
    # Enums are fixed at import time, so their values are read once per class.
    return frozenset(c.value for c in choices)


def clean_amount(value: object) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput("amount", N_("%(value)s is not a number"), value=repr(value)[:40]) from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidInput("amount", N_("must be a positive amount"))
    if amount > MAX_AMOUNT:
        raise InvalidInput("amount", N_("must not exceed %(max)s"), max=str(MAX_AMOUNT))
    if amount != amount.quantize(Decimal("0.01")):
        raise InvalidInput("amount", N_("must have at most two decimals"))
    return amount.quantize(Decimal("0.01"))


def clean_currency(value: object) -> str:
    currency = clean_text(value, "currency", max_len=3, required=True).upper()
    if not _CURRENCY.match(currency):
        raise InvalidInput("currency", N_("must be a three-letter ISO code such as EUR"))
    return currency


def utc_now() -> datetime:
    """The aggregates' clock: what "now" is when a command gives no business time."""
    return datetime.now(UTC)


def clean_occurred_at(value: datetime | None, now: datetime) -> datetime:
    """Business time: defaults to now; may be in the past (imports), never the future."""
    if value is None:
        return now
    if not isinstance(value, datetime):
        raise InvalidInput("occurred_at", N_("must be a date and time"))
    if value.tzinfo is None:
        raise InvalidInput("occurred_at", N_("must include a time zone"))
    # Compared before converting: a year-1 or year-9999 time may not survive astimezone.
    if value > now + CLOCK_SKEW:
        raise InvalidInput("occurred_at", N_("cannot be in the future"))
    return check_business_range(value, "occurred_at", now).astimezone(UTC)


def check_business_range(value: datetime, field: str, now: datetime | None = None) -> datetime:
    """``value`` (aware) if it lies between 1900-01-01 and a year after ``now``."""
    if value.tzinfo is None:
        raise InvalidInput(field, N_("must include a time zone"))
    if value < EARLIEST:
        raise InvalidInput(field, N_("must not be before %(earliest)s"), earliest="1900-01-01")
    if value > (now or datetime.now(UTC)) + HORIZON:
        raise InvalidInput(field, N_("must not be more than a year ahead"))
    return value
