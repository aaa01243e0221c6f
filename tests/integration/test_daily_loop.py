"""The daily loop on both backends: MQLs assigned by the rules (round robin, away users
skipped), rejected MQLs back to marketing, and the SLA follow-up tasks; each run by the
application's own commands (the after-change hook), not called by the test."""

from datetime import UTC, datetime

from domain.actor import SYSTEM_ACTOR
from domain.task import TaskStatus
from projections.queries.tasks_query import lead_task_rows, returned_list
from smarketing.bootstrap import Services
from smarketing.service import away, daily_loop, users

RULES_RR = [{"by": "round_robin"}]


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def add_user(svc: Services, name: str, role: str = "sales") -> None:
    users.create_user(svc.write_engine, actor="test", username=name, role=role, password="password-123")


def new_mql(svc: Services, n: int, when: str, source: str = "webinar") -> str:
    lead_id = svc.app.capture_lead(
        name=f"L{n}", email=f"l{n}@example.org", source=source, occurred_at=at(when)
    )
    svc.app.change_stage(lead_id, to_stage="MQL", occurred_at=at(when))  # runs the loop
    return lead_id


def test_three_sales_users_get_successive_mqls_in_turn(services: Services) -> None:
    for name in ("carla", "ana", "bea"):
        add_user(services, name)
    daily_loop.set_assignment_rules(services, RULES_RR, occurred_at=at("2024-06-03T08:00"))
    owners = [services.app.get_lead(new_mql(services, n, "2024-06-03T09:00"))["owner"] for n in range(5)]
    assert owners == ["ana", "bea", "carla", "ana", "bea"]
    events = services.app.lead_events(new_mql(services, 9, "2024-06-03T10:00"))
    assigned = [e for e in events if type(e).__name__ == "OwnerAssigned"]
    assert [(e.owner, e.actor, e.rule) for e in assigned] == [("carla", SYSTEM_ACTOR, "round_robin")]


def test_an_away_user_is_skipped_and_a_named_rule_wins(services: Services) -> None:
    for name in ("ana", "bea", "carla"):
        add_user(services, name)
    away.set_away(services.write_engine, actor="test", username="bea", away=True)
    rules = [{"by": "source", "value": "Fair", "user": "carla"}, {"by": "round_robin"}]
    daily_loop.set_assignment_rules(services, rules, occurred_at=at("2024-06-03T08:00"))
    owners = [services.app.get_lead(new_mql(services, n, "2024-06-03T09:00"))["owner"] for n in range(3)]
    assert owners == ["ana", "carla", "ana"]
    assert services.app.get_lead(new_mql(services, 7, "2024-06-03T09:00", source="fair"))["owner"] == "carla"


def test_no_rules_no_assignment(services: Services) -> None:
    add_user(services, "ana")
    lead_id = new_mql(services, 1, "2024-06-03T09:00")
    assert services.app.get_lead(lead_id)["owner"] == ""


def test_follow_up_task_due_at_the_business_hours_deadline_then_attempts(services: Services) -> None:
    add_user(services, "ana")
    daily_loop.set_assignment_rules(services, RULES_RR, occurred_at=at("2024-06-03T08:00"))
    services.app.set_target("2024-06", "follow_up_hours", "4", occurred_at=at("2024-06-03T08:00"))
    services.app.set_target("2024-06", "attempts_per_mql", "2", occurred_at=at("2024-06-03T08:00"))
    calendar = {"timezone": "UTC", "workdays": [0, 1, 2, 3, 4], "opens": "09:00", "closes": "18:00",
                "nights_count": False, "weekends_count": False}  # fmt: skip
    services.app.set_terms("calendar", calendar, occurred_at=at("2024-06-03T08:00"))
    lead_id = new_mql(services, 1, "2024-06-07T17:00")  # a Friday, one hour before closing
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        (task,) = lead_task_rows(conn, lead_id)
    assert (task["kind"], task["assignee"], task["status"]) == ("follow_up", "ana", "open")
    assert task["due_at"] == at("2024-06-10T12:00")  # Friday's last hour + Monday 9-12
    services.app.log_contact_attempt(
        lead_id, channel="phone", outcome="no_answer", occurred_at=at("2024-06-10T10:00")
    )
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        first, second = lead_task_rows(conn, lead_id)
    assert (first["status"], second["status"], second["kind"]) == (
        TaskStatus.DONE,
        TaskStatus.OPEN,
        "attempt",
    )
    assert second["due_at"] == at("2024-06-14T17:00")  # entry + the 7-day window (2 attempts)
    services.app.log_contact_attempt(
        lead_id, channel="phone", outcome="connected", occurred_at=at("2024-06-11T10:00")
    )
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        assert [t["status"] for t in lead_task_rows(conn, lead_id)] == ["done", "done"]


def test_a_rejected_mql_goes_to_marketing_until_recycled(services: Services) -> None:
    add_user(services, "ana")
    add_user(services, "marta", role="marketing")
    daily_loop.set_assignment_rules(
        services, RULES_RR, returns_to="marta", occurred_at=at("2024-06-03T08:00")
    )
    lead_id = new_mql(services, 1, "2024-06-03T09:00")
    services.app.reject_mql(lead_id, reason="no budget", occurred_at=at("2024-06-04T09:00"))
    assert services.app.get_lead(lead_id)["owner"] == "marta"
    with services.read_engine.connect() as conn:
        (row,) = returned_list(conn)
        assert (row["owner"], row["reason"], row["rejected_at"]) == (
            "marta",
            "no budget",
            at("2024-06-04T09:00"),
        )
        assert [t["status"] for t in lead_task_rows(conn, lead_id)] == ["cancelled"]
    services.app.change_stage(
        lead_id, to_stage="Disqualified", reason="recycle later", occurred_at=at("2024-06-05T09:00")
    )
    services.app.change_stage(
        lead_id, to_stage="Recycled", reason="nurture", occurred_at=at("2024-06-05T09:01")
    )
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        assert returned_list(conn) == []


def test_a_rejection_without_rules_lists_the_owner_the_lead_list_shows(services: Services) -> None:
    lead_id = new_mql(services, 1, "2024-06-03T09:00")  # no rules: nobody assigned by the loop
    services.app.assign_owner(lead_id, owner="lucia", team="sales", occurred_at=at("2024-06-03T10:00"))
    services.app.reject_mql(lead_id, reason="no budget", occurred_at=at("2024-06-04T09:00"))
    daily_loop.return_to_marketing(services, lead_id)  # no rule names a marketing user
    services.projector.catch_up()
    with services.read_engine.connect() as conn:
        (row,) = returned_list(conn)
    assert row["owner"] == services.app.get_lead(lead_id)["owner"] == "lucia"
