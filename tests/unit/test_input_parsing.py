"""The helpers every door goes through: numbers in the reader's notation, months,
weeks and moments in range, business times in range, amounts in imported files."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask_babel import Babel
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidInput
from domain.validation import clean_occurred_at
from smarketing.importing.parse import CellError, parse_amount
from smarketing.present.periods import moment_arg, month_arg, week_arg
from smarketing.web.input import forms

NOW = datetime(2026, 10, 14, 10, 0, tzinfo=UTC)
MADRID = ZoneInfo("Europe/Madrid")


@pytest.fixture(scope="module")
def app() -> Flask:
    app = Flask(__name__)
    Babel(app)
    return app


def parsed(app: Flask, lang: str, text: str) -> Decimal:
    with app.test_request_context(headers={"Accept-Language": lang}):
        app.extensions["babel"].locale_selector = lambda: lang
        return forms.parse_number(text, "amount")


@pytest.mark.parametrize(
    ("lang", "text", "number"),
    [
        ("es", "12.000", Decimal("12000")),
        ("es", "18.500,00", Decimal("18500.00")),
        ("es", "180.000", Decimal("180000")),
        ("es", "12,5", Decimal("12.5")),
        ("es", "1.000.000", Decimal("1000000")),
        ("es", "12000", Decimal("12000")),
        ("en", "12,000.50", Decimal("12000.50")),
        ("en", "12.5", Decimal("12.5")),
        ("en", "-5", Decimal("-5")),  # parsed; the domain refuses it with its own message
    ],
)
def test_numbers_in_the_readers_notation(app: Flask, lang: str, text: str, number: Decimal) -> None:
    assert parsed(app, lang, text) == number


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("es", "12,000.50"),
        ("es", "12.5"),
        ("es", "12.00"),
        ("en", "12.000,00"),
        ("en", "12,5"),
        ("es", "1e5"),
        ("en", "NaN"),
        ("en", "Infinity"),
        ("es", ""),
        ("es", "doce"),
    ],
)
def test_ambiguous_or_malformed_numbers_are_refused_with_a_local_example(
    app: Flask, lang: str, text: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        parsed(app, lang, text)
    assert refused.value.field == "amount"
    assert refused.value.params["example"] == ("12.000,50" if lang == "es" else "12,000.50")


@given(st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_a_number_shown_back_in_an_input_reads_back_the_same(number: Decimal) -> None:
    app = Flask(__name__)
    Babel(app)
    for lang in ("es", "en"):
        with app.test_request_context():
            app.extensions["babel"].locale_selector = lambda lang=lang: lang
            assert forms.parse_number(forms.shown_number(number), "value") == number


@pytest.mark.parametrize("text", ["1900-01", "2026-10", "2027-10"])
def test_months_in_range(text: str) -> None:
    assert month_arg(text, now=NOW) == text


@pytest.mark.parametrize("text", ["0001-01", "1899-12", "2027-11", "9999-12", "2026-13", "2026-1", "oct"])
def test_months_out_of_range_or_malformed(text: str) -> None:
    with pytest.raises(InvalidInput):
        month_arg(text, now=NOW)


def test_a_caller_may_allow_months_further_ahead() -> None:
    assert month_arg("2031-10", now=NOW, ahead=timedelta(days=5 * 366)) == "2031-10"


@pytest.mark.parametrize("text", ["1900-W01", "2026-W53", "2027-W41"])
def test_weeks_in_range(text: str) -> None:
    assert week_arg(text, now=NOW) == text


@pytest.mark.parametrize(
    "text", ["0001-W01", "1899-W52", "2025-W53", "2027-W42", "9999-W52", "2026-W00", "2026-44"]
)
def test_weeks_out_of_range_or_not_weeks(text: str) -> None:
    with pytest.raises(InvalidInput):
        week_arg(text, now=NOW)


def test_moments_read_in_the_teams_zone_and_range_checked() -> None:
    assert moment_arg("2026-10-03T12:00", MADRID, now=NOW) == datetime(2026, 10, 3, 10, 0, tzinfo=UTC)
    for text in [
        "0001-01-01T00:00+14:00",
        "9999-12-31T23:59:59-14:00",
        "1899-12-31T23:00",
        "2027-10-20T00:00",
    ]:
        with pytest.raises(InvalidInput):
            moment_arg(text, MADRID, now=NOW)
    with pytest.raises(InvalidInput) as refused:
        moment_arg("yesterday", MADRID, now=NOW)
    assert refused.value.field == "at"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))), "must not be before 1900-01-01"),
        (datetime(1899, 12, 31, 23, 0, tzinfo=UTC), "must not be before 1900-01-01"),
        (datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14))), "cannot be in the future"),
    ],
)
def test_business_times_out_of_range_are_refused_without_overflowing(value: datetime, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_occurred_at(value, NOW)
    assert str(refused.value) == f"occurred_at: {message}"


def test_the_earliest_business_time_is_accepted() -> None:
    earliest = datetime(1900, 1, 1, tzinfo=UTC)
    assert clean_occurred_at(earliest, NOW) == earliest


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1234.5", Decimal("1234.5")),
        ("1234,5", Decimal("1234.5")),
        ("12.000,50", Decimal("12000.50")),
        ("12,000.50", Decimal("12000.50")),
        ("1.234.567,89", Decimal("1234567.89")),
        ("480000.0", Decimal("480000.0")),
        ("0.000", Decimal("0")),
        ("12.0", Decimal("12.0")),
    ],
)
def test_imported_amounts(text: str, amount: Decimal) -> None:
    assert parse_amount(text) == amount


@pytest.mark.parametrize(
    "text", ["12.000", "12,000", "180.000", "1,5.3", "12.00,0", "1,2345.6", "abc", "NaN"]
)
def test_imported_amounts_that_could_be_read_two_ways_are_refused(text: str) -> None:
    with pytest.raises(CellError):
        parse_amount(text)
