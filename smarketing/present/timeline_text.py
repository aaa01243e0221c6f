"""One line of plain words per event, for the terminal (the wording: smarketing.present.event_types)."""

from typing import Any

from smarketing.present.event_types import by_name


def describe(event_type: str, data: dict[str, Any]) -> str:
    personal = data.get("personal") or {}
    # Reasons are personal data since the events' v2 (rows projected before keep theirs
    # beside it); erased, they read as a dash, as in the report.
    reason = "—" if data.get("personal_erased") else personal.get("reason") or data.get("reason", "")
    kind = by_name(event_type)
    return event_type if kind is None else kind.line({**data, "reason": reason})
