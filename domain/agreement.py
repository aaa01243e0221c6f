"""The SLA agreement between marketing and sales: monthly targets, versioned as events.

One agreement per company (a fixed id, like the e-mail index). Each change of a
target is its own ``TargetSet`` event carrying who (actor), when (occurred_at),
the old and the new value and why, so the agreement's history is the log itself.
A target binds the whole company or one slice (a source, an owner: ``clean_slice``).

A target belongs to a month ("YYYY-MM"); reporting carries it forward to later
months until one of them sets its own (see ``projections.models.targets``). Revising
the value already set for the same month needs a reason; setting a month's
first value does not (``previous_value`` is then None).
"""

import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actor import current_actor
from domain.agreement_terms import clean_terms
from domain.assignment import clean_rules
from domain.errors import N_, DomainError, InvalidInput
from domain.money import DEFAULT_BASE_CURRENCY, clean_rate, clean_valid_from
from domain.validation import (
    MAX_AMOUNT,
    SHORT_MAX,
    TEXT_MAX,
    clean_currency,
    clean_occurred_at,
    clean_text,
    utc_now,
)

MARKETING = "marketing"
SALES = "sales"

REVENUE_GOAL = "revenue_goal"
MARKETING_REVENUE = "marketing_revenue"
MQLS_DELIVERED = "mqls_delivered"
AVG_DEAL_PER_OPPORTUNITY = "avg_deal_per_opportunity"
LEAD_TO_CUSTOMER = "lead_to_customer"
FOLLOW_UP_HOURS = "follow_up_hours"
FOLLOW_UP_SHARE = "follow_up_share"
ATTEMPTS_PER_MQL = "attempts_per_mql"
ATTEMPTS_WINDOW_DAYS = "attempts_window_days"
SALES_CONVERSION = "sales_conversion"

# A month this far from the current year is a typo, not a plan.
YEARS_BACK = 20
YEARS_AHEAD = 5

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Metric:
    name: str
    side: str  # marketing | sales: which team the target binds
    higher_is_better: bool
    unit: str  # eur | count | ratio | hours | days
    max_value: Decimal
    places: int  # decimals allowed; more is refused rather than silently rounded
    positive: bool = False  # a zero would make the measurement window empty
    cumulative: bool = False  # a month's figure grows day by day (so targets can be pro-rated)
    scored: bool = True  # False: a term of another metric, not measured on its own


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric(REVENUE_GOAL, MARKETING, True, "eur", MAX_AMOUNT, 2, cumulative=True),
        Metric(MARKETING_REVENUE, MARKETING, True, "eur", MAX_AMOUNT, 2, cumulative=True),
        Metric(MQLS_DELIVERED, MARKETING, True, "count", Decimal(1_000_000), 0, cumulative=True),
        Metric(AVG_DEAL_PER_OPPORTUNITY, MARKETING, True, "eur", MAX_AMOUNT, 2),
        Metric(LEAD_TO_CUSTOMER, MARKETING, True, "ratio", Decimal(1), 4),
        Metric(FOLLOW_UP_HOURS, SALES, False, "hours", Decimal(24 * 31), 2, positive=True),
        Metric(FOLLOW_UP_SHARE, SALES, True, "ratio", Decimal(1), 4),
        Metric(ATTEMPTS_PER_MQL, SALES, True, "count", Decimal(100), 0),
        # A shorter window for the same attempts is the stricter promise.
        Metric(ATTEMPTS_WINDOW_DAYS, SALES, False, "days", Decimal(90), 0, positive=True, scored=False),
        Metric(SALES_CONVERSION, SALES, True, "ratio", Decimal(1), 4),
    )
}


_AGREEMENT_ID = uuid5(NAMESPACE_URL, "smarketing:agreement")


def agreement_id() -> UUID:
    return _AGREEMENT_ID  # one agreement per store: a fixed id, hashed once


