"""The daily loop's service flow: who gets a new MQL, where a rejected one goes, and
the SLA's follow-up tasks. Run after every lead command the application saves
(``after_lead_action``, the hook ``smarketing.bootstrap`` gives the application), so
the web, the API, the CLI and the scoring rule all run it; bulk imports never do. Each
step is its own event on its own aggregate, recorded by the system actor ("system")
when a rule, not a person, decided it.

Terms are read as they stood at the lead's business time (``sla_in_force`` at the
MQL's entry), so an imported or back-dated MQL gets the deadline of its day; the
deadline itself is ``domain.business_hours.deadline``, the follow-up clock's.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from sqlalchemy import select

from domain.actor import SYSTEM_ACTOR, current_actor
from domain.agreement import AgreementConflict, SLAAgreement, agreement_id
from domain.assignment import choose_owner, rules_of
from domain.business_hours import deadline
from domain.errors import N_, InvalidInput, LeadNotFound, LostRace
from domain.task import Task, TaskKind, TaskStatus, sla_task_id
from domain.validation import utc_now
from domain.vocabulary import Stage, Team
from projections.models.tasks import lead_tasks, round_robin_turns
from smarketing.service.away import available_sales
from smarketing.service.sla_terms import SLAInForce, sla_in_force

if TYPE_CHECKING:  # the composition root imports this module to wire the hook
    from smarketing.bootstrap import Services

RETURNS_RULE = "returns_to"
MAX_ATTEMPT_TASKS = 20


@contextmanager
def acting_as(actor: str) -> Iterator[None]:
    token = current_actor.set(actor)
    try:
        yield
    finally:
        current_actor.reset(token)


def after_lead_action(svc: "Services", lead_id: str, action: str, fields: dict[str, Any]) -> None:
    """The loop's part after a lead command was saved (``use_after_lead_change``). It runs
    with the hook held, so its own ``assign_owner`` does not start it again."""
    if action == "stage" and fields.get("to_stage") == Stage.MQL:
        route_new_mql(svc, lead_id)
    elif action == "owner":
        follow_up(svc, lead_id)
    elif action == "reject":
        return_to_marketing(svc, lead_id)
    elif action == "attempt":
        attempt_logged(svc, lead_id, fields.get("occurred_at") or utc_now())
    elif action in ("stage", "won", "lost"):
        # Moved on from MQL (accepted, won, lost, disqualified): the follow-up is moot.
        end_sla_tasks(svc, lead_id, "The lead left MQL")


def set_assignment_rules(
    svc: "Services", rules: list[dict[str, Any]], returns_to: str = "", occurred_at: datetime | None = None
) -> int:
    """Replace the assignment rules (``SLAAgreement.AssignmentRulesSet``); the agreement's version."""
    for attempt in range(2):
        agreement = svc.app.peek(agreement_id())
        agreement = svc.app.repository.get(agreement_id()) if agreement else SLAAgreement.start(occurred_at)
        agreement.set_assignment_rules(rules, returns_to, occurred_at)
        try:
            svc.app.save(agreement)
        except IntegrityError:
            if attempt:
                raise AgreementConflict(
                    N_("Someone else changed the SLA agreement at the same moment; try again.")
                ) from None
            continue
        return int(agreement.version)
    raise AssertionError("unreachable")


def assignment_rules(svc: "Services") -> tuple[list[dict[str, str]], str]:
    agreement = svc.app.peek(agreement_id())
    return list(getattr(agreement, "assignment_rules", []) or []), getattr(agreement, "returns_to", "") or ""


def route_new_mql(svc: "Services", lead_id: str) -> str | None:
    """Assign an MQL without owner by the rules (if any), then its follow-up task; the owner."""
    lead = _lead(svc, lead_id)
    if lead["stage"] != Stage.MQL:
        return None
    rules, _ = assignment_rules(svc)
    if not lead["owner"] and rules:
        svc.projector.catch_up()  # the round robin's last turn, as the log has it
        with svc.read_engine.connect() as conn:
            last = conn.scalar(select(round_robin_turns.c.owner)) or ""
        chosen = choose_owner(rules_of(rules), lead, available_sales(svc.write_engine), last)
        if chosen is None:
            return None
        owner, rule = chosen
        with acting_as(SYSTEM_ACTOR):
            svc.app.assign_owner(
                lead_id,
                owner=owner,
                team=Team.SALES.value,
                rule=rule.key,
                occurred_at=lead["stage_entered_at"],
            )
        svc.projector.catch_up()
    follow_up(svc, lead_id)
    return str(_lead(svc, lead_id)["owner"])


def _lead(svc: "Services", lead_id: str) -> dict[str, Any]:
    """The lead as the command that runs the loop just saved it: from this process's
    cache when it is there, so the loop adds no read of the lead's events to a command
    (tests/integration/test_last_seen_decisions.py); else from the log."""
    lead = svc.app.peek(UUID(str(lead_id)))
    if lead is None:
        return svc.app.get_lead(lead_id)  # LeadNotFound
    return dict(lead.as_dict())


def sla_at(svc: "Services", at: datetime) -> SLAInForce:
    with svc.read_engine.connect() as conn:
        return sla_in_force(conn, at, svc.settings.tz)


