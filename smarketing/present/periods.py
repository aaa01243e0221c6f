"""Months, ISO weeks and moments named in a query (``?month=``, ``?week=``,
``?at=``, ``--at``): parsed and range-checked in one place for every door.

Whatever passes lies between 1900-01-01 and a year ahead (or the ahead the
caller allows, e.g. the agreement's target horizon), so no page has to do
calendar arithmetic on year 1 or year 9999. Refusals are InvalidInput, which
the web layer answers with a 422 in the user's language.
"""

import re
from datetime import UTC, date, datetime, timedelta, tzinfo

from domain.errors import N_, InvalidInput
from domain.validation import EARLIEST, HORIZON, check_business_range

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def _latest(now: datetime | None, ahead: timedelta) -> date:
    return ((now or datetime.now(UTC)) + ahead).date()


def month_arg(
    text: str, field: str = "month", now: datetime | None = None, ahead: timedelta = HORIZON
) -> str:
    """``2026-10`` if it is a month from 1900-01 to the month ``ahead`` of ``now``."""
    value = (text or "").strip()
    match = _MONTH.match(value)
    if not match or not 1 <= int(match[2]) <= 12:
        raise InvalidInput(field, N_("“%(value)s” is not a month like 2026-10"), value=value[:20])
    first = date(int(match[1]), int(match[2]), 1)
    latest = _latest(now, ahead)
    if first < EARLIEST.date() or first > latest:
        raise InvalidInput(
            field,
            N_("must be a month from %(first)s to %(last)s"),
            first="1900-01",
            last=latest.strftime("%Y-%m"),
        )
    return value


def week_arg(text: str, field: str = "week", now: datetime | None = None) -> str:
    """``2026-W44`` if it is a real ISO week from 1900 to a year ahead of ``now``."""
    value = (text or "").strip()
    match = _WEEK.match(value)
    try:
        monday = date.fromisocalendar(int(match[1]), int(match[2]), 1) if match else None
    except ValueError:
        monday = None
    if monday is None:
        raise InvalidInput(field, N_("“%(value)s” is not a week like 2026-W44"), value=value[:20])
    latest = _latest(now, HORIZON)
    if monday < EARLIEST.date() or monday > latest:
        iso = latest.isocalendar()
        raise InvalidInput(
            field,
            N_("must be a week from %(first)s to %(last)s"),
            first="1900-W01",
            last=f"{iso.year}-W{iso.week:02d}",
        )
    return value


def moment_arg(text: str, tz: tzinfo, field: str = "at", now: datetime | None = None) -> datetime:
    """``2026-10-03T12:00`` in ``tz`` (or with its own offset), in range, as UTC."""
    value = (text or "").strip()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            field, N_("“%(value)s” is not a date and time like 2026-10-03T12:00"), value=value[:40]
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return check_business_range(moment, field, now).astimezone(UTC)
