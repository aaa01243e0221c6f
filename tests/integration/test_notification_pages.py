"""The notification pages on both backends: the bell and the list, mark-read,
"Avisos por correo", the admin's mailbox and the import-finished notification.

Times are the notifications' own (set by the test or the events'); nothing depends
on the wall-clock hour or the machine's zone: expected times are formatted the way
the page does, in the team's zone from the settings.
"""

import io
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from email import message_from_bytes
from email.policy import default
from pathlib import Path

import pytest
from babel.dates import format_datetime
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from projections.engine.schema import to_db
from smarketing.bootstrap import Services
from smarketing.notifications import outbox, preferences
from smarketing.notifications.scheduler import schedule_meeting_pack
from smarketing.notifications.sender import Sender
from smarketing.notifications.transport import MailboxTransport
from smarketing.web.data import imports
from tests.integration.conftest import LoginFn, htmx

T = outbox.outbox


def assign(services: Services, owner: str) -> str:
    email = f"ana-{uuid.uuid4().hex[:8]}@example.org"  # a second lead needs its own address
    lead_id = services.app.capture_lead(name="Ana Pérez", email=email, source="webinar")
    services.app.assign_owner(lead_id, owner=owner, team="sales")
    services.projector.catch_up()
    return lead_id


def bell(client: FlaskClient) -> str:
    html = client.get("/notifications/").get_data(as_text=True)
    found = re.search(r'id="notification-bell".*?</a>', html, re.S)
    assert found, html[:2000]
    badge = re.search(r'class="badge">(\d+)<', found.group(0))
    return badge.group(1) if badge else "0"


def sender(services: Services, mailbox: Path) -> Sender:
    return Sender(
        outbox_engine=services.projector.engine,
        users_engine=services.write_engine,
        read_engine=services.read_engine,
        transport=MailboxTransport(mailbox),
        mail_from="smarketing@example.org",
        base_url="http://smarketing.example.org",
    )


def test_bell_goes_from_one_to_zero_after_mark_read(
    services: Services, make_web_app: Callable[..., Flask], login: LoginFn
) -> None:
    client = login(make_web_app().test_client(), "sales")
    assign(services, "test-sales")
    assert bell(client) == "1"
    (note,) = outbox.recent(services.projector.engine, "test-sales")
    marked = client.post(f"/notifications/{note['id']}/read", headers=htmx("notification-list"))
    assert marked.status_code == 200
    html = marked.get_data(as_text=True)
    assert 'hx-swap-oob="true"' in html and "<html" not in html  # the list and the bell, no page
    assert bell(client) == "0"
    assign(services, "test-sales")
    assert bell(client) == "1"
    plain = client.post("/notifications/read")  # without htmx: back to the list
    assert plain.status_code == 303 and bell(client) == "0"


def test_the_list_shows_the_assignment_in_spanish(
    services: Services, make_web_app: Callable[..., Flask], login: LoginFn
) -> None:
    client = login(make_web_app().test_client(), "sales", "es")
    lead_id = assign(services, "test-sales")
    (note,) = outbox.recent(services.projector.engine, "test-sales")
    html = client.get("/notifications/").get_data(as_text=True)
    assert "Notificaciones" in html and "Lead asignado a ti" in html
    assert f'href="/leads/{uuid.UUID(str(lead_id)).hex}">Ana Pérez</a>' in html
    shown = format_datetime(note["created_at"], "short", tzinfo=services.settings.timezone, locale="es")
    assert shown in html
    assert "Marcar como leída" in html and "Marcar todas como leídas" in html


def test_someone_else_s_notifications_stay_theirs(
    services: Services, make_web_app: Callable[..., Flask], login: LoginFn
) -> None:
    app = make_web_app()
    login(app.test_client(), "sales")  # test-sales is a user: only users are notified
    assign(services, "test-sales")
    (note,) = outbox.recent(services.projector.engine, "test-sales")
    other = login(app.test_client(), "marketing")
    assert "Ana Pérez" not in other.get("/notifications/").get_data(as_text=True)
    other.post(f"/notifications/{note['id']}/read")
    assert outbox.unread_count(services.projector.engine, "test-sales") == 1


