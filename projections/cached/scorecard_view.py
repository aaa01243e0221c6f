"""The SLA scorecard as both teams read it: each agreed metric's target for the
month, the actual figure, a status and the previous three months' actuals.

Actuals come from ``scorecard_query.scorecard_actuals`` (definitions there);
the targets are those in force for each month (``targets.targets_for``: set for
the month or carried forward), so revising a target later never re-grades a
month against a value that was not yet agreed. The follow-up window N hours
and the attempts window D days are terms of the agreement too: each month,
including each trend month, is measured with its own terms (24 h and 7 days
when none were agreed).

Which actual a metric is compared with: revenue_goal ← revenue won in the
month; marketing_revenue ← revenue from marketing-sourced leads; mqls_delivered
← MQLs entered; avg_deal_per_opportunity, lead_to_customer, sales_conversion,
attempts_per_mql (within D days) ← the figures of the same name;
follow_up_hours ← the median hours to first contact; follow_up_share ← the
share of MQLs contacted by their deadline: N hours on the agreement's calendar
(``calendar``, the same clock as ``breaches``; every hour counts by default).
attempts_window_days is a term, not a row.

Status rule:
- no target in force → "no_target".
- a month already over: target met → "on_track", otherwise "missed".
- the month in progress (the month of ``today``; a later month counts as in
  progress with nothing elapsed): cumulative figures (revenue, marketing
  revenue, MQLs: counts and money that grow through the month) are compared
  with a pace = target × elapsed share of the month, where the share counts
  ``today`` as elapsed (day 15 of 30 → 0.5). Actual ≥ pace → "on_track",
  ≥ 75 % of pace → "at_risk", else "missed".
- ratios, hours and averages (avg deal, attempts per MQL) do not grow with the
  month, so the pace is the target itself, under the same thresholds in the
  month in progress. Lower-is-better (follow-up hours) is inverted: met when
  actual ≤ target, at risk when actual × 0.75 ≤ target.
- no actual yet (e.g. no MQL, no closed deal): "at_risk" in the month in
  progress, "missed" for a month that is over.
- money metrics (unit "eur": amounts in the agreement's base currency): a
  month whose money cannot be fully converted (a currency without a recorded
  rate, ``domain.money``) is not graded on them: "unconverted", whatever the
  target; money targets are shown in the base currency.

Filters (source, campaign, owner, sourced_by) narrow the actuals, and a filtered
month is graded only against the targets set for that slice (``slice_of``): a
dashboard filtered to one source, or to one owner, reads that source's or owner's
targets (``targets.targets_for``, carried forward like the company's); any other
filter, or a slice without a target for a metric, reads "no_slice_target" ("no
target for this slice") instead of a grade against the whole company's target.
The terms of measurement (N hours, D days) stay the company's.

``breaches``: MQLs of the month not contacted by their deadline — contacted
late, or not contacted and the deadline has passed by ``now``. An MQL still
within its N hours is not a breach yet (``projections.queries.attention``). The
deadline counts N hours on the team calendar of the agreement's terms
(``domain.business_hours``); without ``now`` every deadline counts as passed
(a month that is over).
"""

import calendar
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection

from domain.agreement import (
    ATTEMPTS_WINDOW_DAYS,
    FOLLOW_UP_HOURS,
    MARKETING,
    METRICS,
    SALES,
    SLICE_DIMENSIONS,
    Metric,
    add_months,
    parse_month,
)
from domain.business_hours import ALWAYS, Calendar
from domain.money import Money, MoneyFigure
from projections.cached.scorecard_cache import month_actuals
from projections.models.targets import targets_for
from projections.queries.attention import follow_up_breaches

DEFAULT_FOLLOW_UP_HOURS = Decimal(24)
DEFAULT_ATTEMPTS_WINDOW_DAYS = Decimal(7)
AT_RISK_SHARE = Decimal("0.75")
TREND_MONTHS = 3
NO_SLICE_TARGET = "no_slice_target"
UNTARGETED = ("", "")  # a filter targets cannot be set for (campaign, sourced_by, two at once)

# Which key of ``scorecard_actuals`` measures each scored metric.
ACTUAL_KEY = {
    "revenue_goal": "revenue",
    "marketing_revenue": "marketing_revenue",
    "mqls_delivered": "mqls",
    "avg_deal_per_opportunity": "avg_deal_per_opportunity",
    "lead_to_customer": "lead_to_customer",
    "follow_up_hours": "follow_up_median_hours",
    "follow_up_share": "follow_up_within_target",
    "attempts_per_mql": "attempts_per_mql",
    "sales_conversion": "sales_conversion",
}


