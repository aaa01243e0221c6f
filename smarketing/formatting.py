"""How a figure reads in the user's locale, by its unit: one function for the
dashboard, the exports and the PDF, so the same number always looks the same."""

from decimal import Decimal
from typing import Any

from flask_babel import format_currency, format_decimal, format_percent


def measure(value: Any, unit: str) -> str:
    if value is None or value == "":
        return "—"
    if unit == "eur":
        return format_currency(Decimal(value), "EUR")
    if unit == "ratio":
        return format_percent(Decimal(value), "#,##0.0%")
    if unit == "hours":
        return format_decimal(Decimal(value), "#,##0.0") + " h"
    if unit == "days":
        return format_decimal(Decimal(value), "#,##0.#") + " d"
    if unit == "count":
        number = Decimal(value)
        return format_decimal(number, "#,##0" if number == number.to_integral() else "#,##0.0")
    return str(value)


# The scorecard's figures (projections.scorecard_query) by unit, for a page listing them all.
FIGURE_UNITS = {
    "leads": "count",
    "mqls": "count",
    "sqls": "count",
    "opportunities": "count",
    "won": "count",
    "lost": "count",
    "rejected": "count",
    "mqls_never_contacted": "count",
    "attempts_per_mql": "count",
    "revenue": "eur",
    "marketing_revenue": "eur",
    "avg_deal_per_opportunity": "eur",
    "lead_to_customer": "ratio",
    "sales_conversion": "ratio",
    "follow_up_within_target": "ratio",
    "follow_up_median_hours": "hours",
    "follow_up_p95_hours": "hours",
}


def figure(key: str, value: Any) -> str:
    """A scorecard figure as the dashboard shows it (unknown keys as stored)."""
    return measure(value, FIGURE_UNITS.get(key, ""))
