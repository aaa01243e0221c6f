"""When a follow-up is due: N hours after an MQL arrives, counted on the team's
calendar.

The choice (README text): the agreement states the team's time zone, its
working days and opening hours (e.g. Mon–Fri 09:00–18:00), and two switches:
whether nights count (hours outside opening time on a working day) and whether
weekends count (the non-working days). With both on — the default, and what
the SLA meant before these settings existed — N hours are N elapsed hours.
Otherwise only the counted hours run the clock: an MQL arriving Friday 17:00
with 4 business hours is due Monday 12:00, and one arriving Saturday is due
4 hours after Monday's opening. Counted hours are read on the team's wall
clock, so a daylight-saving change at night never shortens a working day.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Calendar:
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    workdays: frozenset[int] = frozenset(range(5))  # Monday is 0
    opens: time = time(9)
    closes: time = time(18)
    nights_count: bool = True
    weekends_count: bool = True

    @property
    def every_hour_counts(self) -> bool:
        return self.nights_count and self.weekends_count


# What an agreement without calendar settings means: every elapsed hour counts.
ALWAYS = Calendar()


def _window(day: date, cal: Calendar) -> tuple[datetime, datetime] | None:
    """The counted stretch of ``day`` in the team's zone, or None when none counts."""
    if day.weekday() not in cal.workdays and not cal.weekends_count:
        return None
    if cal.nights_count:
        return datetime.combine(day, time(0), cal.tz), datetime.combine(day + ONE_DAY, time(0), cal.tz)
    return datetime.combine(day, cal.opens, cal.tz), datetime.combine(day, cal.closes, cal.tz)


def _wall(value: datetime) -> datetime:
    # Same-zone arithmetic in Python is wall-clock arithmetic, which is what we count.
    return value.replace(tzinfo=None)


def deadline(start: datetime, hours: float, calendar: Calendar = ALWAYS) -> datetime:
    """The moment ``hours`` counted hours after ``start`` have run (UTC)."""
    if calendar.every_hour_counts:
        return (start + timedelta(hours=hours)).astimezone(UTC)
    if not calendar.workdays and not calendar.weekends_count:
        raise ValueError("a calendar without working days never reaches a deadline")
    remaining = timedelta(hours=hours)
    moment = start.astimezone(calendar.tz)
    day = moment.date()
    while True:
        window = _window(day, calendar)
        if window is not None and _wall(moment) < _wall(window[1]):
            begin = max(_wall(moment), _wall(window[0]))
            available = _wall(window[1]) - begin
            if remaining <= available:
                return (begin + remaining).replace(tzinfo=calendar.tz).astimezone(UTC)
            remaining -= available
        day += ONE_DAY
        moment = datetime.combine(day, time(0), calendar.tz)


def latest_start(now: datetime, hours: float, calendar: Calendar = ALWAYS) -> datetime:
    """The inverse of ``deadline``: anything that started before this is overdue at ``now``.

    ``deadline`` never decreases as the start moves later, so "deadline < now" is
    "start < latest_start(now)" — a cut-off a SQL filter can use.
    """
    if calendar.every_hour_counts:
        return (now - timedelta(hours=hours)).astimezone(UTC)
    if not calendar.workdays and not calendar.weekends_count:
        raise ValueError("a calendar without working days never reaches a deadline")
    remaining = timedelta(hours=hours)
    moment = _wall(now.astimezone(calendar.tz))
    day = moment.date()
    today = _window(day, calendar)
    # At a moment the clock does not run (night, weekend), a deadline at the last
    # closing has already passed: nudge the cut-off so "start < cut-off" includes it.
    nudge = (
        timedelta(0) if today and _wall(today[0]) < moment <= _wall(today[1]) else timedelta(microseconds=1)
    )
    while True:
        window = _window(day, calendar)
        if window is not None and moment > _wall(window[0]):
            end = min(moment, _wall(window[1]))
            available = end - _wall(window[0])
            if remaining <= available:
                return (end - remaining + nudge).replace(tzinfo=calendar.tz).astimezone(UTC)
            remaining -= available
        day -= ONE_DAY
        moment = datetime.combine(day + ONE_DAY, time(0))
