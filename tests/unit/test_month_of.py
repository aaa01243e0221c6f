"""month_of formats the month itself (faster than strftime): the text must not change."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from projections.engine.schema import month_of


def test_same_text_as_strftime_across_years_and_zone_boundaries() -> None:
    tz = ZoneInfo("Europe/Madrid")
    starts = [datetime(y, 12, 31, 22, 30, tzinfo=UTC) for y in (5, 987, 999, 1000, 2025, 2026, 9998)]
    for start in starts:
        for hours in range(0, 6):
            value = start + timedelta(hours=hours)
            assert month_of(value, tz) == value.astimezone(tz).strftime("%Y-%m")


def test_month_is_taken_in_the_team_time_zone() -> None:
    value = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)
    assert month_of(value, ZoneInfo("Europe/Madrid")) == "2026-02"
    assert month_of(value, ZoneInfo("America/New_York")) == "2026-01"
