"""The daily loop's domain rules: who gets an MQL, the task's life, and an owner
assignment stored before assignment rules existed (v1) read back without a rule."""

import json
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent

from domain.agreement import SLAAgreement
from domain.assignment import ROUND_ROBIN, Rule, choose_owner, clean_rules, next_in_turn, rules_of
from domain.errors import InvalidInput
from domain.lead import Lead
from domain.task import Task, TaskKind, sla_task_id
from smarketing.service.application import SmarketingApplication

T0 = datetime(2024, 6, 3, 9, tzinfo=UTC)
LEAD = {"source": "webinar", "campaign": "spring", "persona": "cfo"}


def test_round_robin_takes_the_next_name_after_the_last_and_wraps() -> None:
    assert next_in_turn(["carla", "ana", "bea"], "") == "ana"
    assert next_in_turn(["carla", "ana", "bea"], "ana") == "bea"
    assert next_in_turn(["carla", "ana", "bea"], "carla") == "ana"
    assert next_in_turn(["ana", "carla"], "bea") == "carla"  # bea away: her turn passes on
    assert next_in_turn([], "ana") is None


def test_the_first_matching_rule_with_an_available_user_decides() -> None:
    rules = rules_of(clean_rules([
        {"by": "campaign", "value": "Spring", "user": "bea"},
        {"by": "source", "value": "webinar", "user": "carla"},
        {"by": "round_robin"},
    ]))  # fmt: skip
    assert choose_owner(rules, LEAD, ["ana", "bea", "carla"], "") == ("bea", rules[0])
    assert choose_owner(rules, LEAD, ["ana", "carla"], "") == ("carla", rules[1])  # bea away
    assert choose_owner(rules, {"source": "fair"}, ["ana", "carla"], "ana") == ("carla", Rule(ROUND_ROBIN))
    assert choose_owner(rules, LEAD, [], "") is None
    assert choose_owner([], LEAD, ["ana"], "") is None  # no rules: nobody is assigned
    assert rules[1].key == "source=webinar"


def test_bad_rules_are_refused() -> None:
    with pytest.raises(InvalidInput):
        clean_rules([{"by": "country", "value": "es", "user": "ana"}])
    with pytest.raises(InvalidInput):
        clean_rules([{"by": "source", "value": "webinar", "user": ""}])


def test_rules_set_on_the_agreement_and_the_same_again_refused() -> None:
    agreement = SLAAgreement.start(T0)
    agreement.set_assignment_rules([{"by": "round_robin"}], "marta", T0)
    assert (agreement.assignment_rules, agreement.returns_to) == (
        [{"by": ROUND_ROBIN, "value": "", "user": ""}],
        "marta",
    )
    with pytest.raises(InvalidInput):
        agreement.set_assignment_rules([{"by": "round_robin"}], "marta", T0)


def test_a_task_completes_cancels_and_reopens_once_each_way() -> None:
    task = Task.create(uuid4(), lead_id=str(uuid4()), title="Call", assignee="ana", due_at=T0, occurred_at=T0)
    task.complete(occurred_at=T0)
    with pytest.raises(InvalidInput):
        task.cancel(occurred_at=T0)
    task.reopen(occurred_at=T0)
    with pytest.raises(InvalidInput):
        task.reopen(occurred_at=T0)
    task.assign("bea", occurred_at=T0)
    task.cancel(reason="duplicate", occurred_at=T0)
    assert (task.status, task.assignee, task.kind) == ("cancelled", "bea", TaskKind.MANUAL)
    with pytest.raises(InvalidInput):
        Task.create(uuid4(), lead_id="x", title=" ", assignee="ana", due_at=T0)


def test_sla_task_ids_are_deterministic() -> None:
    lead_id = uuid4()
    assert sla_task_id(lead_id, T0.isoformat(), 1) == sla_task_id(str(lead_id), T0.isoformat(), 1)
    assert sla_task_id(lead_id, T0.isoformat(), 1) != sla_task_id(lead_id, T0.isoformat(), 2)


def test_an_owner_assignment_stored_as_v1_reads_with_no_rule() -> None:
    transcoder = SmarketingApplication().mapper.transcoder
    assert isinstance(transcoder, JSONTranscoder)
    mapper: Mapper = Mapper(transcoder=transcoder)
    lead = Lead.capture(uuid4(), name="Ana", email="a@example.org", source="webinar", occurred_at=T0)
    lead.assign_owner("ana", "sales", occurred_at=T0, rule="round_robin")
    stored = mapper.to_stored_event(lead.collect_events()[-1])
    state = json.loads(stored.state)
    del state["rule"]
    state["class_version"] = 1
    old = StoredEvent(
        stored.originator_id, stored.originator_version, stored.topic, json.dumps(state).encode()
    )
    event = mapper.to_domain_event(old)
    assert isinstance(event, Lead.OwnerAssigned)
    assert (event.owner, event.rule) == ("ana", "")
