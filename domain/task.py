"""Tasks and reminders on a lead: their own aggregate, one per task.

Why not events on ``Lead``: a task has a life of its own (reassigned, done,
cancelled, reopened) that changes no figure of the lead, and a lead may collect
many; as its own stream a task's change never conflicts with a change to the lead
(a contact attempt while a manager reassigns the follow-up), never grows the lead's
snapshots, and leaves ``domain/lead.py`` and its timeline as they were. The task
names its lead (``lead_id``); the read model ``projections.models.tasks`` joins them.

The SLA follow-up tasks get deterministic ids (``sla_task_id``), so a command run
twice creates the task once.

Free text (the title, a completion note, a cancellation reason) may name a person,
so it travels in the events' ``personal`` mapping, as on ``Lead``: the store seals
it under the task's own key (smarketing.store.personal_data), and erasing the lead
destroys its tasks' keys too (smarketing.audit.erasure).
"""

from dataclasses import field
from datetime import datetime
from enum import StrEnum
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.actor import current_actor
from domain.errors import N_, InvalidInput
from domain.validation import SHORT_MAX, TEXT_MAX, clean_choice, clean_occurred_at, clean_text, utc_now


class TaskKind(StrEnum):
    FOLLOW_UP = "follow_up"  # the SLA's first contact after an MQL is assigned
    ATTEMPT = "attempt"  # the next contact attempt of the agreement's cadence
    MANUAL = "manual"  # created by a person


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


def sla_task_id(lead_id: UUID | str, mql_entry: str, attempt: int) -> UUID:
    """The SLA task for ``attempt`` (1 = the follow-up) of the lead's MQL entered at
    ``mql_entry`` (its entry time): the same id however often the command runs."""
    return uuid5(NAMESPACE_URL, f"smarketing:task:{lead_id}:{mql_entry}:{attempt}")


class Task(Aggregate):
    class Event(Aggregate.Event):
        class_version = 1
        actor: str = field(default_factory=current_actor.get, init=False)
        occurred_at: datetime

    class Created(Event, Aggregate.Created):
        lead_id: str
        kind: str
        personal: dict[str, str]  # {"title": ...}: sealed under the task's key
        assignee: str
        due_at: datetime
        attempt: int  # the SLA attempt it stands for (0 for a manual task)

    @staticmethod
    def create(
        task_id: UUID,
        *,
        lead_id: str,
        title: str,
        assignee: str,
        due_at: datetime,
        kind: str = TaskKind.MANUAL.value,
        attempt: int = 0,
        occurred_at: datetime | None = None,
    ) -> "Task":
        if not isinstance(due_at, datetime) or due_at.tzinfo is None:
            raise InvalidInput("due_at", N_("must be a date and time"))
        return Task(
            id=task_id,
            occurred_at=clean_occurred_at(occurred_at, utc_now()),
            lead_id=str(lead_id),
            kind=clean_choice(kind, "kind", TaskKind),
            personal={"title": clean_text(title, "title", max_len=TEXT_MAX, required=True)},
            assignee=clean_text(assignee, "assignee", max_len=SHORT_MAX, required=True),
            due_at=due_at,
            attempt=attempt,
        )

    @event(Created)
    def __init__(
        self,
        id: UUID,  # noqa: A002 - the library's name for a chosen aggregate id
        occurred_at: datetime,
        lead_id: str,
        kind: str,
        personal: dict[str, str],
        assignee: str,
        due_at: datetime,
        attempt: int,
    ) -> None:
        self.lead_id = lead_id
        self.kind = kind
        self.personal: dict[str, Any] = dict(personal)
        self.assignee = assignee
        self.due_at = due_at
        self.attempt = attempt
        self.status = TaskStatus.OPEN.value

    @property
    def title(self) -> str:
        return str(self.personal.get("title", ""))

    @property
    def is_open(self) -> bool:
        return self.status == TaskStatus.OPEN

    def assign(self, assignee: str, occurred_at: datetime | None = None) -> None:
        assignee = clean_text(assignee, "assignee", max_len=SHORT_MAX, required=True)
        if assignee == self.assignee:
            raise InvalidInput("assignee", N_("the task is already %(user)s's"), user=assignee)
        self._assigned(
            occurred_at=clean_occurred_at(occurred_at, utc_now()), assignee=assignee, previous=self.assignee
        )

    class Assigned(Event):
        assignee: str
        previous: str

    @event(Assigned)
    def _assigned(self, occurred_at: datetime, assignee: str, previous: str) -> None:
        self.assignee = assignee

    def complete(self, note: str = "", occurred_at: datetime | None = None) -> None:
        self._must_be_open()
        self._completed(
            occurred_at=clean_occurred_at(occurred_at, utc_now()),
            personal={"note": clean_text(note, "note", max_len=TEXT_MAX)},
        )

    class Completed(Event):
        personal: dict[str, str]  # {"note": ...}

    @event(Completed)
    def _completed(self, occurred_at: datetime, personal: dict[str, str]) -> None:
        self.status = TaskStatus.DONE.value

    def cancel(self, reason: str = "", occurred_at: datetime | None = None) -> None:
        self._must_be_open()
        self._cancelled(
            occurred_at=clean_occurred_at(occurred_at, utc_now()),
            personal={"reason": clean_text(reason, "reason", max_len=TEXT_MAX)},
        )

    class Cancelled(Event):
        personal: dict[str, str]  # {"reason": ...}

    @event(Cancelled)
    def _cancelled(self, occurred_at: datetime, personal: dict[str, str]) -> None:
        self.status = TaskStatus.CANCELLED.value

    def reopen(self, occurred_at: datetime | None = None) -> None:
        if self.is_open:
            raise InvalidInput("status", N_("the task is already open"))
        self._reopened(occurred_at=clean_occurred_at(occurred_at, utc_now()))

    class Reopened(Event):
        pass

    @event(Reopened)
    def _reopened(self, occurred_at: datetime) -> None:
        self.status = TaskStatus.OPEN.value

    def _must_be_open(self) -> None:
        if not self.is_open:
            raise InvalidInput("status", N_("the task is no longer open"))
