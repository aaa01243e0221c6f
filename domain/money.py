"""Money as the figures count it: an amount is always in a currency, an unknown
amount is unknown (never 0), and two currencies are never added.

The rules (docs/FIGURES.md, "Money"):
- A won deal keeps the currency it was won in; its amount may be unknown.
- Revenue sums the known amounts and says how many wins had none; the average
  deal is the known sum over the wins with a known amount (None when none is).
- Amounts in another currency than the agreement's base currency are converted
  at the rate a manager recorded for that currency (base units per unit), the
  rate in force for the month: the one with the latest ``valid_from`` on or
  before the month's last day. A currency without such a rate is never
  converted nor summed with another: the figure lists it apart, with a note,
  and the month is not graded on money (``MoneyFigure.convertible``).
"""

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from domain.errors import N_, InvalidInput

DEFAULT_BASE_CURRENCY = "EUR"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Money:
    """An amount in one currency (ISO 4217 code)."""

    amount: Decimal
    currency: str

    def __str__(self) -> str:  # plain text for logs and JSON dumps (pages use smarketing.present.formatting)
        return f"{self.amount} {self.currency}"


@dataclass(frozen=True)
class MoneyTerms:
    """The base currency and the rates (base units per one unit) in force for a month."""

    base: str = DEFAULT_BASE_CURRENCY
    rates: tuple[tuple[str, Decimal], ...] = ()

    def rate(self, currency: str) -> Decimal | None:
        if currency == self.base:
            return Decimal(1)
        return dict(self.rates).get(currency)


@dataclass(frozen=True)
class Known:
    """Known amounts of one currency: their sum in cents and how many they are."""

    cents: int
    count: int


@dataclass(frozen=True)
class MoneyFigure:
    """A money figure over a month's wins (revenue, or the average deal).

    ``parts``: what to show — one amount in the base currency when every known
    amount could be converted (or was in it), else one amount per currency as
    won, none converted. ``value``: the figure in the base currency for
    grading, None when not convertible or when no amount is known.
    """

    parts: tuple[Money, ...]
    base: str
    known: int  # wins with a known amount
    wins: int  # all wins counted
    unconverted: tuple[str, ...] = ()  # currencies with no rate to the base
    converted: tuple[str, ...] = ()  # currencies converted at a recorded rate
    value: Decimal | None = field(default=None)

    @property
    def unknown(self) -> int:
        return self.wins - self.known

    @property
    def convertible(self) -> bool:
        return not self.unconverted

    def __str__(self) -> str:  # plain text for logs and JSON dumps (pages use smarketing.present.formatting)
        amounts = (
            " + ".join(str(p) for p in self.parts) if self.convertible else " | ".join(map(str, self.parts))
        )
        notes = [f"no rate to {self.base}: {', '.join(self.unconverted)}"] if self.unconverted else []
        notes += [f"{self.known} of {self.wins} wins with an amount"] if self.unknown else []
        return (amounts or "unknown") + (f" ({'; '.join(notes)})" if notes else "")


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def money_figures(known: dict[str, Known], wins: int, terms: MoneyTerms) -> tuple[MoneyFigure, MoneyFigure]:
    """(revenue, average deal) of wins whose known amounts per currency are ``known``."""
    known = {c: k for c, k in sorted(known.items()) if k.count}
    count = sum(k.count for k in known.values())
    unconverted = tuple(c for c in known if terms.rate(c) is None)
    converted = tuple(c for c in known if c != terms.base and c not in unconverted)

    def figure(parts: list[Money], value: Decimal | None = None) -> MoneyFigure:
        return MoneyFigure(tuple(parts), terms.base, count, wins, unconverted, converted, value)

    if unconverted:  # one part per currency as won; nothing added across currencies
        return (
            figure([Money(_cents(Decimal(k.cents) / 100), c) for c, k in known.items()]),
            figure([Money(_cents(Decimal(k.cents) / 100 / k.count), c) for c, k in known.items()]),
        )
    total = sum((Decimal(k.cents) / 100 * (terms.rate(c) or 0) for c, k in known.items()), Decimal(0))
    # Wins but no amount known: the revenue is unknown, not 0.
    revenue = _cents(total) if count or not wins else None
    average = _cents(total / count) if count else None
    return (
        figure([] if revenue is None else [Money(revenue, terms.base)], revenue),
        figure([] if average is None else [Money(average, terms.base)], average),
    )


def terms_for_month(base: str, rates: list[tuple[str, str, Decimal, str]], month_end: str) -> MoneyTerms:
    """``rates``: (currency, base, rate, valid_from "YYYY-MM-DD") in recording order;
    per currency, the rate against ``base`` with the latest valid_from ≤ ``month_end``
    (a later recording of the same date replaces an earlier one)."""
    chosen: dict[str, tuple[str, Decimal]] = {}
    for currency, against, rate, valid_from in rates:
        if against != base or valid_from > month_end:
            continue
        if currency not in chosen or valid_from >= chosen[currency][0]:
            chosen[currency] = (valid_from, rate)
    return MoneyTerms(base, tuple(sorted((c, r) for c, (_, r) in chosen.items())))


MAX_RATE = Decimal(1_000_000)
RATE_PLACES = 6
EARLIEST_VALID_FROM = "1900-01-01"


def clean_rate(value: object) -> Decimal:
    """A rate: base-currency units per one unit of the other currency (> 0, ≤ 6 decimals)."""
    if isinstance(value, bool) or value is None:
        raise InvalidInput("rate", N_("%(value)s is not a number"), value=repr(value)[:40])
    try:
        rate = Decimal(str(value).strip())
    except ArithmeticError:
        raise InvalidInput("rate", N_("%(value)s is not a number"), value=repr(value)[:40]) from None
    if not rate.is_finite() or rate <= 0:
        raise InvalidInput("rate", N_("must be a positive rate"))
    if rate > MAX_RATE:
        raise InvalidInput("rate", N_("must not exceed %(max)s"), max=str(MAX_RATE))
    step = Decimal(1).scaleb(-RATE_PLACES)
    if rate != rate.quantize(step):
        raise InvalidInput("rate", N_("must have at most six decimals"))
    return rate.normalize() if rate == rate.to_integral() else rate


def clean_valid_from(value: object, today: str) -> str:
    """A date "YYYY-MM-DD" from 1900 to a year after ``today`` (ISO text)."""
    text = str(value or "").strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput("valid_from", N_("must be a date like 2024-05-01")) from None
    latest = date.fromisoformat(today) + timedelta(days=366)
    if not EARLIEST_VALID_FROM <= day.isoformat() <= latest.isoformat():
        raise InvalidInput("valid_from", N_("must be between 1900 and a year from now"))
    return day.isoformat()
