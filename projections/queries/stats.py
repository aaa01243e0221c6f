"""Small, exact statistics used by every figure (nearest-rank percentiles,
so a report and a page computing the same set always agree)."""

import math
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: Sequence[float], pct: float) -> float | None:
    """Nearest-rank percentile: an actual observed value."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(math.ceil(pct / 100 * len(ordered)), 1)
    return ordered[rank - 1]


def ratio(numerator: float, denominator: float) -> float | None:
    return None if not denominator else numerator / denominator


def cents_to_money(cents: int | None) -> Decimal:
    return (Decimal(cents or 0) / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
