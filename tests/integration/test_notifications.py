"""Notifications end to end on both backends, with a real SMTP server (aiosmtpd)
in the test process and a clock the test moves: no wall-clock hour or zone matters,
only durations from the events' own times."""

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import default
from pathlib import Path
from uuid import UUID

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message as MessageHandler

from smarketing.bootstrap import Services
from smarketing.notifications import outbox, preferences
from smarketing.notifications.loop import turn
from smarketing.notifications.scheduler import schedule_meeting_pack
from smarketing.notifications.sender import Sender
from smarketing.notifications.transport import MailboxTransport, SmtpTransport
from smarketing.service import users

T = outbox.outbox


class Inbox(MessageHandler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[EmailMessage] = []

    def handle_message(self, message: Message) -> None:
        # Parsed again with the modern policy: headers and body decoded as a reader sees them.
        parsed = message_from_bytes(message.as_bytes(), policy=default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Smtp:
    """An SMTP server that can be stopped and started again on the same port."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.inbox.messages if m["To"] == address]


class Clock:
    """The session's clock (SMARKETING_TEST_NOW moves it) plus what the test added:
    events are recorded at the session's time, and every later moment is a duration
    after it."""

    def __init__(self) -> None:
        self.ahead = timedelta(0)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.ahead

    def move(self, by: timedelta) -> None:
        self.ahead += by


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def sender_for(services: Services, smtp: Smtp, clock: Clock) -> Sender:
    return Sender(
        outbox_engine=services.projector.engine,
        users_engine=services.write_engine,
        read_engine=services.read_engine,
        transport=SmtpTransport(f"smtp://127.0.0.1:{smtp.port}"),
        mail_from="smarketing@example.org",
        base_url="http://smarketing.example.org",
        clock=clock,
    )


def person(services: Services, name: str, role: str, language: str = "en", **kinds: bool) -> str:
    users.create_user(services.write_engine, actor="test", username=name, role=role, password="x" * 12)
    enabled = {k for k in outbox.KINDS if kinds.get(k, True)}
    preferences.save(
        services.write_engine, name, email=f"{name}@example.org", language=language, enabled=enabled
    )
    return f"{name}@example.org"


def assigned_lead(services: Services, owner: str, minutes_ago: int = 0) -> str:
    lead_id = services.app.capture_lead(name="Ana Pérez", email="ana@example.org", source="webinar")
    services.app.assign_owner(lead_id, owner=owner, team="sales")
    services.projector.catch_up()
    return lead_id


def test_the_assignee_gets_one_email_however_often_the_sender_runs(
    services: Services, smtp: Smtp, clock: Clock
) -> None:
    to = person(services, "rep", "sales")
    lead_id = assigned_lead(services, "rep")
    sender = sender_for(services, smtp, clock)
    assert sender.run_once().sent == 1
    assert sender.run_once().sent == 0
    sender_for(services, smtp, clock).run_once()  # a restarted sender
    services.projector.catch_up()
    (mail,) = smtp.to(to)
    assert "Ana Pérez" in mail["Subject"]
    body = mail.get_content()
    assert f"http://smarketing.example.org/leads/{UUID(lead_id).hex}" in body
    assert "ana@example.org" not in mail.as_string()  # no more personal data than needed


def test_a_crash_between_claim_and_mark_sends_once_after_the_lease(
    services: Services, smtp: Smtp, clock: Clock
) -> None:
    to = person(services, "rep", "sales")
    assigned_lead(services, "rep")
    crashed = sender_for(services, smtp, clock)
    with services.projector.engine.connect() as conn:
        (id_,) = conn.execute(T.select().with_only_columns(T.c.id)).scalars()
    assert crashed.claim(id_) is not None  # claimed, then the process died
    restarted = sender_for(services, smtp, clock)
    assert restarted.run_once().sent == 0  # still leased to the dead sender
    clock.move(restarted.lease + timedelta(seconds=1))
    assert restarted.run_once().sent == 1
    assert restarted.run_once().sent == 0
    assert len(smtp.to(to)) == 1


def test_a_replayed_outbox_notifies_nobody_twice(services: Services, smtp: Smtp, clock: Clock) -> None:
    to = person(services, "rep", "sales")
    assigned_lead(services, "rep")
    sender_for(services, smtp, clock).run_once()
    services.projector.rebuild()  # every read model replayed from 0, the outbox too
    services.projector.catch_up()
    sender_for(services, smtp, clock).run_once()
    assert len(smtp.to(to)) == 1


def test_overdue_follow_up_mails_the_owner_once(services: Services, smtp: Smtp, clock: Clock) -> None:
    # The weekly pack's notice off: it depends on the day the suite runs (Monday 08:00 on).
    to = person(services, "rep", "sales", meeting_pack=False)
    lead_id = assigned_lead(services, "rep")
    services.app.change_stage(lead_id, to_stage="MQL", occurred_at=clock())
    services.projector.catch_up()
    sender = sender_for(services, smtp, clock)
    turn(services, sender)
    assert [m["Subject"] for m in smtp.to(to)] == ["Lead assigned to you: Ana Pérez"]
    clock.move(timedelta(hours=23, minutes=30))  # the default SLA: 24 hours, every hour counts
    turn(services, sender)
    clock.move(timedelta(hours=1))
    turn(services, sender)
    turn(services, sender_for(services, smtp, clock))  # restarted
    clock.move(timedelta(hours=2))
    turn(services, sender)
    subjects = [m["Subject"] for m in smtp.to(to)]
    assert subjects[1:] == ["Follow-up due within an hour: Ana Pérez", "Follow-up overdue: Ana Pérez"]


def test_smtp_down_loses_nothing_and_delivers_once_when_back(
    services: Services, smtp: Smtp, clock: Clock
) -> None:
    to = person(services, "rep", "sales")
    assigned_lead(services, "rep")
    smtp.stop()
    sender = sender_for(services, smtp, clock)
    first = sender.run_once()
    assert (first.sent, first.failed) == (0, 1)
    assert sender.run_once().failed == 0  # backing off: not tried again yet
    smtp.start()
    clock.move(timedelta(seconds=31))
    assert sender.run_once().sent == 1
    assert sender.run_once().sent == 0
    assert len(smtp.to(to)) == 1


def test_preferences_off_means_no_mail(services: Services, smtp: Smtp, clock: Clock) -> None:
    to = person(services, "rep", "sales", assigned=False)
    assigned_lead(services, "rep")
    done = sender_for(services, smtp, clock).run_once()
    assert (done.sent, done.skipped) == (0, 1)
    assert smtp.to(to) == []
    assert outbox.unread_count(services.projector.engine, "rep") == 1  # still listed in the app


def test_a_spanish_user_gets_spanish_mail(services: Services, smtp: Smtp, clock: Clock) -> None:
    to = person(services, "rep", "sales", language="es")
    assigned_lead(services, "rep")
    sender_for(services, smtp, clock).run_once()
    (mail,) = smtp.to(to)
    assert mail["Subject"] == "Lead asignado a ti: Ana Pérez"
    assert mail["Content-Language"] == "es"


def test_a_rejected_mql_goes_to_marketing(services: Services, smtp: Smtp, clock: Clock) -> None:
    marketer = person(services, "marketer", "marketing")
    rep = person(services, "rep", "sales")
    lead_id = assigned_lead(services, "rep")
    services.app.change_stage(lead_id, to_stage="MQL")
    services.app.reject_mql(lead_id, reason="not_a_fit")
    services.projector.catch_up()
    sender_for(services, smtp, clock).run_once()
    assert [m["Subject"] for m in smtp.to(marketer)] == ["MQL rejected back to marketing: Ana Pérez"]
    assert len(smtp.to(rep)) == 1  # the assignment only


def test_without_smtp_the_mail_lands_in_the_mailbox(services: Services, clock: Clock, tmp_path: Path) -> None:
    person(services, "rep", "sales")
    assigned_lead(services, "rep")
    sender = sender_for(services, Smtp(), clock)
    sender.transport = MailboxTransport(tmp_path / "mailbox")
    assert sender.run_once().sent == 1
    (eml,) = (tmp_path / "mailbox").glob("*.eml")
    assert message_from_bytes(eml.read_bytes())["To"] == "rep@example.org"


def test_imported_history_and_owners_who_are_not_users_notify_nobody(
    services: Services, smtp: Smtp, clock: Clock
) -> None:
    """An import records last year's assignments today (the Olist deals: 842 sellers'
    ids as owners, dated 2018): none of it is news, and a seller is not a user."""
    person(services, "rep", "sales")
    last_year = clock() - timedelta(days=365)
    old = services.app.capture_lead(
        name="Old", email="old@example.org", source="webinar", occurred_at=last_year
    )
    services.app.assign_owner(old, owner="rep", team="sales", occurred_at=last_year)
    seller = services.app.capture_lead(name="Seller's", email="s@example.org", source="webinar")
    services.app.assign_owner(seller, owner="4ef15afb4b2723d8f3d81e51ec7afefe", team="sales")  # today
    services.projector.catch_up()
    assert sender_for(services, smtp, clock).run_once().sent == 0
    assert smtp.to("rep@example.org") == []
    assigned_lead(services, "rep")  # today, to a user: news
    assert sender_for(services, smtp, clock).run_once().sent == 1


def test_the_weekly_pack_is_announced_once_a_week_to_the_people_who_meet(
    services: Services, smtp: Smtp, clock: Clock
) -> None:
    tz = services.settings.tz
    for name, role in (("boss", "manager"), ("mia", "marketing"), ("rep", "sales"), ("audra", "auditor")):
        person(services, name, role, language="es")
    local = clock().astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    early = datetime.combine(monday, time(7, 59), tz)
    ready = datetime.combine(monday, time(9), tz)
    outbox_engine = services.projector.engine
    assert schedule_meeting_pack(services.read_engine, outbox_engine, early, tz) == 0  # not yet
    assert schedule_meeting_pack(services.read_engine, outbox_engine, ready, tz) == 3
    later = ready + timedelta(days=2)  # a scheduler restarted on Wednesday: nothing twice
    assert schedule_meeting_pack(services.read_engine, outbox_engine, later, tz) == 0
    assert sender_for(services, smtp, clock).run_once().sent == 3
    (mail,) = smtp.to("rep@example.org")
    assert mail["Subject"] == "El dosier de la reunión semanal está listo"
    assert "/meetings/weekly" in mail.get_content()
    assert smtp.to("audra@example.org") == []  # the auditor does not meet
