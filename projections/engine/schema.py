"""Shared SQL plumbing for the read models: one MetaData, the tracking table,
and the time conventions every table follows.

Times are stored as naive UTC (SQLite keeps no zone; PostgreSQL would), and
months are bucketed in the team's time zone, fixed when a projection is built.
"""

from datetime import UTC, datetime
from typing import overload
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, Column, MetaData, String, Table

metadata = MetaData()

tracking = Table(
    "projection_tracking",
    metadata,
    Column("projection", String(100), primary_key=True),
    Column("position", BigInteger, nullable=False),
)


# A time in is a time out, None stays None: callers with a known time get a datetime back.
@overload
def to_db(value: datetime) -> datetime: ...
@overload
def to_db(value: None) -> None: ...
@overload
def to_db(value: datetime | None) -> datetime | None: ...
def to_db(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is UTC:  # decoded event times are: skip a conversion per call (~1M per rebuild)
        return value.replace(tzinfo=None)
    return value.astimezone(UTC).replace(tzinfo=None)


@overload
def from_db(value: datetime) -> datetime: ...
@overload
def from_db(value: None) -> None: ...
@overload
def from_db(value: datetime | None) -> datetime | None: ...
def from_db(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def month_of(value: datetime, tz: ZoneInfo) -> str:
    local = value.astimezone(tz)
    # The same text as strftime("%Y-%m") at half the cost (called for most facts of a
    # rebuild); strftime keeps the years it writes unpadded (before 1000, on glibc).
    if local.year >= 1000:
        return f"{local.year}-{local.month:02d}"
    return local.strftime("%Y-%m")
