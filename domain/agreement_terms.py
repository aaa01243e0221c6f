"""Standing terms of the SLA agreement, beside the monthly targets: lead scoring,
the team calendar for follow-up deadlines, and the joint meetings' set-up.

Each section is replaced as a whole by one ``SLAAgreement.TermsSet`` event
(old and new values, who, when, why), so its history is the log. The values
stored are plain JSON (ints, strings, booleans, lists); ``scoring_config`` and
``calendar_of`` turn them into the domain's objects, with defaults for a
section never set.
"""

import re
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.business_hours import Calendar
from domain.errors import N_, InvalidInput
from domain.scoring import DEFAULT_POINTS, MODES, ScoringConfig
from domain.validation import SHORT_MAX, TEXT_MAX, clean_text

SCORING = "scoring"
CALENDAR = "calendar"
MEETINGS = "meetings"
SECTIONS = (SCORING, CALENDAR, MEETINGS)

_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

DEFAULTS: dict[str, dict[str, Any]] = {
    SCORING: {"points": dict(DEFAULT_POINTS), "half_life_days": 30, "threshold": 50, "mode": "flag"},
    CALENDAR: {
        "timezone": "",  # empty: the deployment's zone (settings)
        "workdays": [0, 1, 2, 3, 4],
        "opens": "09:00",
        "closes": "18:00",
        "nights_count": True,
        "weekends_count": True,
    },
    MEETINGS: {
        "weekly_attendees": "Marketing lead, Sales lead, SDR team",
        "weekly_minutes": 30,
        "monthly_attendees": "Marketing director, Sales director, both teams' leads",
        "monthly_minutes": 60,
    },
}


def _int(values: dict[str, Any], name: str, low: int, high: int) -> int:
    raw = values.get(name)
    if raw is None or str(raw).strip() == "":
        raise InvalidInput(name, N_("is required"))
    try:
        number = int(str(raw).strip())
    except (TypeError, ValueError):
        raise InvalidInput(name, N_("“%(raw)s” is not a whole number"), raw=str(raw)[:20]) from None
    if not low <= number <= high:
        raise InvalidInput(name, N_("must be between %(low)s and %(high)s"), low=low, high=high)
    return number


def _clock(values: dict[str, Any], name: str) -> str:
    raw = str(values.get(name) or "").strip()
    if not _CLOCK.match(raw):
        raise InvalidInput(name, N_("must be a time like 09:00"))
    return raw


def clean_terms(section: str, values: dict[str, Any]) -> dict[str, Any]:
    """The section's values as stored, or InvalidInput naming the first bad field."""
    if section == SCORING:
        points = values.get("points") or {}
        return {
            "points": {kind: _int(points, kind, 0, 100) for kind in DEFAULT_POINTS},
            "half_life_days": _int(values, "half_life_days", 1, 365),
            "threshold": _int(values, "threshold", 1, 10_000),
            "mode": _choice(values, "mode", MODES),
        }
    if section == CALENDAR:
        zone = str(values.get("timezone") or "").strip()
        try:
            ZoneInfo(zone) if zone else None
        except (ZoneInfoNotFoundError, ValueError):
            raise InvalidInput("timezone", N_("“%(zone)s” is not a time zone"), zone=zone[:40]) from None
        days = sorted({_int({"workdays": d}, "workdays", 0, 6) for d in values.get("workdays") or []})
        if not days:
            raise InvalidInput("workdays", N_("choose at least one working day"))
        opens, closes = _clock(values, "opens"), _clock(values, "closes")
        if opens >= closes:
            raise InvalidInput("closes", N_("must be later than the opening time"))
        return {
            "timezone": zone,
            "workdays": days,
            "opens": opens,
            "closes": closes,
            "nights_count": bool(values.get("nights_count")),
            "weekends_count": bool(values.get("weekends_count")),
        }
    if section == MEETINGS:
        return {
            "weekly_attendees": clean_text(
                values.get("weekly_attendees"), "weekly_attendees", max_len=TEXT_MAX
            ),
            "weekly_minutes": _int(values, "weekly_minutes", 5, 240),
            "monthly_attendees": clean_text(
                values.get("monthly_attendees"), "monthly_attendees", max_len=TEXT_MAX
            ),
            "monthly_minutes": _int(values, "monthly_minutes", 5, 480),
        }
    raise InvalidInput("section", N_("must be one of %(sections)s"), sections=", ".join(SECTIONS))


def _choice(values: dict[str, Any], name: str, choices: tuple[str, ...]) -> str:
    raw = clean_text(values.get(name), name, max_len=SHORT_MAX)
    if raw not in choices:
        raise InvalidInput(name, N_("must be one of %(choices)s"), choices=", ".join(choices))
    return raw


def section_values(terms: dict[str, dict[str, Any]], section: str) -> dict[str, Any]:
    """A section as in force: what was set, else the defaults."""
    return terms.get(section) or DEFAULTS[section]


def scoring_config(values: dict[str, Any] | None) -> ScoringConfig:
    values = values or DEFAULTS[SCORING]
    return ScoringConfig(
        points=dict(values["points"]),
        half_life_days=float(values["half_life_days"]),
        threshold=float(values["threshold"]),
        mode=values["mode"],
    )


def calendar_of(values: dict[str, Any] | None, default_tz: ZoneInfo) -> Calendar:
    values = values or DEFAULTS[CALENDAR]
    return Calendar(
        tz=ZoneInfo(values["timezone"]) if values["timezone"] else default_tz,
        workdays=frozenset(values["workdays"]),
        opens=time.fromisoformat(values["opens"]),
        closes=time.fromisoformat(values["closes"]),
        nights_count=values["nights_count"],
        weekends_count=values["weekends_count"],
    )
