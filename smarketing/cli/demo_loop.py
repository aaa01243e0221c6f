"""The daily loop in the demo data: a round-robin rule (returns to demo-marketing), and
a few fresh MQLs the rules hand to demo-sales with their follow-up tasks, plus a
reminder already overdue, so a newcomer sees Mis tareas filled."""

from datetime import datetime, timedelta

from domain.vocabulary import Stage
from smarketing.bootstrap import Services
from smarketing.service import daily_loop
from smarketing.service.daily_loop import acting_as

FRESH_MQLS = (
    ("Lucía Ferrer", "lucia.ferrer@demo.invalid", "webinar", 3),
    ("Tomás Vidal", "tomas.vidal@demo.invalid", "seo", 20),
    ("Irene Soler", "irene.soler@demo.invalid", "paid_search", 50),
)


def demo_loop(svc: Services, now: datetime) -> int:
    """Record the rules and the fresh MQLs (hours before ``now``); the tasks created."""
    daily_loop.set_assignment_rules(
        svc, [{"by": "round_robin"}], returns_to="demo-marketing", occurred_at=now - timedelta(days=1)
    )
    tasks = 0
    for name, email, source, hours_ago in FRESH_MQLS:
        at = now - timedelta(hours=hours_ago)
        with acting_as("demo-marketing"):
            lead_id = svc.app.capture_lead(name=name, email=email, source=source, occurred_at=at)
            svc.app.change_stage(lead_id, to_stage=Stage.MQL.value, occurred_at=at)
        if daily_loop.route_new_mql(svc, lead_id):
            tasks += 1
    if tasks:
        with acting_as("demo-manager"):
            daily_loop.create_task(
                svc,
                lead_id,
                title="Enviar la propuesta revisada",
                assignee="demo-sales",
                due_at=now - timedelta(hours=2),
            )
        tasks += 1
    svc.projector.catch_up()
    return tasks