def test_preferences_are_saved_and_bad_input_refused_in_spanish(
    services: Services, make_web_app: Callable[..., Flask], login: LoginFn
) -> None:
    client = login(make_web_app().test_client(), "sales", "es")
    page = client.get("/notifications/preferences")
    assert page.status_code == 200 and "Avisos por correo" in page.get_data(as_text=True)
    saved = client.post(
        "/notifications/preferences",
        data={"email": "rep@example.org", "language": "en", "kinds": ["assigned", "overdue"]},
    )
    assert saved.status_code == 200, saved.data[:500]
    who = preferences.recipient(services.write_engine, "test-sales")
    assert who is not None and who.email == "rep@example.org" and who.language == "en"
    assert who.disabled == {"rejected", "due_soon", "import_done", "meeting_pack"}
    bad = client.post(
        "/notifications/preferences",
        data={"email": "not an address", "language": "es", "kinds": ["assigned"]},
        headers=htmx("notification-preferences"),
    )
    html = bad.get_data(as_text=True)
    assert bad.status_code == 422
    assert "Dirección de correo: no es una dirección de correo electrónico" in html
    assert 'value="not an address"' in html and "<html" not in html  # the form, as typed
    for data in ({"email": "", "language": "fr"}, {"email": "", "language": "es", "kinds": "x"}):
        assert client.post("/notifications/preferences", data=data).status_code == 422
    assert preferences.recipient(services.write_engine, "test-sales") == who  # unchanged


def test_an_admin_reads_the_mailbox_and_sales_may_not(
    services: Services, make_web_app: Callable[..., Flask], login: LoginFn, tmp_path: Path
) -> None:
    app = make_web_app(MAILBOX_DIR=str(tmp_path / "mailbox"))
    admin = login(app.test_client(), "admin")
    assert "No mail written yet." in admin.get("/mail-sent/").get_data(as_text=True)
    rep = login(app.test_client(), "sales")
    preferences.save(
        services.write_engine, "test-sales", email="rep@example.org", language="en", enabled={"assigned"}
    )
    assign(services, "test-sales")
    assert sender(services, tmp_path / "mailbox").run_once().sent == 1
    listing = admin.get("/mail-sent/").get_data(as_text=True)
    assert "Lead assigned to you: Ana Pérez" in listing
    (name,) = re.findall(r'href="/mail-sent/([0-9a-f]{32})"', listing)
    one = admin.get(f"/mail-sent/{name}").get_data(as_text=True)
    assert "You are now the owner of this lead." in one and "/leads/" in one
    assert admin.get("/mail-sent/..%2Fsecret_key").status_code == 404
    assert rep.get("/mail-sent/").status_code == 403
    assert rep.get(f"/mail-sent/{name}").status_code == 403


def test_mail_is_shown_as_text_never_html(
    make_web_app: Callable[..., Flask], login: LoginFn, tmp_path: Path
) -> None:
    mailbox = tmp_path / "mailbox"
    mailbox.mkdir()
    name = "ab" * 16
    (mailbox / f"{name}.eml").write_text(
        "Subject: <script>alert(1)</script>\nTo: a@example.org\n\n<img src=x onerror=alert(2)>\n"
    )
    admin = login(make_web_app(MAILBOX_DIR=str(mailbox)).test_client(), "admin")
    for url in ("/mail-sent/", f"/mail-sent/{name}"):
        html = admin.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;" in html


LEADS = "key,name,email,source,captured_at\nk1,Ana Ruiz,ana@example.com,paid_search,2025-03-03\n"


