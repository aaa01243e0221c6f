"""Parsing of form input into plain values for the service layer."""

from datetime import datetime
from zoneinfo import ZoneInfo

from domain.errors import InvalidInput


def text(form: dict, name: str) -> str:
    return (form.get(name) or "").strip()


def optional_int(form: dict, name: str) -> int | None:
    raw = text(form, name)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise InvalidInput(name, "must be a whole number") from None


def business_time(form: dict, tz: ZoneInfo, name: str = "occurred_at") -> datetime | None:
    """A ``datetime-local`` field, read in the team's time zone; empty means now."""
    raw = text(form, name)
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=tz)
    except ValueError:
        raise InvalidInput(name, "must be a date and time such as 2026-10-03T14:30") from None
