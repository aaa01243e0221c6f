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
