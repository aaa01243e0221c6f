"""The reverse funnel: from a revenue goal to the MQLs marketing must deliver.

customers needed = ceil(goal / average deal); each earlier stage needs the
later stage's count divided by that step's conversion rate; the MQLs are
ceil(customers needed / MQL→Customer conversion) — the product of the steps,
so rounding each step up never inflates the final figure.
"""

import math
from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise

from domain.vocabulary import Stage

# Stages from MQL to Customer: the hand-over the SLA is about.
PLAN_STAGES = (Stage.MQL.value, Stage.SQL.value, Stage.OPPORTUNITY.value, Stage.CUSTOMER.value)


@dataclass(frozen=True)
class Step:
    stage: str
    needed: int
    conversion: float | None  # from this stage to the next; None for Customer


@dataclass(frozen=True)
class Plan:
    customers: int
    mql_to_customer: float | None
    mqls: int | None  # None when no MQL has ever become a customer in the sample
    steps: tuple[Step, ...]


def reverse_funnel(goal: Decimal, avg_deal: Decimal, reached: dict[str, int]) -> Plan:
    """``reached``: how many leads of the sample cohorts reached each stage."""
    if avg_deal <= 0:
        raise ValueError("average deal must be positive")
    customers = math.ceil(goal / avg_deal)
    conversions: dict[str, float | None] = {}
    for stage, following in pairwise(PLAN_STAGES):
        conversions[stage] = reached[following] / reached[stage] if reached.get(stage) else None
    mqls_reached = reached.get(Stage.MQL.value, 0)
    overall = reached.get(Stage.CUSTOMER.value, 0) / mqls_reached if mqls_reached else None
    steps: list[Step] = [Step(Stage.CUSTOMER.value, customers, None)]
    needed: float | None = customers
    for stage in reversed(PLAN_STAGES[:-1]):
        rate = conversions[stage]
        needed = needed / rate if needed is not None and rate else None
        steps.insert(0, Step(stage, math.ceil(needed) if needed is not None else 0, rate))
    mqls = math.ceil(customers / overall) if overall else None
    return Plan(customers=customers, mql_to_customer=overall, mqls=mqls, steps=tuple(steps))
