"""Event values as JSON-ready plain data: times in ISO 8601, amounts and ids as
strings (no float rounding). One definition for timelines, exports and audits."""

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

# Returned as they are; checked first because they are most values (a rebuild's
# timeline calls this ~0.5M times, and the isinstance chain below came first).
_SCALARS = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> Any:
    if type(value) in _SCALARS:
        return value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    return value
