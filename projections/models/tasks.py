"""The daily loop's read models: tasks, the round robin's last turn, and the MQLs
sales handed back to marketing.

- ``lead_tasks``: every task (``domain.task.Task``) as it stands now;
- ``round_robin_turns``: one row, the user the round robin chose last (from the
  ``rule`` of ``Lead.OwnerAssigned``), so the next turn is derived from the log;
- ``returned_mqls``: leads whose latest move was sales' rejection, with its reason,
  date and the owner now; a lead leaves when it changes stage again (recycled,
  disqualified, back to MQL). The reason is personal data: an erasure blanks it.

Few events per day reach these tables, so each is applied as it comes.
"""

from typing import Any
from uuid import UUID

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)

from domain.assignment import ROUND_ROBIN
from domain.lead import Lead
from domain.task import Task, TaskStatus
from projections.engine.projector import Positioned, Projection
from projections.engine.schema import metadata, to_db

lead_tasks = Table(
    "lead_tasks",
    metadata,
    Column("task_id", String(32), primary_key=True),
    Column("lead_id", String(32), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("title", Text, nullable=False),
    Column("assignee", String(120), nullable=False),
    Column("due_at", DateTime, nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("closed_at", DateTime),
    Index("ix_lead_tasks_assignee", "status", "assignee", "due_at"),
    Index("ix_lead_tasks_lead", "lead_id", "status"),
)

round_robin_turns = Table(
    "round_robin_turns",
    metadata,
    Column("turn", String(10), primary_key=True),  # always "last"
    Column("owner", String(120), nullable=False),
    Column("lead_id", String(32), nullable=False),
)

returned_mqls = Table(
    "returned_mqls",
    metadata,
    Column("lead_id", String(32), primary_key=True),
    Column("rejected_at", DateTime, nullable=False),
    Column("rejected_by", String(120), nullable=False),
    Column("reason", Text, nullable=False),
    Column("owner", String(120), nullable=False),
    Index("ix_returned_mqls_owner", "owner", "rejected_at"),
)

LAST = "last"


class TasksProjection(Projection):
    name = "tasks"
    tables = (lead_tasks, round_robin_turns, returned_mqls)

    def process(self, conn: Connection, events: list[Positioned]) -> None:
        returned: set[str] | None = None
        for _, e in events:
            if isinstance(e, Task.Event):
                self._task(conn, e)
            elif isinstance(e, Lead.Event):
                if returned is None:
                    # Read once a batch: most lead events (every stage change) concern a lead
                    # that is not in the returned list, and need no statement at all.
                    returned = set(conn.scalars(select(returned_mqls.c.lead_id)))
                self._lead(conn, e, returned)

    def _task(self, conn: Connection, e: Any) -> None:
        key = e.originator_id.hex
        row = lead_tasks.c.task_id == key
        values: dict[str, Any] = {"version": e.originator_version}
        if isinstance(e, Task.Created):
            conn.execute(delete(lead_tasks).where(row))  # a replay after a partial rebuild
            conn.execute(
                insert(lead_tasks).values(
                    task_id=key,
                    lead_id=UUID(e.lead_id).hex,
                    kind=e.kind,
                    title=(e.personal or {}).get("title", ""),
                    assignee=e.assignee,
                    due_at=to_db(e.due_at),
                    attempt=e.attempt,
                    status=TaskStatus.OPEN.value,
                    version=e.originator_version,
                    created_at=to_db(e.occurred_at),
                )
            )
            return
        if isinstance(e, Task.Assigned):
            values["assignee"] = e.assignee
        elif isinstance(e, Task.Completed):
            values |= {"status": TaskStatus.DONE.value, "closed_at": to_db(e.occurred_at)}
        elif isinstance(e, Task.Cancelled):
            values |= {"status": TaskStatus.CANCELLED.value, "closed_at": to_db(e.occurred_at)}
        elif isinstance(e, Task.Reopened):
            values |= {"status": TaskStatus.OPEN.value, "closed_at": None}
        conn.execute(update(lead_tasks).where(row).values(**values))

    def _lead(self, conn: Connection, e: Any, listed: set[str]) -> None:
        """``listed``: the leads in the returned list, kept up to date as the batch goes."""
        key = e.originator_id.hex
        if isinstance(e, Lead.MQLRejected):
            listed.add(key)
            conn.execute(delete(returned_mqls).where(_returned(key)))
            conn.execute(
                insert(returned_mqls).values(
                    lead_id=key,
                    rejected_at=to_db(e.occurred_at),
                    rejected_by=e.actor,
                    reason=(e.personal or {}).get("reason", ""),
                    owner="",
                )
            )
        elif isinstance(e, Lead.OwnerAssigned):
            if key in listed:
                conn.execute(update(returned_mqls).where(_returned(key)).values(owner=e.owner))
            if e.rule == ROUND_ROBIN:
                conn.execute(delete(round_robin_turns))
                conn.execute(insert(round_robin_turns).values(turn=LAST, owner=e.owner, lead_id=key))
        elif getattr(e, "to_stage", None) is not None:
            if key in listed:
                listed.discard(key)
                conn.execute(delete(returned_mqls).where(_returned(key)))
        elif isinstance(e, Lead.PersonalDataErased):
            if key in listed:
                conn.execute(update(returned_mqls).where(_returned(key)).values(reason=""))
            # the tasks' titles may name the person; erasure destroys the tasks' keys too
            conn.execute(update(lead_tasks).where(lead_tasks.c.lead_id == key).values(title=""))


def _returned(key: str) -> ColumnElement[bool]:
    """The lead's row in the returned list: built only when a statement needs it, as an
    SQL expression per event was most of a catch-up's time (bench/catchup.py)."""
    return returned_mqls.c.lead_id == key