def scorecard(
    conn: Connection,
    month: str,
    *,
    today: date,
    now: datetime | None = None,
    calendar: Calendar = ALWAYS,
    **filters: str,
) -> dict[str, Any]:
    parse_month(month)
    targets = targets_for(conn, month)  # the company's: also the terms every slice is measured with
    slice_ = slice_of(filters)
    graded = targets if slice_ is None else _slice_targets(conn, month, slice_)
    trend_months = [add_months(month, -n) for n in range(TREND_MONTHS, 0, -1)]
    # One call for the four months: their cache marks are read in one statement.
    *trend, actuals = month_actuals(
        conn,
        [_request(m, targets_for(conn, m)) for m in trend_months] + [_request(month, targets)],
        calendar=calendar,
        **filters,
    )
    elapsed = elapsed_share(month, today)
    result: dict[str, Any] = {
        "month": month,
        "filters": {k: v for k, v in filters.items() if v},
        # What the statuses grade: this month, of this slice (None: the whole company).
        "slice": slice_,
        "terms": _terms(targets),
        "trend_months": trend_months,
        MARKETING: [],
        SALES: [],
    }
    for metric in METRICS.values():
        if not metric.scored:
            continue
        actual = actuals[ACTUAL_KEY[metric.name]]
        target = graded.get(metric.name)
        if isinstance(actual, MoneyFigure):  # graded in the base currency, or not at all
            convertible = actual.convertible or target is None
            grade = status(metric, target, actual.value, elapsed) if convertible else "unconverted"
            shown_target: Any = None if target is None else Money(target, actual.base)
        else:
            grade, shown_target = status(metric, target, actual, elapsed), target
        result[metric.side].append(
            {
                "metric": metric.name,
                "target": shown_target,
                "actual": actual,
                "status": NO_SLICE_TARGET if slice_ is not None and grade == "no_target" else grade,
                "trend": [t[ACTUAL_KEY[metric.name]] for t in trend],
                "unit": metric.unit,
            }
        )
    hours = float(result["terms"][FOLLOW_UP_HOURS])
    result["breaches"] = follow_up_breaches(
        conn, month, follow_up_hours=hours, now=now, calendar=calendar, **filters
    )
    return result


def slice_of(filters: dict[str, str]) -> tuple[str, str] | None:
    """The slice a filtered month is graded as: None unfiltered (the whole company);
    ("source", v) or ("owner", v) when that is the only filter; ("", "") for any other
    filter or combination, a slice no target can be set for."""
    chosen = [(k, v) for k, v in filters.items() if v]
    if not chosen:
        return None
    if len(chosen) == 1 and chosen[0][0] in SLICE_DIMENSIONS:
        return chosen[0]
    return UNTARGETED


def _slice_targets(conn: Connection, month: str, slice_: tuple[str, str]) -> dict[str, Decimal]:
    return {} if slice_ == UNTARGETED else targets_for(conn, month, slice_)


def month_terms(conn: Connection, month: str) -> dict[str, Decimal]:
    """The terms ``month`` is measured with (N hours, D days), as ``scorecard`` uses them."""
    return _terms(targets_for(conn, month))


def _terms(targets: dict[str, Decimal]) -> dict[str, Decimal]:
    return {
        FOLLOW_UP_HOURS: targets.get(FOLLOW_UP_HOURS, DEFAULT_FOLLOW_UP_HOURS),
        ATTEMPTS_WINDOW_DAYS: targets.get(ATTEMPTS_WINDOW_DAYS, DEFAULT_ATTEMPTS_WINDOW_DAYS),
    }


def _request(month: str, targets: dict[str, Decimal]) -> tuple[str, float, float]:
    """(month, N hours, D days): each month is measured with its own terms."""
    terms = _terms(targets)
    return month, float(terms[FOLLOW_UP_HOURS]), float(terms[ATTEMPTS_WINDOW_DAYS])


def elapsed_share(month: str, today: date) -> Decimal | None:
    """Share of ``month`` gone by on ``today`` (today included); None once it is over."""
    year, number = parse_month(month)
    current = (today.year, today.month)
    if (year, number) < current:
        return None
    if (year, number) > current:
        return Decimal(0)
    return Decimal(today.day) / Decimal(calendar.monthrange(year, number)[1])


def status(metric: Metric, target: Decimal | None, actual: Any, elapsed: Decimal | None) -> str:
    """``elapsed`` None means the month is over (see the module docstring)."""
    if target is None:
        return "no_target"
    if actual is None:
        return "missed" if elapsed is None else "at_risk"
    value = Decimal(str(actual))
    pace = target * elapsed if metric.cumulative and elapsed is not None else target
    if metric.higher_is_better:
        met, close = value >= pace, value >= pace * AT_RISK_SHARE
    else:
        met, close = value <= pace, value * AT_RISK_SHARE <= pace
    if met:
        return "on_track"
    if elapsed is None or not close:
        return "missed"
    return "at_risk"
