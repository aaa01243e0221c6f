"""The daily loop's must-show, mailed through a real SMTP server (aiosmtpd) on both
backends: three MQLs go round robin to three sales users, each gets exactly one
e-mail; past the first MQL's follow-up deadline its owner gets exactly one overdue
e-mail, with the SMTP server down for a while and the sender restarted. The clock is
the test's (the session's plus what the test moves), never the wall clock's hour."""

from collections.abc import Iterator
from datetime import timedelta

import pytest

from smarketing.bootstrap import Services
from smarketing.notifications.loop import turn
from smarketing.service import daily_loop
from tests.integration.test_notifications import Clock, Smtp, person, sender_for

OVERDUE = "Follow-up overdue: "


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp()
    server.start()
    yield server
    server.stop()


def subjects(smtp: Smtp, to: str) -> list[str]:
    return [str(m["Subject"]) for m in smtp.to(to)]


def test_round_robin_mqls_mail_each_owner_once_then_one_overdue(services: Services, smtp: Smtp) -> None:
    clock = Clock()
    # Off: the weekly pack's notice depends on the day the suite runs (Monday 08:00 on).
    mail = {name: person(services, name, "sales", meeting_pack=False) for name in ("ana", "bea", "carla")}
    daily_loop.set_assignment_rules(
        services, [{"by": "round_robin"}], occurred_at=clock() - timedelta(days=1)
    )
    # The first MQL entered 12 hours before the others: only its deadline (the default
    # SLA, 24 hours, every hour counts) passes when the clock moves 12½ hours.
    entries = [clock() - timedelta(hours=12), clock(), clock()]
    leads = []
    for n, entered in enumerate(entries):
        lead_id = services.app.capture_lead(
            name=f"Cliente {n}", email=f"cliente{n}@example.org", source="webinar", occurred_at=entered
        )
        services.app.change_stage(lead_id, to_stage="MQL", occurred_at=entered)  # the loop assigns it
        leads.append(lead_id)
    assert [services.app.get_lead(lead)["owner"] for lead in leads] == ["ana", "bea", "carla"]
    services.projector.catch_up()
    sender = sender_for(services, smtp, clock)
    assert sender.run_once().sent == 3
    assert sender.run_once().sent == 0
    for n, name in enumerate(("ana", "bea", "carla")):
        assert subjects(smtp, mail[name]) == [f"Lead assigned to you: Cliente {n}"]

    smtp.stop()  # down while the deadline passes and the sender tries
    clock.move(timedelta(hours=12, minutes=30))
    _, down = turn(services, sender)
    assert down.sent == 0 and down.failed >= 1
    smtp.start()
    clock.move(timedelta(minutes=5))  # past the retry's back-off
    restarted = sender_for(services, smtp, clock)  # the sender killed and started again
    turn(services, restarted)
    turn(services, restarted)
    turn(services, sender_for(services, smtp, clock))
    overdue = [s for s in subjects(smtp, mail["ana"]) if s.startswith(OVERDUE)]
    assert overdue == [f"{OVERDUE}Cliente 0"]
    for name in ("bea", "carla"):  # their deadlines are still 11 hours away
        assert [s for s in subjects(smtp, mail[name]) if s.startswith(OVERDUE)] == []
        assert len(smtp.to(mail[name])) == 1
