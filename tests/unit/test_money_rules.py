"""The money rules (domain.money): known and unknown amounts, averages over the
known ones, rates in force for a month, never adding two currencies."""

from decimal import Decimal

import pytest

from domain.errors import InvalidInput
from domain.money import (
    Known,
    Money,
    MoneyTerms,
    clean_rate,
    clean_valid_from,
    money_figures,
    terms_for_month,
)

EUR = MoneyTerms()


def test_average_is_over_the_wins_with_a_known_amount() -> None:
    revenue, average = money_figures({"EUR": Known(300_000, 2)}, 5, EUR)
    assert (revenue.value, average.value) == (Decimal("3000.00"), Decimal("1500.00"))
    assert (revenue.known, revenue.wins, revenue.unknown) == (2, 5, 3)


def test_no_known_amount_is_unknown_not_zero() -> None:
    revenue, average = money_figures({}, 4, EUR)
    assert (revenue.value, revenue.parts, average.value, average.parts) == (None, (), None, ())
    nothing, none = money_figures({}, 0, EUR)  # no win at all: revenue is a true 0
    assert (nothing.value, none.value) == (Decimal("0.00"), None)


def test_currencies_without_a_rate_are_listed_apart_never_added() -> None:
    revenue, average = money_figures({"EUR": Known(100_00, 1), "BRL": Known(500_00, 2)}, 3, EUR)
    assert revenue.parts == (Money(Decimal("500.00"), "BRL"), Money(Decimal("100.00"), "EUR"))
    assert average.parts == (Money(Decimal("250.00"), "BRL"), Money(Decimal("100.00"), "EUR"))
    assert (revenue.value, revenue.convertible, revenue.unconverted) == (None, False, ("BRL",))


def test_converted_at_the_rate_in_force() -> None:
    terms = MoneyTerms("EUR", (("BRL", Decimal("0.2")),))
    revenue, average = money_figures({"EUR": Known(100_00, 1), "BRL": Known(500_00, 2)}, 3, terms)
    assert revenue.parts == (Money(Decimal("200.00"), "EUR"),) and revenue.converted == ("BRL",)
    assert average.value == Decimal("66.67")


def test_the_rate_for_a_month_is_the_latest_valid_by_its_last_day() -> None:
    rates = [
        ("BRL", "EUR", Decimal("0.2"), "2018-01-01"),
        ("BRL", "EUR", Decimal("0.18"), "2018-09-01"),
        ("BRL", "USD", Decimal("0.25"), "2018-01-01"),  # against another base: ignored
        ("BRL", "EUR", Decimal("0.19"), "2018-01-01"),  # the same date recorded again: replaces
    ]
    assert terms_for_month("EUR", rates, "2018-08-31").rate("BRL") == Decimal("0.19")
    assert terms_for_month("EUR", rates, "2018-09-30").rate("BRL") == Decimal("0.18")
    assert terms_for_month("EUR", rates, "2017-12-31").rate("BRL") is None
    assert terms_for_month("EUR", rates, "2017-12-31").rate("EUR") == 1


@pytest.mark.parametrize("rate", ["0", "-1", "abc", "1.1234567", "NaN", "2000000", None, True])
def test_bad_rates_are_refused(rate: object) -> None:
    with pytest.raises(InvalidInput):
        clean_rate(rate)


@pytest.mark.parametrize("day", ["", "2018-13-01", "1899-12-31", "2028-01-01", "01/02/2018"])
def test_bad_valid_from_dates_are_refused(day: str) -> None:
    with pytest.raises(InvalidInput):
        clean_valid_from(day, "2026-12-07")