def test_a_finished_web_import_notifies_its_starter_once(
    services: Services, make_web_app: Callable[..., Flask], login: LoginFn, tmp_path: Path
) -> None:
    client = login(make_web_app().test_client(), "manager")
    preferences.save(
        services.write_engine, "test-manager", email="m@example.org", language="es", enabled=set(outbox.KINDS)
    )
    uploaded = client.post(
        "/import/", data={"file": (io.BytesIO(LEADS.encode()), "l.csv"), "preset": "leads"}
    )
    upload = uploaded.headers["Location"].split("/")[2]
    form = {"preset": "leads", "tz": "Europe/Madrid"} | {
        f"col_{f}": f for f in ("key", "name", "email", "source", "captured_at")
    }
    assert client.post(f"/import/{upload}/run", data=form).status_code == 303
    rows: list = []
    for _ in range(400):  # the import runs in a background thread
        with services.projector.engine.connect() as conn:
            rows = list(conn.execute(select(T).where(T.c.kind == outbox.IMPORT_DONE)))
        if rows:
            break
        time.sleep(0.05)
    assert [(r.recipient, r.detail) for r in rows] == [("test-manager", "1/1")]
    mailbox = tmp_path / "mailbox"
    assert sender(services, mailbox).run_once().sent == 1
    assert sender(services, mailbox).run_once().sent == 0
    (eml,) = mailbox.glob("*.eml")
    parsed = message_from_bytes(eml.read_bytes(), policy=default)
    assert parsed["To"] == "m@example.org" and parsed["Subject"] == "Tu importación ha terminado"


def test_an_import_whose_notification_fails_is_still_reported_done(
    services: Services, make_web_app: Callable[..., Flask], login: LoginFn, monkeypatch: pytest.MonkeyPatch
) -> None:
    def outbox_unwritable(*args: object) -> int:
        raise RuntimeError("the outbox cannot be written")

    monkeypatch.setattr(imports, "import_finished", outbox_unwritable)
    client = login(make_web_app().test_client(), "manager")
    uploaded = client.post(
        "/import/", data={"file": (io.BytesIO(LEADS.encode()), "l.csv"), "preset": "leads"}
    )
    upload = uploaded.headers["Location"].split("/")[2]
    form = {"preset": "leads", "tz": "Europe/Madrid"} | {
        f"col_{f}": f for f in ("key", "name", "email", "source", "captured_at")
    }
    job_id = client.post(f"/import/{upload}/run", data=form).headers["Location"].rstrip("/").split("/")[-1]
    for _ in range(400):  # the import runs in a background thread
        if imports.JOBS[job_id].finished:
            break
        time.sleep(0.05)
    job = imports.JOBS[job_id]
    assert job.failure is None and job.result is not None and job.result.imported == 1
    assert services.app.lead_id_for_email("ana@example.com") is not None


def test_a_cli_import_notifies_the_named_user_once(
    services: Services, make_web_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app = make_web_app()
    path = tmp_path / "leads.csv"
    path.write_text(LEADS, encoding="utf-8")
    run = app.test_cli_runner().invoke(args=["import", "leads", str(path), "--notify", "boss"])
    assert run.exit_code == 0, run.output
    dry = app.test_cli_runner().invoke(args=["import", "leads", str(path), "--dry-run", "--notify", "boss"])
    assert dry.exit_code == 0, dry.output
    rows = outbox.recent(services.projector.engine, "boss")
    assert [(r["kind"], r["detail"]) for r in rows] == [(outbox.IMPORT_DONE, "1/1")]
    assert isinstance(rows[0]["created_at"], datetime)


def test_the_list_reads_deadlines_and_weeks_in_words(
    services: Services, make_web_app: Callable[..., Flask], login: LoginFn
) -> None:
    client = login(make_web_app().test_client(), "sales", "es")
    tz = services.settings.tz
    local = datetime.now(UTC).astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    ready = datetime.combine(monday, time_of_day(9), tz)
    assert schedule_meeting_pack(services.read_engine, services.projector.engine, ready, tz) == 1
    lead_id = assign(services, "test-sales")
    due = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    now, lead_key = to_db(datetime.now(UTC)), uuid.UUID(lead_id).hex
    overdue = outbox.row("0" * 32, outbox.OVERDUE, "test-sales", now, lead_key, due.isoformat())
    with services.projector.engine.begin() as conn:
        outbox.add(conn, [overdue])
    html = client.get("/notifications/").get_data(as_text=True)
    year, week, _ = monday.isocalendar()
    assert f"semana {week} de {year}" in html and f"{year}-W" not in html
    assert 'href="/meetings/weekly"' in html
    when = format_datetime(due, "short", tzinfo=services.settings.timezone, locale="es")
    assert f"vence {when}" in html and due.isoformat() not in html
