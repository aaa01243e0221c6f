"""The daily loop runs after the application's own commands, whoever calls them: an MQL
promoted through the JSON API (the scoring rule's change_stage) is assigned by the round
robin and gets its follow-up task, a contact attempt logged outside the lead page
completes it, and the loop's own assign_owner does not start the loop again."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from domain.actor import SYSTEM_ACTOR
from domain.agreement_terms import DEFAULTS, SCORING
from projections.queries.tasks_query import lead_task_rows
from smarketing.bootstrap import Services
from smarketing.extensions import KEY
from smarketing.service import daily_loop, integrations, users
from smarketing.web.core.factory import create_app

RULES_RR = [{"by": "round_robin"}]
SALES = ("carla", "ana", "bea")


@pytest.fixture
def app(services: Services) -> Iterator[Flask]:
    app = create_app({"DATABASE_URL": services.settings.database_url, "TESTING": True})
    yield app
    app.extensions[KEY].close()


@pytest.fixture
def looped(services: Services) -> Services:
    for name in SALES:
        users.create_user(
            services.write_engine, actor="test", username=name, role="sales", password="password-123"
        )
    daily_loop.set_assignment_rules(services, RULES_RR)
    return services


def assignments(svc: Services, lead_id: str) -> list[tuple[str, str, str]]:
    events = svc.app.lead_events(lead_id)
    return [(e.owner, e.actor, e.rule) for e in events if type(e).__name__ == "OwnerAssigned"]


def tasks(svc: Services, lead_id: str) -> list[tuple[str, str, str]]:
    svc.projector.catch_up()
    with svc.read_engine.connect() as conn:
        return [(t["kind"], t["assignee"], t["status"]) for t in lead_task_rows(conn, lead_id)]


def test_an_mql_promoted_through_the_api_is_assigned_and_followed_up(app: Flask, looped: Services) -> None:
    points = dict(DEFAULTS[SCORING]["points"]) | {"meeting": 25}
    looped.app.set_terms(
        "scoring", {"points": points, "half_life_days": 30, "threshold": 1, "mode": "auto_promote"}
    )
    token = integrations.create_token(looped.write_engine, "website")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    lead = {"name": "Ana Ruiz", "email": "ana.ruiz@example.com", "source": "web_form"}
    lead_id = client.post("/api/v1/leads", json=lead, headers=headers).json["id"]
    answer = client.post(f"/api/v1/leads/{lead_id}/interactions", json={"kind": "meeting"}, headers=headers)
    assert answer.status_code == 201, answer.json
    assert looped.app.get_lead(lead_id)["stage"] == "MQL"  # the scoring rule promoted it
    assert assignments(looped, lead_id) == [("ana", SYSTEM_ACTOR, "round_robin")]
    assert tasks(looped, lead_id) == [("follow_up", "ana", "open")]
    # A contact attempt outside the lead page (the service call the API and CLI make).
    looped.app.log_contact_attempt(
        lead_id, channel="phone", outcome="connected", occurred_at=datetime.now(UTC)
    )
    assert tasks(looped, lead_id)[0] == ("follow_up", "ana", "done")


def test_the_loop_does_not_run_itself_again_nor_twice(looped: Services) -> None:
    lead_id = looped.app.capture_lead(name="Bo", email="bo@example.com", source="seo")
    looped.app.change_stage(lead_id, to_stage="MQL")
    assert assignments(looped, lead_id) == [("ana", SYSTEM_ACTOR, "round_robin")]
    assert tasks(looped, lead_id) == [("follow_up", "ana", "open")]
    # A person reassigns: the open task follows the new owner, no rule assigns again.
    looped.app.assign_owner(lead_id, owner="carla", team="sales")
    assert [owner for owner, _, _ in assignments(looped, lead_id)] == ["ana", "carla"]
    assert tasks(looped, lead_id) == [("follow_up", "carla", "open")]
    assert daily_loop.route_new_mql(looped, lead_id) == "carla"  # run again: nothing new
    assert len(assignments(looped, lead_id)) == 2 and len(tasks(looped, lead_id)) == 1


def test_commands_with_the_hook_held_leave_the_loop_alone(looped: Services) -> None:
    """As imports and the demo's history do (they never run the loop)."""
    lead_id = looped.app.capture_lead(name="Cy", email="cy@example.com", source="seo")
    with looped.app.lead_hook_held():
        looped.app.change_stage(lead_id, to_stage="MQL")
    assert assignments(looped, lead_id) == [] and tasks(looped, lead_id) == []


@pytest.mark.parametrize("move_on", ["accepted", "won", "disqualified"])
def test_a_lead_that_leaves_mql_ends_its_follow_up(looped: Services, move_on: str) -> None:
    """Accepted by sales, won straight from MQL, disqualified: the SLA follow-up
    no longer applies, so it is cancelled, not left open (nor counted as done); a task
    made by hand stays for its owner."""
    lead_id = looped.app.capture_lead(name="Di", email="di@example.com", source="seo")
    looped.app.change_stage(lead_id, to_stage="MQL")
    daily_loop.create_task(
        looped,
        lead_id,
        title="Send the brochure",
        assignee="ana",
        due_at=datetime.now(UTC) + timedelta(days=2),
    )
    if move_on == "accepted":
        looped.app.change_stage(lead_id, to_stage="SQL")
    elif move_on == "won":
        looped.app.mark_won(lead_id, amount="1200", reason="signed")
    else:
        looped.app.change_stage(lead_id, to_stage="Disqualified", reason="not a fit")
    assert sorted(tasks(looped, lead_id)) == [("follow_up", "ana", "cancelled"), ("manual", "ana", "open")]
