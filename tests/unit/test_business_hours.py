"""Follow-up deadlines on the team calendar: fixed dates, hand-checked."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.business_hours import ALWAYS, Calendar, deadline, latest_start

MADRID = ZoneInfo("Europe/Madrid")
OFFICE = Calendar(tz=MADRID, opens=time(9), closes=time(18), nights_count=False, weekends_count=False)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=MADRID)


def test_every_hour_counts_by_default() -> None:
    # Friday 2026-10-30 17:00 Madrid + 24 h = Saturday 17:00, in elapsed time.
    assert deadline(local("2026-10-30T17:00"), 24) == local("2026-10-31T17:00").astimezone(UTC)
    assert deadline(local("2026-10-30T17:00"), 24, ALWAYS).tzinfo == UTC


def test_business_hours_skip_the_weekend_and_the_nights() -> None:
    # 1 h left on Friday, then Monday 09:00 + 3 h.
    assert deadline(local("2026-10-30T17:00"), 4, OFFICE) == local("2026-11-02T12:00").astimezone(UTC)
    # 24 business hours from Friday 17:00: 1 + 9 (Mon) + 9 (Tue) + 5 (Wed) → Wednesday 14:00.
    assert deadline(local("2026-10-30T17:00"), 24, OFFICE) == local("2026-11-04T14:00").astimezone(UTC)


def test_an_mql_arriving_outside_hours_starts_at_the_next_opening() -> None:
    assert deadline(local("2026-10-31T11:00"), 2, OFFICE) == local("2026-11-02T11:00").astimezone(UTC)
    assert deadline(local("2026-11-02T06:30"), 2, OFFICE) == local("2026-11-02T11:00").astimezone(UTC)
    assert deadline(local("2026-11-02T20:00"), 2, OFFICE) == local("2026-11-03T11:00").astimezone(UTC)


def test_weekends_counted_but_not_nights() -> None:
    calendar = Calendar(tz=MADRID, nights_count=False, weekends_count=True)
    # Friday 17:00 + 4: 1 h Friday, then Saturday 09:00 + 3.
    assert deadline(local("2026-10-30T17:00"), 4, calendar) == local("2026-10-31T12:00").astimezone(UTC)


def test_nights_counted_but_not_weekends() -> None:
    calendar = Calendar(tz=MADRID, nights_count=True, weekends_count=False)
    # Friday 17:00 + 10: 7 h to Friday midnight, then Monday 00:00 + 3.
    assert deadline(local("2026-10-30T17:00"), 10, calendar) == local("2026-11-02T03:00").astimezone(UTC)


def test_the_daylight_saving_night_does_not_shorten_a_working_day() -> None:
    # Clocks go back on Sunday 2026-10-25 in Madrid; Monday is a normal 9-hour day.
    assert deadline(local("2026-10-23T17:00"), 2, OFFICE) == local("2026-10-26T10:00").astimezone(UTC)


@pytest.mark.parametrize(
    "start", ["2026-10-30T17:00", "2026-10-31T11:00", "2026-11-02T09:00", "2026-11-03T13:15"]
)
@pytest.mark.parametrize("hours", [1, 4, 24, 0.5])
def test_latest_start_is_the_inverse_of_deadline(start: str, hours: float) -> None:
    due = deadline(local(start), hours, OFFICE)
    cut = latest_start(due, hours, OFFICE)
    assert deadline(cut, hours, OFFICE) == due
    # A minute after the deadline the lead is overdue; a minute before, not yet.
    assert local(start) < latest_start(due + timedelta(minutes=1), hours, OFFICE)
    assert local(start) >= latest_start(due - timedelta(minutes=1), hours, OFFICE)


def test_latest_start_across_a_weekend() -> None:
    # Overdue on Monday 09:30 with 1 business hour: started before Friday 17:30.
    assert latest_start(local("2026-11-02T09:30"), 1, OFFICE) == local("2026-10-30T17:30").astimezone(UTC)
    # On Saturday, Friday's 17:00 MQL (due at 18:00 closing) is overdue; one at 17:01 is not.
    saturday = latest_start(local("2026-10-31T11:00"), 1, OFFICE)
    assert local("2026-10-30T17:00") < saturday <= local("2026-10-30T17:01")
    assert latest_start(local("2026-11-02T09:30"), 1) == local("2026-11-02T08:30").astimezone(UTC)


def test_a_calendar_without_counted_days_is_refused() -> None:
    never = Calendar(tz=MADRID, workdays=frozenset(), nights_count=False, weekends_count=False)
    with pytest.raises(ValueError):
        deadline(local("2026-11-02T09:30"), 1, never)