def follow_up(svc: "Services", lead_id: str) -> None:
    """An owned MQL has its follow-up task (attempt 1), due at the SLA deadline after the
    MQL's entry, held by the owner; a new owner takes the open SLA task over."""
    lead = _lead(svc, lead_id)
    if lead["stage"] != Stage.MQL or not lead["owner"]:
        return
    entered: datetime = lead["stage_entered_at"]
    for attempt in range(1, MAX_ATTEMPT_TASKS + 1):
        task = svc.app.peek(_task_id(lead, attempt))
        if task is None:
            break
        if task.is_open:
            if task.assignee != lead["owner"]:
                task = svc.app.repository.get(task.id)
                task.assign(lead["owner"])
                _save(svc, task)
            return
    else:
        return
    if attempt > 1:
        return  # every SLA task so far is closed: the cadence is done or was closed by hand
    sla = sla_at(svc, entered)
    task = Task.create(
        _task_id(lead, 1),
        lead_id=lead_id,
        title="Follow-up",
        assignee=lead["owner"],
        due_at=deadline(entered, sla.follow_up_hours, sla.calendar),
        kind=TaskKind.FOLLOW_UP.value,
        attempt=1,
        occurred_at=max(entered, lead["last_activity_at"]),
    )
    _save(svc, task)


def attempt_logged(svc: "Services", lead_id: str, at: datetime) -> None:
    """A contact attempt completes the open SLA task and, below the cadence, opens the next:
    attempt n of N due at the MQL's entry plus (n-1)/(N-1) of the attempts window."""
    lead = _lead(svc, lead_id)
    if lead["stage"] != Stage.MQL:
        return
    for attempt in range(1, MAX_ATTEMPT_TASKS + 1):
        found = svc.app.peek(_task_id(lead, attempt))
        if found is None:
            return
        if found.is_open:
            break
    else:
        return
    task: Task = svc.app.repository.get(found.id)
    with acting_as(SYSTEM_ACTOR):
        task.complete(note="contact attempt", occurred_at=at)
        _save(svc, task)
        sla = sla_at(svc, lead["stage_entered_at"])
        if attempt >= sla.attempts_per_mql or attempt >= MAX_ATTEMPT_TASKS:
            return
        share = attempt / max(sla.attempts_per_mql - 1, 1)
        _save(
            svc,
            Task.create(
                _task_id(lead, attempt + 1),
                lead_id=lead_id,
                title="Contact attempt",
                assignee=lead["owner"] or task.assignee,
                due_at=lead["stage_entered_at"] + timedelta(days=sla.window_days * share),
                kind=TaskKind.ATTEMPT.value,
                attempt=attempt + 1,
                occurred_at=at,
            ),
        )


def return_to_marketing(svc: "Services", lead_id: str) -> None:
    """A rejected MQL goes to the marketing user the rules name; its open SLA tasks end."""
    _, returns_to = assignment_rules(svc)
    lead = _lead(svc, lead_id)
    with acting_as(SYSTEM_ACTOR):
        if returns_to and returns_to != lead["owner"]:
            svc.app.assign_owner(
                lead_id,
                owner=returns_to,
                team=Team.MARKETING.value,
                rule=RETURNS_RULE,
                occurred_at=lead["stage_entered_at"],
            )
        end_sla_tasks(svc, lead_id, "MQL rejected")


def end_sla_tasks(svc: "Services", lead_id: str, reason: str) -> None:
    """Cancel the lead's open SLA tasks (follow-up, next attempt) as of its latest stage
    change; tasks made by hand stay for their owner to close."""
    lead = _lead(svc, lead_id)
    svc.projector.catch_up()
    with svc.read_engine.connect() as conn:
        open_ids = list(
            conn.scalars(
                select(lead_tasks.c.task_id).where(
                    lead_tasks.c.lead_id == UUID(lead_id).hex,
                    lead_tasks.c.status == TaskStatus.OPEN.value,
                    lead_tasks.c.kind != TaskKind.MANUAL.value,
                )
            )
        )
    with acting_as(SYSTEM_ACTOR):
        for task_id in open_ids:
            task: Task = svc.app.repository.get(UUID(task_id))
            task.cancel(reason=reason, occurred_at=lead["stage_entered_at"])
            _save(svc, task)
    svc.projector.catch_up()


def _task_id(lead: dict[str, Any], attempt: int) -> UUID:
    return sla_task_id(lead["id"], lead["stage_entered_at"].isoformat(), attempt)


def _save(svc: "Services", task: Task) -> None:
    try:
        svc.app.save(task)
    except IntegrityError:
        pass  # the same SLA task, created by a concurrent run of this step: already there


# --- tasks by hand ------------------------------------------------------------


def create_task(svc: "Services", lead_id: str, *, title: str, assignee: str, due_at: datetime | None) -> str:
    """A manual task on an existing lead; its id."""
    lead = svc.app.get_lead(lead_id)  # LeadNotFound for an unknown lead
    if due_at is None:
        raise InvalidInput("due_at", N_("is required"))
    task = Task.create(uuid4(), lead_id=lead["id"], title=title, assignee=assignee, due_at=due_at)
    svc.app.save(task)
    return str(task.id)


def change_task(svc: "Services", task_id: str, action: str, text: str = "") -> str:
    """complete | cancel | reopen | assign (``text``: the new assignee); the task's lead id."""
    try:
        task: object = svc.app.repository.get(UUID(task_id))
    except (ValueError, AggregateNotFoundError):
        task = None
    if not isinstance(task, Task):
        raise LeadNotFound(N_("No task with id %(id)s."), id=repr(task_id[:40]))
    if action == "complete":
        task.complete(note=text)
    elif action == "cancel":
        task.cancel(reason=text)
    elif action == "reopen":
        task.reopen()
    elif action == "assign":
        task.assign(text)
    else:
        raise InvalidInput("action", N_("unknown task action: %(action)s"), action=action[:40])
    try:
        svc.app.save(task)
    except IntegrityError:
        raise LostRace(
            N_("Someone else changed this task at the same moment; reload and try again.")
        ) from None
    return task.lead_id
