"""The weekly and monthly joint meetings: decisions and action items, as events.

One aggregate per meeting (uuid5 of kind and period, e.g. "weekly:2026-W44"),
created when its first decision or action is recorded. An action item stays
open — and is carried into every later pack — until someone marks it done,
itself an event on the meeting that created it.
"""

import re
from dataclasses import field
from datetime import datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actor import current_actor
from domain.errors import N_, InvalidInput
from domain.validation import SHORT_MAX, TEXT_MAX, clean_occurred_at, clean_text, utc_now

WEEKLY = "weekly"
MONTHLY = "monthly"
_PERIOD = {
    WEEKLY: re.compile(r"^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$"),
    MONTHLY: re.compile(r"^\d{4}-(0[1-9]|1[0-2])$"),
}


def clean_period(kind: str, period: object) -> str:
    text = str(period or "").strip()
    if kind not in _PERIOD:
        raise InvalidInput("kind", N_("must be weekly or monthly"))
    if not _PERIOD[kind].match(text):
        example = "2026-W44" if kind == WEEKLY else "2026-10"
        raise InvalidInput(
            "period", N_("“%(got)s” is not a period like %(example)s"), got=text[:20], example=example
        )
    return text


def meeting_id(kind: str, period: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"smarketing:meeting:{kind}:{period}")


class Meeting(Aggregate):
    class Event(Aggregate.Event):
        class_version = 1
        actor: str = field(default_factory=current_actor.get, init=False)
        occurred_at: datetime

    class Created(Event, Aggregate.Created):
        kind: str
        period: str

    @classmethod
    def hold(cls, kind: str, period: object, occurred_at: datetime | None = None) -> "Meeting":
        period = clean_period(kind, period)
        return cls(
            id=meeting_id(kind, period),
            occurred_at=clean_occurred_at(occurred_at, utc_now()),
            kind=kind,
            period=period,
        )

    @event(Created)
    def __init__(self, id: UUID, occurred_at: datetime, kind: str, period: str) -> None:  # noqa: A002
        self.kind = kind
        self.period = period
        self.decisions: list[str] = []
        self.actions: dict[int, dict[str, Any]] = {}

    def record(
        self,
        decision: object = "",
        action: object = "",
        owner: object = "",
        occurred_at: datetime | None = None,
    ) -> None:
        """A decision, an action item with its owner, or both, from one form."""
        decision = clean_text(decision, "decision", max_len=TEXT_MAX)
        action = clean_text(action, "action", max_len=TEXT_MAX)
        owner = clean_text(owner, "owner", max_len=SHORT_MAX)
        if not decision and not action:
            raise InvalidInput("decision", N_("write a decision or an action item"))
        if action and not owner:
            raise InvalidInput("owner", N_("an action item needs an owner"))
        at = clean_occurred_at(occurred_at, utc_now())
        if decision:
            self._decision_recorded(occurred_at=at, text=decision)
        if action:
            self._action_added(occurred_at=at, number=len(self.actions) + 1, text=action, owner=owner)

    class DecisionRecorded(Event):
        text: str

    @event(DecisionRecorded)
    def _decision_recorded(self, occurred_at: datetime, text: str) -> None:
        self.decisions.append(text)

    class ActionItemAdded(Event):
        number: int
        text: str
        owner: str

    @event(ActionItemAdded)
    def _action_added(self, occurred_at: datetime, number: int, text: str, owner: str) -> None:
        self.actions[number] = {"text": text, "owner": owner, "done": False}

    def mark_done(self, number: int, note: object = "", occurred_at: datetime | None = None) -> None:
        item = self.actions.get(number)
        if item is None:
            raise InvalidInput("number", N_("this meeting has no action item %(number)s"), number=number)
        if item["done"]:
            raise InvalidInput("number", N_("action item %(number)s is already done"), number=number)
        self._action_done(
            occurred_at=clean_occurred_at(occurred_at, utc_now()),
            number=number,
            note=clean_text(note, "note", max_len=TEXT_MAX),
        )

    class ActionItemDone(Event):
        number: int
        note: str

    @event(ActionItemDone)
    def _action_done(self, occurred_at: datetime, number: int, note: str) -> None:
        self.actions[number]["done"] = True
