"""How a figure reads in the user's locale, by its unit: one function for the
dashboard, the exports and the PDF, so the same number always looks the same."""

from decimal import Decimal
from typing import Any

from flask_babel import format_currency, format_decimal, format_percent

from domain.agreement import METRICS
from projections.scorecard_view import ACTUAL_KEY


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


# The scorecard's figures (projections.scorecard_query) by unit, for a page listing them
# all: a scored metric's figure in its metric's unit, the rest counts but one.
FIGURE_UNITS = {ACTUAL_KEY[name]: metric.unit for name, metric in METRICS.items() if name in ACTUAL_KEY}
FIGURE_UNITS["follow_up_p95_hours"] = "hours"


def figure(key: str, value: Any) -> str:
    """A scorecard figure as the dashboard shows it: a number of no known unit is a count."""
    counted = isinstance(value, int | float | Decimal) and not isinstance(value, bool)
    return measure(value, FIGURE_UNITS.get(key, "count" if counted else ""))
