"""Read model of the agreement's money terms: the base currency and every
exchange rate recorded, in log order (each row one event, so the list is also
their history). Which rates apply to a month: ``domain.money.terms_for_month``."""

import calendar
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Column, Connection, DateTime, String, Table, insert, select

from domain.agreement import SLAAgreement, parse_month
from domain.money import DEFAULT_BASE_CURRENCY, MoneyTerms, terms_for_month
from projections.engine.projector import Positioned, Projection
from projections.engine.schema import from_db, metadata, to_db

BASE = "base"
RATE = "rate"

money_terms = Table(
    "money_terms",
    metadata,
    Column("position", BigInteger, primary_key=True),
    Column("kind", String(10), nullable=False),  # base | rate
    Column("currency", String(3), nullable=False),
    Column("base", String(3), nullable=False),  # rate: the base it was recorded against; base: previous
    Column("rate", String(40)),  # Decimal as text (exact); null for a base change
    Column("valid_from", String(10)),  # YYYY-MM-DD; null for a base change
    Column("reason", String(2000), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("occurred_at", DateTime, nullable=False),
)


class MoneyTermsProjection(Projection):
    name = "money_terms"
    tables = (money_terms,)

    def process(self, conn: Connection, events: list[Positioned]) -> None:
        rows = []
        for position, event in events:
            if not isinstance(event, SLAAgreement.BaseCurrencySet | SLAAgreement.ExchangeRateSet):
                continue
            common = {
                "position": position,
                "reason": event.reason,
                "actor": event.actor,
                "occurred_at": to_db(event.occurred_at),
            }
            if isinstance(event, SLAAgreement.BaseCurrencySet):
                rows.append(common | {"kind": BASE, "currency": event.currency, "base": event.previous})
            else:
                rows.append(
                    common
                    | {
                        "kind": RATE,
                        "currency": event.currency,
                        "base": event.base,
                        "rate": str(event.rate),
                        "valid_from": event.valid_from,
                    }
                )
        if rows:
            conn.execute(insert(money_terms), rows)


@dataclass(frozen=True)
class MoneyBook:
    """Every money term recorded: the base currency now and the rates, for any month."""

    base: str
    rates: tuple[tuple[str, str, Decimal, str], ...]  # (currency, base, rate, valid_from) in log order

    def for_month(self, month: str) -> MoneyTerms:
        year, number = parse_month(month)
        last_day = f"{year:04d}-{number:02d}-{calendar.monthrange(year, number)[1]:02d}"
        return terms_for_month(self.base, list(self.rates), last_day)


def money_book(conn: Connection) -> MoneyBook:
    base, rates = DEFAULT_BASE_CURRENCY, []
    statement = select(
        money_terms.c.kind,
        money_terms.c.currency,
        money_terms.c.base,
        money_terms.c.rate,
        money_terms.c.valid_from,
    ).order_by(money_terms.c.position)
    for kind, currency, against, rate, valid_from in conn.execute(statement):
        if kind == BASE:
            base = currency
        else:
            rates.append((currency, against, Decimal(rate), valid_from))
    return MoneyBook(base, tuple(rates))


def money_history(conn: Connection) -> list[dict[str, Any]]:
    """Every change, latest first, for the agreement page."""
    rows = conn.execute(select(money_terms).order_by(money_terms.c.position.desc())).mappings()
    return [
        {
            **row,
            "rate": None if row["rate"] is None else Decimal(row["rate"]),
            "occurred_at": from_db(row["occurred_at"]),
        }
        for row in rows
    ]