def parse_month(month: object) -> tuple[int, int]:
    match = _MONTH.match(str(month or "").strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise InvalidInput("month", N_("“%(value)s” is not a month like 2026-10"), value=str(month)[:20])
    return int(match[1]), int(match[2])


def add_months(month: str, count: int) -> str:
    """``add_months("2024-01", -1) == "2023-12"``: whole-month steps across years."""
    year, number = parse_month(month)
    index = year * 12 + (number - 1) + count
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def clean_month(month: object, now: datetime) -> str:
    year, number = parse_month(month)
    if not now.year - YEARS_BACK <= year <= now.year + YEARS_AHEAD:
        raise InvalidInput(
            "month",
            N_("must be within %(back)s years back and %(ahead)s ahead"),
            back=YEARS_BACK,
            ahead=YEARS_AHEAD,
        )
    return f"{year:04d}-{number:02d}"


def clean_metric(metric: object) -> Metric:
    found = METRICS.get(str(metric or "").strip())
    if found is None:
        raise InvalidInput("metric", N_("must be one of %(choices)s"), choices=", ".join(METRICS))
    return found


def clean_target_value(metric: Metric, value: object) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise InvalidInput("value", N_("“%(value)s” is not a number"), value=str(value))
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise InvalidInput("value", N_("“%(value)s” is not a number"), value=str(value)[:40]) from None
    if not number.is_finite():
        raise InvalidInput("value", N_("must be a finite number"))
    if number < 0 or (metric.positive and number == 0):
        raise InvalidInput("value", N_("must be positive") if metric.positive else N_("must not be negative"))
    if number > metric.max_value:
        raise InvalidInput(
            "value", N_("%(metric)s must not exceed %(max)s"), metric=metric.name, max=metric.max_value
        )
    step = Decimal(1).scaleb(-metric.places)
    if number != number.quantize(step):
        raise InvalidInput(
            "value",
            N_("%(metric)s allows at most %(places)s decimals"),
            metric=metric.name,
            places=metric.places,
        )
    return number.quantize(step)


# A target may bind one slice of the figures instead of the whole company: the leads of
# one source, or one owner's (projections.models.targets, scorecard_view: a filtered dashboard
# grades only against its slice's targets). Terms of measurement stay company-wide.
SLICE_DIMENSIONS = ("source", "owner")
WHOLE_COMPANY = ("", "")


def clean_slice(metric: Metric, slice_by: object, slice_value: object) -> tuple[str, str]:
    """("", "") for the whole company, else (dimension, value) as the figures stamp it."""
    by = str(slice_by or "").strip()
    value = clean_text(slice_value, "slice_value", max_len=SHORT_MAX)
    if not by:
        if value:
            raise InvalidInput("slice_by", N_("choose source or owner for %(value)s"), value=value)
        return WHOLE_COMPANY
    if by not in SLICE_DIMENSIONS:
        raise InvalidInput("slice_by", N_("must be one of %(choices)s"), choices=", ".join(SLICE_DIMENSIONS))
    if not value:
        raise InvalidInput("slice_value", N_("name the source or owner the target is for"))
    if not metric.scored:
        raise InvalidInput(
            "metric", N_("%(metric)s is a term of the whole agreement, not set per slice"), metric=metric.name
        )
    return by, value.lower() if by == "source" else value  # sources are stored lower-case


class AgreementConflict(DomainError):
    """Someone else changed the agreement at the same moment."""


class SLAAgreement(Aggregate):
    class Event(Aggregate.Event):
        # Bump per event class and add an upcast_vN_vN+1 method when a schema changes.
        class_version = 1
        actor: str = field(default_factory=current_actor.get, init=False)
        occurred_at: datetime

    class Created(Event, Aggregate.Created):
        pass

    class TargetSet(Event):
        """One change of one monthly target. v2: the slice it binds (``slice_by``,
        ``slice_value``: "" and "" for the whole company, as every v1 target was)."""

        class_version = 2
        month: str
        metric: str
        value: Decimal
        previous_value: Decimal | None
        reason: str
        slice_by: str
        slice_value: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["slice_by"], state["slice_value"] = WHOLE_COMPANY

    @classmethod
    def start(cls, occurred_at: datetime | None = None) -> "SLAAgreement":
        return cls(id=agreement_id(), occurred_at=clean_occurred_at(occurred_at, utc_now()))

    @event(Created)
    def __init__(self, id: UUID, occurred_at: datetime) -> None:  # noqa: A002 - library's name
        self.targets: dict[str, dict[str, Decimal]] = {}
        self.slice_targets: dict[tuple[str, str, str], dict[str, Decimal]] = {}  # (by, value, month)
        self.terms: dict[str, dict[str, Any]] = {}  # see domain.agreement_terms
        self.started_at = occurred_at

    def set_target(
        self,
        month: object,
        metric: object,
        value: object,
        reason: object = "",
        occurred_at: datetime | None = None,
        slice_by: object = "",
        slice_value: object = "",
    ) -> None:
        now = utc_now()
        clean = clean_month(month, now)
        definition = clean_metric(metric)
        number = clean_target_value(definition, value)
        reason = clean_text(reason, "reason", max_len=TEXT_MAX)
        by, slice_of = clean_slice(definition, slice_by, slice_value)
        previous = self.target(clean, definition.name, (by, slice_of))
        if previous is not None and previous == number:
            raise InvalidInput(
                "value",
                N_("%(metric)s for %(month)s is already %(value)s"),
                metric=definition.name,
                month=clean,
                value=previous,
            )
        if previous is not None and not reason:
            raise InvalidInput(
                "reason",
                N_("is required to revise %(metric)s for %(month)s (%(value)s)"),
                metric=definition.name,
                month=clean,
                value=previous,
            )
        self._target_set(
            occurred_at=clean_occurred_at(occurred_at, now),
            month=clean,
            metric=definition.name,
            value=number,
            previous_value=previous,
            reason=reason,
            slice_by=by,
            slice_value=slice_of,
        )

    @event(TargetSet)
    def _target_set(
        self,
        occurred_at: datetime,
        month: str,
        metric: str,
        value: Decimal,
        previous_value: Decimal | None,
        reason: str,
        slice_by: str,
        slice_value: str,
    ) -> None:
        if (slice_by, slice_value) == WHOLE_COMPANY:
            self.targets.setdefault(month, {})[metric] = Decimal(value)
        else:
            self.slice_targets.setdefault((slice_by, slice_value, month), {})[metric] = Decimal(value)

    def set_terms(
        self, section: str, values: dict[str, Any], reason: object = "", occurred_at: datetime | None = None
    ) -> None:
        """Replace one section of the standing terms (scoring, calendar, meetings)."""
        clean = clean_terms(section, values)
        previous = self.terms.get(section)
        if previous == clean:
            raise InvalidInput("values", N_("nothing changed in %(section)s"), section=section)
        self._terms_set(
            occurred_at=clean_occurred_at(occurred_at, utc_now()),
            section=section,
            values=clean,
            previous_values=previous,
            reason=clean_text(reason, "reason", max_len=TEXT_MAX),
        )

    class TermsSet(Event):
        section: str
        values: dict[str, Any]
        previous_values: dict[str, Any] | None
        reason: str

    @event(TermsSet)
    def _terms_set(
        self,
        occurred_at: datetime,
        section: str,
        values: dict[str, Any],
        previous_values: dict[str, Any] | None,
        reason: str,
    ) -> None:
        self.terms[section] = dict(values)

    # --- who gets a new MQL (domain.assignment) ---------------------------

    def set_assignment_rules(
        self, rules: list[dict[str, Any]], returns_to: object, occurred_at: datetime | None = None
    ) -> None:
        """Replace the whole rule list and the marketing user rejected MQLs go back to."""
        clean = clean_rules(rules)
        back_to = clean_text(returns_to, "returns_to", max_len=SHORT_MAX)
        if clean == getattr(self, "assignment_rules", []) and back_to == getattr(self, "returns_to", ""):
            raise InvalidInput("rules", N_("nothing changed in the assignment rules"))
        self._assignment_rules_set(
            occurred_at=clean_occurred_at(occurred_at, utc_now()), rules=clean, returns_to=back_to
        )

    class AssignmentRulesSet(Event):
        rules: list[dict[str, str]]
        returns_to: str

    @event(AssignmentRulesSet)
    def _assignment_rules_set(
        self, occurred_at: datetime, rules: list[dict[str, str]], returns_to: str
    ) -> None:
        self.assignment_rules = [dict(rule) for rule in rules]
        self.returns_to = returns_to

    # --- money: the base currency and exchange rates (domain.money) ---------

    @property
    def base_currency(self) -> str:
        return getattr(self, "_base_currency", DEFAULT_BASE_CURRENCY)

    def set_base_currency(
        self, currency: object, reason: object = "", occurred_at: datetime | None = None
    ) -> None:
        """The currency targets are in and figures are converted to."""
        clean = clean_currency(currency)
        if clean == self.base_currency:
            raise InvalidInput("currency", N_("%(currency)s is already the base currency"), currency=clean)
        self._base_currency_set(
            occurred_at=clean_occurred_at(occurred_at, utc_now()),
            currency=clean,
            previous=self.base_currency,
            reason=clean_text(reason, "reason", max_len=TEXT_MAX),
        )

    class BaseCurrencySet(Event):
        currency: str
        previous: str
        reason: str

    @event(BaseCurrencySet)
    def _base_currency_set(self, occurred_at: datetime, currency: str, previous: str, reason: str) -> None:
        self._base_currency = currency

    def set_exchange_rate(
        self,
        currency: object,
        rate: object,
        valid_from: object,
        reason: object = "",
        occurred_at: datetime | None = None,
    ) -> None:
        """One unit of ``currency`` is worth ``rate`` units of the base currency from ``valid_from``."""
        now = utc_now()
        clean = clean_currency(currency)
        if clean == self.base_currency:
            raise InvalidInput("currency", N_("%(currency)s is the base currency"), currency=clean)
        self._exchange_rate_set(
            occurred_at=clean_occurred_at(occurred_at, now),
            currency=clean,
            base=self.base_currency,
            rate=clean_rate(rate),
            valid_from=clean_valid_from(valid_from, now.date().isoformat()),
            reason=clean_text(reason, "reason", max_len=TEXT_MAX),
        )

    class ExchangeRateSet(Event):
        currency: str
        base: str
        rate: Decimal
        valid_from: str
        reason: str

    @event(ExchangeRateSet)
    def _exchange_rate_set(
        self, occurred_at: datetime, currency: str, base: str, rate: Decimal, valid_from: str, reason: str
    ) -> None:
        pass  # read by projections.models.money_terms; the aggregate decides nothing on it

    def target(self, month: str, metric: str, slice_: tuple[str, str] = WHOLE_COMPANY) -> Decimal | None:
        """The value set for exactly this month and slice (no carrying forward here)."""
        if slice_ == WHOLE_COMPANY:
            return self.targets.get(month, {}).get(metric)
        return self.slice_targets.get((*slice_, month), {}).get(metric)


def target_change(event: Any) -> dict[str, Any]:
    """One ``TargetSet`` as plain values, for pages and history lists."""
    previous = event.previous_value
    return {
        "version": event.originator_version,
        "month": event.month,
        "metric": event.metric,
        "value": Decimal(event.value),
        "previous_value": None if previous is None else Decimal(previous),
        "reason": event.reason,
        "actor": event.actor,
        "occurred_at": event.occurred_at,
        "slice_by": event.slice_by,
        "slice_value": event.slice_value,
    }
