"""One line of plain words per event, for the terminal and the timeline."""

from typing import Any


def describe(event_type: str, data: dict[str, Any]) -> str:
    personal = data.get("personal") or {}
    # Reasons are personal data since the events' v2 (rows projected before keep theirs
    # beside it); erased, they read as a dash, as in the report.
    reason = "—" if data.get("personal_erased") else personal.get("reason") or data.get("reason", "")
    data = {**data, "reason": reason}
    if event_type == "Captured":
        return f"Captured from {data['source']}" + (f" ({data['campaign']})" if data.get("campaign") else "")
    if event_type == "InteractionRecorded":
        details = personal.get("details")
        return f"Interaction: {data['kind']} via {data['channel']}" + (f" — {details}" if details else "")
    if event_type == "ContactAttempted":
        return f"Contact attempt by {data['channel']}: {data['outcome']}"
    if event_type == "OwnerAssigned":
        return f"Owner: {data['owner']} ({data['team']})"
    if event_type == "DealWon":
        amount = data.get("amount")
        known = amount not in (None, "", "0", "0.00")  # 0: a v1 row read before upcasting
        return f"Deal won: {amount} {data['currency']}" if known else "Deal won: amount unknown"
    if event_type == "DealAmountCorrected":
        old = f"{data['old_amount'] or 'unknown'} {data['old_currency']}"
        return f"Amount corrected: {old} → {data['amount']} {data['currency']} — {data['reason']}"
    if event_type == "DealLost":
        return f"Deal lost: {data['reason']}"
    if event_type == "MQLRejected":
        return f"MQL rejected by sales: {data['reason']}"
    if event_type == "StageChanged":
        reason = f" — {data['reason']}" if data.get("reason") else ""
        return f"Stage {data['from_stage']} → {data['to_stage']}{reason}"
    return event_type
