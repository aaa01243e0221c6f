"""The daily loop in the demo data: a round-robin rule (returns to demo-marketing), and
a few fresh MQLs the rules hand to demo-sales with their follow-up tasks, plus a
reminder already overdue, so a newcomer sees Mis tareas filled; and their notifications
already sent to the local mailbox, so the bell and "Correo enviado" are not empty."""

from datetime import datetime, timedelta
from pathlib import Path

from domain.vocabulary import Stage
from smarketing.bootstrap import Services
from smarketing.notifications import outbox, preferences
from smarketing.notifications.loop import build_sender, turn
from smarketing.notifications.transport import MailboxTransport
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
            # The command runs the loop: the rule assigns it, its follow-up task opens.
            svc.app.change_stage(lead_id, to_stage=Stage.MQL.value, occurred_at=at)
        if svc.app.get_lead(lead_id)["owner"]:
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


def demo_mail(svc: Services, usernames: list[str], mailbox: Path) -> int:
    """Give the demo users a (.invalid) address for every kind of notice and deliver what
    the outbox holds to the local mailbox, never to an SMTP server even if one is set:
    the demo's addresses are made up. The e-mails sent."""
    for username in usernames:
        preferences.save(
            svc.write_engine,
            username,
            email=f"{username}@demo.invalid",
            language="es",
            enabled=set(outbox.KINDS),
        )
    svc.projector.catch_up()
    # The mailbox even when SMTP is configured: the demo's addresses are made up.
    sender = build_sender(svc, mailbox, transport=MailboxTransport(mailbox))
    return turn(svc, sender)[1].sent
