"""A lead's history for auditors, always rebuilt from the event log (never from
a read model): step-by-step replay with diffs, the state as of a recorded time,
the complete history as export rows, and the agreement's target changes."""

import csv
import io
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select

from domain.agreement import METRICS, SLAAgreement, agreement_id
from domain.errors import N_, LeadNotFound
from domain.lead import Lead
from projections.engine.plain import plain
from projections.models.timeline import BOOKKEEPING
from smarketing.bootstrap import Services
from smarketing.present.exporting import safe_cell
from smarketing.service.application import parse_lead_id
from smarketing.store.log_chain import log_chain


def _positions(services: Services, lead_hex: str) -> dict[int, int]:
    """version -> notification id, from the log chain (written with each event)."""
    with services.read_engine.connect() as conn:
        rows = conn.execute(
            select(log_chain.c.originator_version, log_chain.c.position).where(
                log_chain.c.originator_id == lead_hex
            )
        ).all()
    return {int(version): int(position) for version, position in rows}


def event_entry(event: Any, position: int | None = None) -> dict[str, Any]:
    values = vars(event)
    personal = values.get("personal") if isinstance(values.get("personal"), dict) else {}
    return {
        "type": type(event).__name__,
        "version": event.originator_version,
        "position": position,
        "occurred_at": plain(getattr(event, "occurred_at", None)),
        "recorded_at": plain(event.timestamp),
        "actor": getattr(event, "actor", ""),
        "business": {
            k: plain(v)
            for k, v in sorted(values.items())
            if k not in BOOKKEEPING and k not in ("personal", "personal_erased")
        },
        "personal": {k: plain(v) for k, v in sorted(personal.items())},
        "personal_erased": bool(values.get("personal_erased")),
    }


def lead_events(services: Services, lead_id: str) -> list[Any]:
    """The lead's events; LeadNotFound for ids of other aggregates (e.g. the e-mail index)."""
    events = services.app.lead_events(lead_id)
    if not isinstance(events[0], Lead.Captured):
        raise LeadNotFound(N_("No lead with id %(id)s."), id=str(parse_lead_id(lead_id)))
    return events


def lead_history(services: Services, lead_id: str) -> list[dict[str, Any]]:
    """Every event of the lead, oldest first, with its log position."""
    events = lead_events(services, lead_id)
    positions = _positions(services, parse_lead_id(lead_id).hex)
    return [event_entry(e, positions.get(e.originator_version)) for e in events]


def diff(before: dict[str, Any] | None, after: dict[str, Any]) -> list[dict[str, Any]]:
    """Fields whose value changed between two states (all of them for the first)."""
    before = before or {}
    return [
        {"field": key, "old": plain(before.get(key)), "new": plain(value)}
        for key, value in after.items()
        if key != "version" and (key not in before or before[key] != value)
    ]


def replay_step(services: Services, lead_id: str, step: int | None) -> dict[str, Any]:
    """The lead's full state after event ``step`` (clamped), the event, and the diff."""
    history = lead_history(services, lead_id)
    last = len(history)
    step = last if step is None else min(max(step, 1), last)
    state = services.app.get_lead(lead_id, version=step)
    previous = services.app.get_lead(lead_id, version=step - 1) if step > 1 else None
    return {
        "lead_id": str(parse_lead_id(lead_id)),
        "step": step,
        "last": last,
        "event": history[step - 1],
        "state": {k: plain(v) for k, v in state.items()},
        "changes": diff(previous, state),
    }


def lead_as_of(
    services: Services, lead_id: str, at: datetime, mode: str = "recorded"
) -> dict[str, Any] | None:
    """The lead as it stood at ``at`` (None: not there yet).

    ``recorded``: its events recorded at or before ``at``. ``happened``: its
    history up to the last event whose business time is at or before ``at``,
    and no further than an event that happened later (a lead is rebuilt from a
    prefix of its events); ``later_but_earlier`` counts the events after that
    point which had happened by ``at`` all the same (history recorded out of order).
    """
    events = lead_events(services, lead_id)
    if mode == "happened":
        version = 0
        for e in events:
            if e.occurred_at > at:
                break
            version = e.originator_version
        out_of_order = sum(1 for e in events if e.originator_version > version and e.occurred_at <= at)
    else:
        version = max((e.originator_version for e in events if e.timestamp <= at), default=0)
        out_of_order = 0
    if not version:
        return None
    state = services.app.get_lead(lead_id, version=version)
    return {k: plain(v) for k, v in state.items()} | {
        "as_of_version": version,
        "versions": len(events),
        "later_but_earlier": out_of_order,
    }


def agreement_trail(services: Services) -> list[dict[str, Any]]:
    """The SLA agreement's target changes: who, when (business and recorded), old → new, why."""
    events = services.app.repository.event_store.get(agreement_id())
    return [
        {
            "version": e.originator_version,
            "month": e.month,
            "metric": e.metric,
            "slice_by": e.slice_by,  # "" for the whole company
            "slice_value": e.slice_value,
            "unit": METRICS[e.metric].unit if e.metric in METRICS else "",
            "old": plain(e.previous_value),
            "new": plain(e.value),
            "reason": e.reason,
            "actor": e.actor,
            "occurred_at": plain(e.occurred_at),
            "recorded_at": plain(e.timestamp),
        }
        for e in events
        if isinstance(e, SLAAgreement.TargetSet)
    ]


# --- exports --------------------------------------------------------------------


def history_json(services: Services, lead_id: str) -> str:
    return json.dumps(
        {"lead_id": str(parse_lead_id(lead_id)), "events": lead_history(services, lead_id)},
        ensure_ascii=False,
        indent=2,
    )


def _cell(value: Any) -> Any:
    """Lists and mappings (e.g. skipped stages) as JSON text in one cell."""
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value


def history_csv(services: Services, lead_id: str) -> str:
    history = lead_history(services, lead_id)
    business = sorted({k for e in history for k in e["business"]})
    personal = sorted({k for e in history for k in e["personal"]})
    fixed = ["type", "version", "position", "occurred_at", "recorded_at", "actor", "personal_erased"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(fixed + business + [f"personal.{k}" for k in personal])
    for e in history:
        row = [e[k] for k in fixed]
        row += [e["business"].get(k) for k in business]
        row += [e["personal"].get(k) for k in personal]
        writer.writerow([safe_cell(_cell(v)) for v in row])
    return out.getvalue()
