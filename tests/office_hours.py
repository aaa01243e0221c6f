"""The office hours several tests agree on: Madrid, Monday to Friday, 09:00–18:00."""

from zoneinfo import ZoneInfo

from domain.agreement_terms import calendar_of
from domain.business_hours import Calendar

MADRID_OFFICE = {
    "timezone": "Europe/Madrid",
    "workdays": [0, 1, 2, 3, 4],
    "opens": "09:00",
    "closes": "18:00",
    "nights_count": False,
    "weekends_count": False,
}

# The terms as the projections read them (``calendar_of`` with UTC as the fallback zone).
MADRID: Calendar = calendar_of(MADRID_OFFICE, ZoneInfo("UTC"))
